# Source lists shared by the hosted build and the bare-metal (pc) build.
# Core sources must be freestanding-clean (see include/neoboot/platform.h).
set(NB_CORE_SOURCES
  src/abi/caps.c
  src/abi/handles.c
  src/abi/neoboot_abi.c
  src/abi/netinfo.c
  src/lib/err.c
  src/lib/log.c
  src/net/addr.c
  src/net/iface.c
  src/net/loop.c
  src/net/net_init.c
  src/net/pkt.c
  src/net/socket.c
  src/net/vsock/vsock.c
  src/shell/shell.c
  src/svc/svc.c
  src/wasm/decode.c
  src/wasm/translate.c
  src/wasm/interp.c
  src/wasm/runtime.c
  src/abi/wasi.c
)

set(NB_HOSTED_SOURCES
  src/platform/hosted/cmd_run.c
  src/platform/hosted/cmd_serve.c
  src/platform/hosted/hvbridge.c
  src/platform/hosted/instance.c
  src/platform/hosted/memlink.c
  src/platform/hosted/platform.c
  src/platform/hosted/relay.c
  src/platform/hosted/vsock_uds.c
  src/platform/hosted/cmd_wasm.c
)
