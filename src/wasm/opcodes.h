/*
 * The engine's internal instruction set, in one place (the lopcodes.h of
 * NeoBoot's wasm engine).
 *
 * translate.c turns each validated function body into this code once;
 * interp.c executes it with threaded dispatch. Code is an array of 64-bit
 * words. Word 0 of an instruction is the handler's address (the opcode
 * number until the function is finished); operands follow in the next
 * words. Operands named d, a, b, c are frame slot indices (a frame is one
 * array of 8-byte slots: parameters, locals, then the operand stack, each
 * stack height having a fixed slot), packed two per word (low half first).
 * Branch offsets are signed word counts from the branching instruction.
 *
 * Formats (words after the opcode):
 *   N      -                                  1 word in total
 *   DA     (d|a)                              2 words
 *   DAB    (d|a) (b|-)                        3 words
 *   DAI    (d|a) (imm32|-)                    3 words
 *   DK     (d|-) (imm64)                      3 words
 *   LD     (d|addr) (offset|-)                3 words
 *   ST     (addr|val) (offset|-)              3 words
 *   J      (off)                              2 words
 *   JC     (a|-) (off)                        3 words
 *   JAB    (a|b) (off)                        3 words
 *   JAI    (a|imm32) (off)                    3 words
 * Others are described beside them.
 */
#ifndef NB_WASM_OPCODES_H
#define NB_WASM_OPCODES_H

/* i32 comparisons that have fused compare-and-branch forms. */
#define NBW_CMPS(X) X(EQ) X(NE) X(LT_S) X(LT_U) X(GT_S) X(GT_U) X(LE_S) X(LE_U) X(GE_S) X(GE_U)

/* The numeric operators, in wasm opcode order 0x45..0xc4 (one each). */
#define NBW_NUMOPS(X) \
    X(I32_EQZ) X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) \
    X(I32_LE_S) X(I32_LE_U) X(I32_GE_S) X(I32_GE_U) \
    X(I64_EQZ) X(I64_EQ) X(I64_NE) X(I64_LT_S) X(I64_LT_U) X(I64_GT_S) X(I64_GT_U) \
    X(I64_LE_S) X(I64_LE_U) X(I64_GE_S) X(I64_GE_U) \
    X(F32_EQ) X(F32_NE) X(F32_LT) X(F32_GT) X(F32_LE) X(F32_GE) \
    X(F64_EQ) X(F64_NE) X(F64_LT) X(F64_GT) X(F64_LE) X(F64_GE) \
    X(I32_CLZ) X(I32_CTZ) X(I32_POPCNT) X(I32_ADD) X(I32_SUB) X(I32_MUL) X(I32_DIV_S) \
    X(I32_DIV_U) X(I32_REM_S) X(I32_REM_U) X(I32_AND) X(I32_OR) X(I32_XOR) X(I32_SHL) \
    X(I32_SHR_S) X(I32_SHR_U) X(I32_ROTL) X(I32_ROTR) \
    X(I64_CLZ) X(I64_CTZ) X(I64_POPCNT) X(I64_ADD) X(I64_SUB) X(I64_MUL) X(I64_DIV_S) \
    X(I64_DIV_U) X(I64_REM_S) X(I64_REM_U) X(I64_AND) X(I64_OR) X(I64_XOR) X(I64_SHL) \
    X(I64_SHR_S) X(I64_SHR_U) X(I64_ROTL) X(I64_ROTR) \
    X(F32_ABS) X(F32_NEG) X(F32_CEIL) X(F32_FLOOR) X(F32_TRUNC) X(F32_NEAREST) X(F32_SQRT) \
    X(F32_ADD) X(F32_SUB) X(F32_MUL) X(F32_DIV) X(F32_MIN) X(F32_MAX) X(F32_COPYSIGN) \
    X(F64_ABS) X(F64_NEG) X(F64_CEIL) X(F64_FLOOR) X(F64_TRUNC) X(F64_NEAREST) X(F64_SQRT) \
    X(F64_ADD) X(F64_SUB) X(F64_MUL) X(F64_DIV) X(F64_MIN) X(F64_MAX) X(F64_COPYSIGN) \
    X(I32_WRAP_I64) X(I32_TRUNC_F32_S) X(I32_TRUNC_F32_U) X(I32_TRUNC_F64_S) X(I32_TRUNC_F64_U) \
    X(I64_EXTEND_I32_S) X(I64_EXTEND_I32_U) X(I64_TRUNC_F32_S) X(I64_TRUNC_F32_U) \
    X(I64_TRUNC_F64_S) X(I64_TRUNC_F64_U) X(F32_CONVERT_I32_S) X(F32_CONVERT_I32_U) \
    X(F32_CONVERT_I64_S) X(F32_CONVERT_I64_U) X(F32_DEMOTE_F64) X(F64_CONVERT_I32_S) \
    X(F64_CONVERT_I32_U) X(F64_CONVERT_I64_S) X(F64_CONVERT_I64_U) X(F64_PROMOTE_F32) \
    X(I32_REINTERPRET_F32) X(I64_REINTERPRET_F64) X(F32_REINTERPRET_I32) X(F64_REINTERPRET_I64) \
    X(I32_EXTEND8_S) X(I32_EXTEND16_S) X(I64_EXTEND8_S) X(I64_EXTEND16_S) X(I64_EXTEND32_S)

