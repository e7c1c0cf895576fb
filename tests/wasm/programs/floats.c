/* Test program: floating point arithmetic, conversions and rounding. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static volatile double vd[] = {0.5, 1.5, 2.5, -0.5, -1.5, 2.4999999, 1e300, -1e-300, 123.456};
static volatile float vf[] = {0.1f, 1.5f, -2.5f, 3.4028235e38f, 1e-45f, 16777217.0f};

int main(void)
{
    for (size_t i = 0; i < sizeof vd / sizeof vd[0]; i++) {
        double d = vd[i];
        printf("%-12g floor=%g ceil=%g trunc=%g round=%g rint=%g fabs=%g sqrt=%.17g\n", d,
               floor(d), ceil(d), trunc(d), round(d), rint(d), fabs(d), sqrt(fabs(d)));
    }
    for (size_t i = 0; i < sizeof vf / sizeof vf[0]; i++) {
        float f = vf[i];
        uint32_t bits;
        memcpy(&bits, &f, 4);
        printf("%.9g bits=%08x double=%.17g x3=%.9g /7=%.9g\n", f, bits, (double)f, f * 3.0f,
               f / 7.0f);
    }
    double acc = 1.0;
    for (int i = 0; i < 100; i++)
        acc = acc * 1.0001 + 1e-9 * i - acc / 3e7;
    printf("acc=%.17g\n", acc);
    printf("fmod=%.17g %.17g remainder=%.17g\n", fmod(10.5, 3.0), fmod(-7.25, 2.0),
           remainder(10.5, 3.0));
    printf("conv: %d %u %lld %llu %d\n", (int)-3.99, (unsigned)3.99, (long long)-1e18,
           (unsigned long long)1.8e19, (int)(float)16777217);
    printf("i2f: %.9g %.17g %.17g\n", (float)(1 << 24 | 1), (double)INT64_MAX,
           (double)(uint64_t)UINT64_MAX);
    printf("limits: %.17g %.17g %.9g %.9g\n", DBL_MAX, DBL_MIN, FLT_MAX, FLT_EPSILON);
    printf("specials: %g %g %d %d\n", INFINITY - INFINITY, -INFINITY, isnan(NAN) != 0, isinf(-INFINITY) != 0); /* glibc: -1 for -inf */
    /* Transcendentals: printed to 10 digits (libm implementations may
     * differ in the last bit; the engine is not what that would test). */
    printf("math: %.10g %.10g %.10g %.10g %.10g %.10g\n", sin(1.0), cos(2.0), exp(1.5), log(10.0),
           pow(2.0, 0.5), atan2(1.0, -1.0));
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 10000; i++) {
        double v = sqrt((double)i) * 1.5 - (double)i / 7.0;
        uint64_t b;
        memcpy(&b, &v, 8);
        h = (h ^ b) * 1099511628211ull;
    }
    printf("hash of 10000 sqrt results: %016llx\n", (unsigned long long)h);
    return 0;
}
