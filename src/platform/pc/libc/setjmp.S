/*
 * NeoBoot pc libc: setjmp/longjmp (System V x86_64). Saves the callee-saved
 * registers, the stack pointer and the return address; the FPU/SSE control
 * state is left alone (nothing here changes it).
 */
    .text
    .globl setjmp
    .type setjmp, @function
setjmp:
    mov %rbx, 0(%rdi)
    mov %rbp, 8(%rdi)
    mov %r12, 16(%rdi)
    mov %r13, 24(%rdi)
    mov %r14, 32(%rdi)
    mov %r15, 40(%rdi)
    lea 8(%rsp), %rdx          /* rsp as it will be after our ret */
    mov %rdx, 48(%rdi)
    mov (%rsp), %rdx           /* return address */
    mov %rdx, 56(%rdi)
    xor %eax, %eax
    ret
    .size setjmp, . - setjmp

    .globl longjmp
    .type longjmp, @function
longjmp:
    mov %esi, %eax
    test %eax, %eax
    jnz 1f
    inc %eax                   /* longjmp(env, 0) returns 1 */
1:  mov 0(%rdi), %rbx
    mov 8(%rdi), %rbp
    mov 16(%rdi), %r12
    mov 24(%rdi), %r13
    mov 32(%rdi), %r14
    mov 40(%rdi), %r15
    mov 48(%rdi), %rsp
    jmp *56(%rdi)
    .size longjmp, . - longjmp

    .section .note.GNU-stack, "", @progbits
