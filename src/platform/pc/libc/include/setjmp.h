/* NeoBoot pc libc: <setjmp.h> (callee-saved registers, rsp, return rip). */
#ifndef _NB_LIBC_SETJMP_H
#define _NB_LIBC_SETJMP_H

typedef unsigned long jmp_buf[8];

int setjmp(jmp_buf env) __attribute__((returns_twice));
_Noreturn void longjmp(jmp_buf env, int val);

#endif
