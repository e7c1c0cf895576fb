# Toolchain for the bare-metal pc image (src/platform/pc): Debian's gcc 12
# and binutils, freestanding, no host libc. The flags that make code fit
# for ring 0 (no red zone, no PIC, SSE but no AVX, frame pointers for stack
# traces) are set in src/platform/pc/CMakeLists.txt.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_ASM_COMPILER gcc)
# try_compile cannot link a program without a libc: test with archives.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
