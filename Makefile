# Thin wrapper over CMake: the README's two commands are `make run` and
# `make test`. Both install what is missing first (scripts/setup.sh).
.PHONY: all setup build release run demo test conformance bench bench-wasm bench-pc clean image

DEBUG_DIR   ?= build/debug
RELEASE_DIR ?= build/release
CMAKE_GEN   := -G Ninja
JOBS        ?= $(shell nproc)

all: build

setup:
	@bash scripts/setup.sh

$(DEBUG_DIR)/build.ninja:
	cmake -S . -B $(DEBUG_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang

$(RELEASE_DIR)/build.ninja:
	cmake -S . -B $(RELEASE_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang

build: setup $(DEBUG_DIR)/build.ninja
	cmake --build $(DEBUG_DIR) -j $(JOBS)

release: setup $(RELEASE_DIR)/build.ninja
	cmake --build $(RELEASE_DIR) -j $(JOBS)

# The main job: NeoBoot on (emulated) bare metal serving HTTP from a
# bundled WebAssembly app. The image is neoboot.elf with the app inside
# (neoboot image build); neoboot qemu boots it (KVM if it works, else TCG)
# with the guest's port 80 forwarded to RUN_PORT on 127.0.0.1.
RUN_PORT ?= 8080
RUN_APP  ?= $(RELEASE_DIR)/apps/httpd.wasm
RUN_IMG  := $(RELEASE_DIR)/neoboot-httpd.elf
run: release
	$(RELEASE_DIR)/neoboot image build --app $(RUN_APP) --name httpd --arg --port --arg 80 \
	    --allow-listen tcp:80 -o $(RUN_IMG)
	@echo
	@echo "httpd is at http://127.0.0.1:$(RUN_PORT)/  (serial console below; Ctrl-A X quits)"
	@echo
	$(RELEASE_DIR)/neoboot qemu --mem 128M -p $(RUN_PORT):80 $(RUN_IMG)

# The hosted demo: vsock echo + stats behind ./neoboot.vsock.
demo: release
	$(RELEASE_DIR)/neoboot demo

# Everything under ctest, debug build with ASan+UBSan.
test: build release
	cd $(DEBUG_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

# The bare-metal pc image alone: build/pc/neoboot.elf (docs/pc.md).
PC_DIR ?= build/pc
image: setup
	cmake -S src/platform/pc -B $(PC_DIR) $(CMAKE_GEN) -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/toolchain-pc.cmake
	cmake --build $(PC_DIR) -j $(JOBS)
	@ls -l $(PC_DIR)/neoboot.elf

# The WebAssembly 2.0 spec tests alone (converted into the build directory).
conformance: build
	cd $(DEBUG_DIR) && ctest -R wasm_conformance --output-on-failure

bench: release
	bash bench/run.sh $(RELEASE_DIR)

bench-wasm: release
	bash bench/wasm/run.sh $(RELEASE_DIR)

# NeoBoot on pc vs iPXE: boot to network up, download throughput (TAP).
bench-pc: release
	bash bench/pc/run.sh $(RELEASE_DIR)

clean:
	rm -rf build