/* Saturating truncations, 0xfc 0..7. Format DA. */
#define NBW_SATOPS(X) \
    X(I32_TRUNC_SAT_F32_S) X(I32_TRUNC_SAT_F32_U) X(I32_TRUNC_SAT_F64_S) X(I32_TRUNC_SAT_F64_U) \
    X(I64_TRUNC_SAT_F32_S) X(I64_TRUNC_SAT_F32_U) X(I64_TRUNC_SAT_F64_S) X(I64_TRUNC_SAT_F64_U)

/* i32/i64 binary operators with an immediate right operand (format DAI;
 * the immediate is sign-extended for i64). */
#define NBW_IMMOPS(X) \
    X(I32_ADD) X(I32_MUL) X(I32_AND) X(I32_OR) X(I32_XOR) X(I32_SHL) X(I32_SHR_S) \
    X(I32_SHR_U) X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) \
    X(I32_LE_S) X(I32_LE_U) X(I32_GE_S) X(I32_GE_U) \
    X(I32_ROTL) X(I32_ROTR) X(I32_DIV_U) X(I32_REM_U) /* divisor never 0 */ \
    X(I64_ADD) X(I64_MUL) X(I64_AND) X(I64_OR) X(I64_XOR) X(I64_SHL) X(I64_SHR_S) X(I64_SHR_U) \
    X(I64_ROTL) X(I64_ROTR)

/* Loads (format LD) and stores (format ST). Each also has three fused
 * forms whose address is computed with 32-bit wrap-around, as the adds and
 * shift they replace would (the offset is added after, without wrapping):
 *   NAME_ADD   (d|a) (offset|b):        address = a + b
 *   NAME_ADDI  (d|a) (offset|imm):      address = a + imm
 *   NAME_SHL   (d|a) (offset|b) (k|-):  address = a + (b << k)
 * (for stores d is the value slot). */
#define NBW_LOADS(X) X(LOAD8S) X(LOAD8U) X(LOAD16S) X(LOAD16U) X(LOAD32S) X(LOAD32U) X(LOAD64)
#define NBW_STORES(X) X(STORE8) X(STORE16) X(STORE32) X(STORE64)
#define NBW_MEMOPS(X) NBW_LOADS(X) NBW_STORES(X)

