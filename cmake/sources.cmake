# Source lists shared by the hosted build and the bare-metal (pc) build.
# Core sources must be freestanding-clean (see include/neoboot/platform.h).
set(NB_CORE_SOURCES
  src/abi/boot_abi.c
  src/abi/caps.c
  src/abi/handles.c
  src/abi/neoboot_abi.c
  src/abi/netinfo.c
  src/boot/chain.c
  src/boot/http.c
  src/boot/linux.c
  src/lib/err.c
  src/lib/log.c
  src/lib/sha256.c
  src/net/addr.c
  src/net/iface.c
  src/net/loop.c
  src/net/net_init.c
  src/net/pkt.c
  src/net/socket.c
  src/net/vsock/vsock.c
  src/net/inet/inet.c
  src/net/inet/netif.c
  src/net/inet/tcp.c
  src/net/inet/udp.c
  src/net/inet/dhcp4.c
  src/net/inet/dns.c
  src/net/inet/ping.c
  src/net/inet/config.c
  src/net/inet/port.c
  src/shell/cmd_app.c
  src/shell/cmd_boot.c
  src/shell/console.c
  src/shell/lineedit.c
  src/shell/memfile.c
  src/shell/shell.c
  src/shell/cmd_net.c
  src/svc/svc.c
  src/wasm/decode.c
  src/wasm/translate.c
  src/wasm/interp.c
  src/wasm/runtime.c
  src/abi/wasi.c
  src/boot/appcfg.c
  src/boot/bundle.c
  src/boot/runner.c
)

set(NB_HOSTED_SOURCES
  src/platform/hosted/boot.c
  src/platform/hosted/cmd_run.c
  src/platform/hosted/cmd_net.c
  src/platform/hosted/cmd_serve.c
  src/platform/hosted/hvbridge.c
  src/platform/hosted/instance.c
  src/platform/hosted/memlink.c
  src/platform/hosted/pcap.c
  src/platform/hosted/platform.c
  src/platform/hosted/relay.c
  src/platform/hosted/slirp.c
  src/platform/hosted/tap.c
  src/platform/hosted/vsock_uds.c
  src/platform/hosted/cmd_wasm.c
  src/platform/hosted/cmd_image.c
  src/platform/hosted/cmd_qemu.c
)

# lwIP 2.1.3, unpacked by scripts/setup.sh from Debian's source package
# (never committed). The inet family (src/net/inet, in NB_CORE_SOURCES)
# needs it; the pc build compiles the same list with the same include
# directories. lwIP's own files get NB_LWIP_COMPILE_OPTIONS (relaxed
# warnings; third-party code only), NeoBoot's files keep -Werror.
if(NOT DEFINED NB_THIRD_PARTY)
  set(NB_THIRD_PARTY ${CMAKE_CURRENT_LIST_DIR}/../third_party)
endif()
set(NB_LWIP_DIR ${NB_THIRD_PARTY}/lwip)
set(NB_LWIP_SOURCES
  ${NB_LWIP_DIR}/src/core/init.c
  ${NB_LWIP_DIR}/src/core/def.c
  ${NB_LWIP_DIR}/src/core/dns.c
  ${NB_LWIP_DIR}/src/core/inet_chksum.c
  ${NB_LWIP_DIR}/src/core/ip.c
  ${NB_LWIP_DIR}/src/core/mem.c
  ${NB_LWIP_DIR}/src/core/memp.c
  ${NB_LWIP_DIR}/src/core/netif.c
  ${NB_LWIP_DIR}/src/core/pbuf.c
  ${NB_LWIP_DIR}/src/core/raw.c
  ${NB_LWIP_DIR}/src/core/stats.c
  ${NB_LWIP_DIR}/src/core/sys.c
  ${NB_LWIP_DIR}/src/core/tcp.c
  ${NB_LWIP_DIR}/src/core/tcp_in.c
  ${NB_LWIP_DIR}/src/core/tcp_out.c
  ${NB_LWIP_DIR}/src/core/timeouts.c
  ${NB_LWIP_DIR}/src/core/udp.c
  ${NB_LWIP_DIR}/src/core/ipv4/etharp.c
  ${NB_LWIP_DIR}/src/core/ipv4/icmp.c
  ${NB_LWIP_DIR}/src/core/ipv4/ip4_frag.c
  ${NB_LWIP_DIR}/src/core/ipv4/ip4.c
  ${NB_LWIP_DIR}/src/core/ipv4/ip4_addr.c
  ${NB_LWIP_DIR}/src/core/ipv6/ethip6.c
  ${NB_LWIP_DIR}/src/core/ipv6/icmp6.c
  ${NB_LWIP_DIR}/src/core/ipv6/inet6.c
  ${NB_LWIP_DIR}/src/core/ipv6/ip6.c
  ${NB_LWIP_DIR}/src/core/ipv6/ip6_addr.c
  ${NB_LWIP_DIR}/src/core/ipv6/ip6_frag.c
  ${NB_LWIP_DIR}/src/core/ipv6/mld6.c
  ${NB_LWIP_DIR}/src/core/ipv6/nd6.c
  ${NB_LWIP_DIR}/src/netif/ethernet.c
)
# lwipopts.h and arch/cc.h live in src/net/inet.
set(NB_LWIP_INCLUDE_DIRS
  ${CMAKE_CURRENT_LIST_DIR}/../src/net/inet
  ${NB_LWIP_DIR}/src/include
)
# lwIP 2.1.3 writes ip_2_ip6(ip6_select_source_address(...)) before checking
# for NULL: member access through a null pointer at offset 0, harmless in
# practice but undefined, and UBSan stops there (found by fuzz_inet). Those
# two files skip that one check.
set(NB_LWIP_NULL_UB_SOURCES
  ${NB_LWIP_DIR}/src/core/ipv6/ip6.c
  ${NB_LWIP_DIR}/src/core/ipv6/icmp6.c
)
set(NB_LWIP_COMPILE_OPTIONS -Wno-error -Wno-unused-parameter -Wno-missing-prototypes
    -Wno-shadow -Wno-strict-prototypes -Wno-sign-compare -Wno-unused-but-set-variable
    -Wno-tautological-constant-out-of-range-compare)
