#!/usr/bin/env bash
# Install what a fresh Debian 12 machine lacks to build, run and test NeoBoot,
# and fetch third-party sources from Debian's source packages into
# third_party/ (git-ignored), checking their sha256. Idempotent: a second run
# installs and downloads nothing.
set -euo pipefail

top="$(cd "$(dirname "$0")/.." && pwd)"
tp="$top/third_party"

# Debian packages, with what each is for (README lists them too).
pkgs=(
  build-essential cmake ninja-build pkg-config   # the build
  clang lld libclang-rt-14-dev                   # sanitizers, libFuzzer
  wasi-libc libclang-rt-14-dev-wasm32            # wasm apps (clang --target=wasm32-wasi)
  llvm                                           # llvm-ar: the SDK's libneoboot.a (wasm objects)
  libcmocka-dev                                  # unit tests
  libcjson-dev                                   # wasm spec-test runner (reads wast2json output)
  libslirp-dev                                   # unprivileged user-mode networking
  wabt binaryen                                  # wasm reference tools (spec tests, fuzzing)
  qemu-system-x86 qemu-utils                     # running NeoBoot images
  ovmf                                           # UEFI firmware for QEMU (neoboot qemu --uefi)
  grub-common grub-pc-bin grub-efi-amd64-bin     # neoboot image iso: GRUB for BIOS and UEFI
  xorriso mtools                                 # grub-mkrescue's ISO and EFI-partition tools
  socat curl python3 iproute2 dnsmasq-base       # real peers in integration tests
  python3-pexpect                                # driving consoles (shell, serial) in tests
  iputils-ping                                   # pc image tests: ping over TAP
  wrk tshark busybox-static ipxe ipxe-qemu      # load, capture, netboot peers
  netcat-openbsd                                 # SDK tests: nc against echo.wasm
  nginx-light                                    # bench/http: the reference web server
  xz-utils dpkg-dev ca-certificates
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Third-party sources: Debian source packages through a private apt config
# (deb-src entry of its own; the system's apt configuration is untouched).
fetch_source() { # name version orig-tarball sha256 dest-dir
  local name=$1 version=$2 orig=$3 sum=$4 dest=$5
  if [ -f "$dest/.neoboot-verified" ]; then return 0; fi
  local aptdir="$top/.cache/apt"
  mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/etc/sources.list.d" "$top/.cache/src"
  local mirror
  mirror=$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
           | head -n1 | tr -d ' ' || true)
  mirror=${mirror%/}
  [ -n "$mirror" ] || { echo "setup: no Debian mirror found in /etc/apt" >&2; exit 1; }
  echo "deb-src $mirror bookworm main" > "$aptdir/etc/sources.list"
  local opts=(-o Dir::Etc::SourceList="$aptdir/etc/sources.list"
              -o Dir::Etc::SourceParts="$aptdir/etc/sources.list.d"
              -o Dir::State::Lists="$aptdir/lists"
              -o Dir::Cache::archives="$aptdir/archives")
  if [ ! -f "$top/.cache/src/$orig" ]; then
    apt-get "${opts[@]}" update -q >/dev/null
    (cd "$top/.cache/src" && apt-get "${opts[@]}" source --download-only -q "$name=$version" >/dev/null)
  fi
  echo "$sum  $top/.cache/src/$orig" | sha256sum -c --quiet - \
    || { echo "setup: checksum mismatch for $orig" >&2; exit 1; }
  rm -rf "$dest" && mkdir -p "$dest"
  tar -xf "$top/.cache/src/$orig" -C "$dest" --strip-components=1
  touch "$dest/.neoboot-verified"
  echo "setup: $name $version unpacked into ${dest#$top/}"
}

fetch_source lwip 2.1.3+dfsg1-2 lwip_2.1.3+dfsg1.orig.tar.xz \
  0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24 "$tp/lwip"

# Debian's own Linux kernel for the network-boot tests: the package the
# linux-image-cloud-amd64 metapackage currently depends on (small, with
# virtio and a serial console), downloaded by apt (which checks it against
# the archive's signed index); its vmlinuz is extracted into third_party/linux.
fetch_kernel() {
  local dest="$tp/linux"
  if [ -f "$dest/.neoboot-verified" ] && [ -f "$dest/vmlinuz" ]; then return 0; fi
  local pkg
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  if [ -z "$pkg" ]; then
    sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -q >/dev/null
    pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  fi
  [ -n "$pkg" ] || { echo "setup: cannot find Debian's cloud kernel package" >&2; exit 1; }
  local work="$top/.cache/kernel"
  rm -rf "$work" && mkdir -p "$work" "$dest"
  (cd "$work" && apt-get download -q "$pkg" >/dev/null 2>&1) \
    || { echo "setup: downloading $pkg failed" >&2; exit 1; }
  dpkg-deb --fsys-tarfile "$work"/*.deb | tar -x -C "$work" --wildcards './boot/vmlinuz-*'
  cp "$work"/boot/vmlinuz-* "$dest/vmlinuz"
  echo "$pkg" > "$dest/package"
  (cd "$dest" && sha256sum vmlinuz > vmlinuz.sha256)
  rm -rf "$work"
  touch "$dest/.neoboot-verified"
  echo "setup: $pkg kernel in ${dest#$top/}"
}
fetch_kernel

echo "setup: ok"
