/*
 * NeoBoot pc libc: the libm subset the WebAssembly engine needs.
 *
 * Results are exact (these operations are exact in IEEE 754; there is no
 * approximation to get wrong): sqrt uses the SSE2 square-root instruction,
 * the rounding functions manipulate the bits or use the 2^52 trick in the
 * current (round-to-nearest-even) mode. A NaN input yields a quiet NaN, as
 * WebAssembly's arithmetic-NaN rule requires. Floating-point exception
 * flags are not maintained.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t bits64(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}
static inline double from64(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}
static inline uint32_t bits32(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}
static inline float from32(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

double fabs(double x) { return from64(bits64(x) & ~(1ull << 63)); }
float fabsf(float x) { return from32(bits32(x) & ~(1u << 31)); }

double copysign(double x, double y)
{
    return from64((bits64(x) & ~(1ull << 63)) | (bits64(y) & (1ull << 63)));
}
float copysignf(float x, float y)
{
    return from32((bits32(x) & ~(1u << 31)) | (bits32(y) & (1u << 31)));
}

double sqrt(double x)
{
    double r;
    __asm__("sqrtsd %1, %0" : "=x"(r) : "x"(x));
    return r;
}
float sqrtf(float x)
{
    float r;
    __asm__("sqrtss %1, %0" : "=x"(r) : "x"(x));
    return r;
}

double trunc(double x)
{
    uint64_t u = bits64(x);
    int e = (int)((u >> 52) & 0x7ff) - 1023;
    if (e >= 52)
        return e == 1024 ? x + x : x; /* integral already; NaN made quiet */
    if (e < 0)
        return from64(u & (1ull << 63));
    uint64_t frac = 0x000fffffffffffffull >> e;
    return from64(u & ~frac);
}
float truncf(float x)
{
    uint32_t u = bits32(x);
    int e = (int)((u >> 23) & 0xff) - 127;
    if (e >= 23)
        return e == 128 ? x + x : x;
    if (e < 0)
        return from32(u & (1u << 31));
    uint32_t frac = 0x007fffffu >> e;
    return from32(u & ~frac);
}

double floor(double x)
{
    double t = trunc(x);
    return t > x ? t - 1.0 : t;
}
float floorf(float x)
{
    float t = truncf(x);
    return t > x ? t - 1.0f : t;
}

double ceil(double x)
{
    double t = trunc(x);
    /* ceil(-0.5) is -0.0: copysign keeps the zero's sign */
    return t < x ? copysign(t + 1.0, x) : t;
}
float ceilf(float x)
{
    float t = truncf(x);
    return t < x ? copysignf(t + 1.0f, x) : t;
}

/*
 * Round to integral in the current mode: for |x| < 2^52, adding and
 * subtracting 2^52 leaves no fraction bits, and the hardware's rounding
 * does the rest. volatile keeps the compiler from folding the pair away.
 */
double rint(double x)
{
    uint64_t u = bits64(x);
    int e = (int)((u >> 52) & 0x7ff) - 1023;
    if (e >= 52)
        return e == 1024 ? x + x : x;
    volatile double big = 0x1p52;
    double y = (u >> 63) ? (x - big) + big : (x + big) - big;
    return copysign(y, x);
}
float rintf(float x)
{
    uint32_t u = bits32(x);
    int e = (int)((u >> 23) & 0xff) - 127;
    if (e >= 23)
        return e == 128 ? x + x : x;
    volatile float big = 0x1p23f;
    float y = (u >> 31) ? (x - big) + big : (x + big) - big;
    return copysignf(y, x);
}

double nearbyint(double x) { return rint(x); }
float nearbyintf(float x) { return rintf(x); }

double round(double x)
{
    double t = trunc(x);
    if (fabs(x - t) >= 0.5)
        t += copysign(1.0, x);
    return t;
}
float roundf(float x)
{
    float t = truncf(x);
    if (fabsf(x - t) >= 0.5f)
        t += copysignf(1.0f, x);
    return t;
}

/* C semantics: a NaN operand is ignored; -0 is smaller than +0. */
double fmin(double x, double y)
{
    if (isnan(x))
        return isnan(y) ? x + y : y; /* two NaNs: a quiet one */
    if (isnan(y))
        return x;
    if (x == y)
        return signbit(x) ? x : y;
    return x < y ? x : y;
}
double fmax(double x, double y)
{
    if (isnan(x))
        return isnan(y) ? x + y : y; /* two NaNs: a quiet one */
    if (isnan(y))
        return x;
    if (x == y)
        return signbit(x) ? y : x;
    return x > y ? x : y;
}
float fminf(float x, float y)
{
    if (isnan(x))
        return isnan(y) ? x + y : y; /* two NaNs: a quiet one */
    if (isnan(y))
        return x;
    if (x == y)
        return signbit(x) ? x : y;
    return x < y ? x : y;
}
float fmaxf(float x, float y)
{
    if (isnan(x))
        return isnan(y) ? x + y : y; /* two NaNs: a quiet one */
    if (isnan(y))
        return x;
    if (x == y)
        return signbit(x) ? y : x;
    return x > y ? x : y;
}

double ldexp(double x, int e)
{
    /* scale in steps that cannot overflow the exponent field */
    while (e > 1000) {
        x *= 0x1p1000;
        e -= 1000;
    }
    while (e < -1000) {
        x *= 0x1p-1000;
        e += 1000;
    }
    return x * from64((uint64_t)(e + 1023) << 52);
}

double frexp(double x, int *e)
{
    uint64_t u = bits64(x);
    int ex = (int)((u >> 52) & 0x7ff);
    if (ex == 0) {
        if (x == 0) {
            *e = 0;
            return x;
        }
        x *= 0x1p64; /* subnormal: normalise first */
        u = bits64(x);
        ex = (int)((u >> 52) & 0x7ff) - 64;
    } else if (ex == 0x7ff) {
        *e = 0;
        return x;
    }
    *e = ex - 1022;
    return from64((u & ~(0x7ffull << 52)) | (0x3feull << 52));
}
