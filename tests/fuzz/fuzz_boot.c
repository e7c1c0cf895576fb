/*
 * libFuzzer target for the parsers on NeoBoot's own boot path, all of
 * which read bytes from the network: URLs (from manifests and DHCP),
 * HTTP response heads, chunked framing (fed in random splits, which must
 * decode exactly as the whole), and Linux bzImage headers. The first input
 * byte picks the parser.
 */
#include <neoboot/boot.h>
#include <neoboot/err.h>
#include <neoboot/http.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t which = data[0];
    data++;
    size--;
    switch (which % 4) {
    case 0: {
        char *s = malloc(size + 1);
        memcpy(s, data, size);
        s[size] = 0;
        struct nb_url u;
        if (nb_url_parse(s, &u) == 0) {
            if (u.port == 0 || u.path[0] != '/' || !u.host[0])
                abort();
        }
        free(s);
        break;
    }
    case 1: {
        struct nb_http_head h;
        int n = nb_http_parse_head((const char *)data, size, &h);
        if (n > 0 && ((size_t)n > size || (h.chunked && h.has_length)))
            abort();
        break;
    }
    case 2: {
        /* whole vs split decoding must agree */
        uint8_t *a = malloc(size + 1), *b = malloc(size + 1);
        memcpy(a, data, size);
        memcpy(b, data, size);
        struct nb_chunked c1, c2;
        nb_chunked_init(&c1);
        nb_chunked_init(&c2);
        size_t used;
        long whole = nb_chunked_decode(&c1, a, size, &used);
        long total = 0;
        size_t off = 0, step = size ? 1 + data[0] % 7 : 1;
        bool bad = false;
        uint8_t *out = malloc(size + 1);
        while (off < size && !c2.done) {
            size_t n = step < size - off ? step : size - off;
            size_t u2;
            long d = nb_chunked_decode(&c2, b + off, n, &u2);
            if (d < 0) {
                bad = true;
                break;
            }
            memcpy(out + total, b + off, (size_t)d);
            total += d;
            off += u2;
        }
        if (whole >= 0 && !bad && (total != whole || memcmp(out, a, (size_t)total) != 0))
            abort();
        free(a);
        free(b);
        free(out);
        break;
    }
    case 3: {
        struct nb_bzimage h;
        const char *why;
        if (nb_bzimage_parse(data, size, &h, &why) == 0) {
            if ((size_t)h.setup_size + h.kernel_size != size || h.init_size < h.kernel_size)
                abort();
        } else if (!why) {
            abort();
        }
        break;
    }
    }
    return 0;
}
