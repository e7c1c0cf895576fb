/* Benchmark kernel: a small bytecode interpreter (switch dispatch,
 * unpredictable branches) running a loop-heavy program. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, JNZ, JMP, DUP, POP, HALT, LT, XOR };

int main(int argc, char **argv)
{
    int32_t iters = argc > 1 ? atoi(argv[1]) : 3000000;
    /* vars: 0 = i, 1 = acc; for (i = iters; i; i--) acc = (acc * 31 + i) % 1000003 ^ i */
    int32_t prog[] = {
        PUSH, 0, STORE, 1,            /* acc = 0 */
        PUSH, 0, STORE, 0,            /* i = iters (patched) */
        /* 8: loop */
        LOAD, 1, PUSH, 31, MUL, LOAD, 0, ADD, PUSH, 1000003, MOD, LOAD, 0, XOR, STORE, 1,
        LOAD, 0, PUSH, 1, SUB, DUP, STORE, 0,
        JNZ, 8,
        HALT};
    prog[5] = iters;
    int32_t stack[64], vars[4] = {0}, sp = 0, pc = 0;
    for (;;) {
        int32_t op = prog[pc++];
        switch (op) {
        case PUSH: stack[sp++] = prog[pc++]; break;
        case LOAD: stack[sp++] = vars[prog[pc++]]; break;
        case STORE: vars[prog[pc++]] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] * (uint32_t)stack[sp]); break;
        case MOD: sp--; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] % (uint32_t)stack[sp]); break;
        case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case POP: sp--; break;
        case JNZ: { int32_t t = prog[pc++]; if (stack[--sp]) pc = t; break; }
        case JMP: pc = prog[pc]; break;
        case HALT: printf("vm: %d\n", vars[1]); return 0;
        default: return 2;
        }
    }
}
