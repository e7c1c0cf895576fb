/*
 * The empty symbol table for the first link pass (see symbols.c); the
 * second pass links gensyms.py's generated table instead.
 */
    .section .nbsyms, "a"
    .balign 8
    .globl nb_pc_nsyms
nb_pc_nsyms:
    .quad 0
    .globl nb_pc_syms
nb_pc_syms:
    .globl nb_pc_symnames
nb_pc_symnames:
    .byte 0

    .section .note.GNU-stack, "", @progbits