/* Everything else. */
#define NBW_MISCOPS(X) \
    X(UNREACHABLE)    /* N: trap */ \
    X(BR)             /* J: jump */ \
    X(BR_BACK)        /* J: jump backwards, charging fuel */ \
    X(BR_IFZ)         /* JC: jump if a == 0 (i32) */ \
    X(BR_IFNZ)        /* JC: jump if a != 0 */ \
    X(BR_IFZ_BACK)    \
    X(BR_IFNZ_BACK)   \
    X(BR_TABLE)       /* (a|n) then n+1 offset words; index a, default last; fuel */ \
    X(BR_TABLE_FWD)   /* the same when every target is forward: no fuel */ \
    X(RETURN)         /* N: results already in slots 0.. of the frame */ \
    X(RETURN1)        /* (a|-): slot 0 = a, then return (one result) */ \
    X(CALL)           /* (base|func) (struct nbw_code *): callee frame at slot base */ \
    X(CALL_IMPORT)    /* (base|func): imported function, any kind */ \
    X(CALL_INDIRECT)  /* (base|a) (type|table): index in slot a */ \
    X(COPY)           /* DA: d = a */ \
    X(COPY2)          /* (d|a) (d2|a2): two moves */ \
    X(CONST)          /* DK: d = imm64 */ \
    X(SELECT)         /* (d|a) (b|c): d = c ? a : b */ \
    X(GLOBAL_GET)     /* (d|global) */ \
    X(GLOBAL_SET)     /* (global|a) */ \
    NBW_MEMOPS(X)     /* LD and ST */ \
    X(I32_ADD_SHL)    /* (d|a) (b|k): d = a + (b << k), the address of a[b] */ \
    X(MEMORY_SIZE)    /* (d|-) */ \
    X(MEMORY_GROW)    /* DA */ \
    X(MEMORY_FILL)    /* (d|v) (n|-): dest, value, count slots */ \
    X(MEMORY_COPY)    /* (d|s) (n|-) */ \
    X(MEMORY_INIT)    /* (d|s) (n|seg) */ \
    X(DATA_DROP)      /* (seg|-) */ \
    X(TABLE_GET)      /* (d|i) (table|-) */ \
    X(TABLE_SET)      /* (i|v) (table|-) */ \
    X(TABLE_SIZE)     /* (d|table) */ \
    X(TABLE_GROW)     /* (d|n) (v|table): d = old size or -1 */ \
    X(TABLE_FILL)     /* (i|v) (n|table) */ \
    X(TABLE_COPY)     /* (d|s) (n|-) (dsttable|srctable) */ \
    X(TABLE_INIT)     /* (d|s) (n|-) (table|seg) */ \
    X(ELEM_DROP)      /* (seg|-) */ \
    X(REF_FUNC)       /* (d|func) */

enum nbw_op {
#define NBW_ENUM(n) NBW_OP_##n,
    NBW_MISCOPS(NBW_ENUM)
    NBW_NUMOPS(NBW_ENUM)
    NBW_SATOPS(NBW_ENUM)
#undef NBW_ENUM
#define NBW_ENUM_I(n) NBW_OP_##n##_I,
    NBW_IMMOPS(NBW_ENUM_I)
#undef NBW_ENUM_I
#define NBW_ENUM_M(n) NBW_OP_##n##_ADD, NBW_OP_##n##_ADDI, NBW_OP_##n##_SHL,
    NBW_MEMOPS(NBW_ENUM_M)
#undef NBW_ENUM_M
#define NBW_ENUM_BR(c) NBW_OP_BR_##c, NBW_OP_BR_##c##_BACK, NBW_OP_BR_##c##_I, \
                       NBW_OP_BR_##c##_I_BACK,
    NBW_CMPS(NBW_ENUM_BR)
#undef NBW_ENUM_BR
    NBW_OP_COUNT
};

/* The numeric operator for wasm opcode 0x45..0xc4. */
#define NBW_OP_FROM_WASM(op) ((enum nbw_op)(NBW_OP_I32_EQZ + ((op) - 0x45)))

#endif
