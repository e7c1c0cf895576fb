# Source lists shared by the hosted build and the bare-metal (pc) build.
# Core sources must be freestanding-clean (see include/neoboot/platform.h).
set(NB_CORE_SOURCES
  src/lib/err.c
  src/lib/log.c
  src/wasm/decode.c
  src/wasm/translate.c
  src/wasm/interp.c
  src/wasm/runtime.c
  src/abi/wasi.c
)

set(NB_HOSTED_SOURCES
  src/platform/hosted/platform.c
  src/platform/hosted/cmd_wasm.c
)
