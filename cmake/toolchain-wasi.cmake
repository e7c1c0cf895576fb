# Toolchain for NeoBoot apps and the SDK library (sdk/): Debian's clang
# targeting wasm32-wasi with Debian's wasi-libc as the sysroot (clang
# finds it by itself), wasm-ld from lld, and llvm-ar, because an archive
# of wasm objects needs an index that only LLVM's ar writes.
# CMake 3.25 does not know WASI as a system: Generic it is.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(CMAKE_C_COMPILER clang)
set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
find_program(NB_LLVM_AR NAMES llvm-ar llvm-ar-14 REQUIRED)
find_program(NB_LLVM_RANLIB NAMES llvm-ranlib llvm-ranlib-14 REQUIRED)
set(CMAKE_AR ${NB_LLVM_AR} CACHE FILEPATH "" FORCE)
set(CMAKE_RANLIB ${NB_LLVM_RANLIB} CACHE FILEPATH "" FORCE)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
