/*
 * Interrupt and exception entry stubs: one per vector, all funnelling into
 * isr_common, which saves every general register (struct nb_pc_frame in
 * pc.h) and the FPU/SSE state (fxsave), calls nb_pc_trap_entry(frame), and
 * restores. Saving the SSE state means handlers are ordinary C compiled
 * with SSE enabled, like all other code, and can never corrupt the
 * floating-point registers of the code they interrupted (the wasm engine).
 * nb_pc_isr_table lists the stubs for trap.c to put in the IDT.
 */
    .text

/* vectors whose exceptions push an error code themselves */
#define HAS_ERR(n) ((n) == 8 || (n) == 10 || (n) == 11 || (n) == 12 || \
                    (n) == 13 || (n) == 14 || (n) == 17 || (n) == 21 || \
                    (n) == 29 || (n) == 30)

    .macro isr_stub n
    .balign 16
isr_stub_\n:
    .if HAS_ERR(\n)
    .else
    pushq $0
    .endif
    pushq $\n
    jmp isr_common
    .endm

    .altmacro
    .set vec, 0
    .rept 256
    isr_stub %vec
    .set vec, vec + 1
    .endr

    .balign 16
isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rbx             /* the frame; rbx survives the call */
    sub $512, %rsp
    and $-16, %rsp
    fxsave (%rsp)
    cld
    mov %rbx, %rdi
    call nb_pc_trap_entry
    fxrstor (%rsp)
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp              /* vector, error code */
    iretq

    .section .rodata
    .balign 8
    .globl nb_pc_isr_table
nb_pc_isr_table:
    .macro isr_addr n
    .quad isr_stub_\n
    .endm
    .set vec, 0
    .rept 256
    isr_addr %vec
    .set vec, vec + 1
    .endr

    .section .note.GNU-stack, "", @progbits
