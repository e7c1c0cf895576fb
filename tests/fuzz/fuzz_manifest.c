/* libFuzzer target for netboot.wasm's boot manifest parser (outside input:
 * it comes from a URL named by DHCP). Accepted manifests must be
 * internally consistent. */
#include "manifest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct manifest m;
    const char *why;
    if (manifest_parse((const char *)data, size, "http://10.0.2.2:8000/boot/m.json", &m, &why) == 0) {
        if (!m.kernel.present || strncmp(m.kernel.url, "http://", 7) != 0 || why)
            abort();
        if (m.initrd.present && strncmp(m.initrd.url, "http://", 7) != 0)
            abort();
        for (const char *c = m.cmdline; *c; c++)
            if ((unsigned char)*c < 0x20)
                abort();
    } else if (!why) {
        abort();
    }
    return 0;
}
