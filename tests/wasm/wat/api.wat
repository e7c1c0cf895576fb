;; Fixture for test_wasm_api.c: host imports with checked pointers, traps,
;; loops for fuel/deadline/interrupt, memory growth, re-entry.
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "sum" (func $sum (param i32 i32) (result i32)))      ;; "(b)i"
  (import "env" "sum8" (func $sum8 (param i32 i32) (result i32)))    ;; "(a8)i"
  (import "env" "peek4" (func $peek4 (param i32) (result i32)))      ;; "(p4)i"
  (import "env" "fail" (func $fail (param i32)))
  (import "env" "quit" (func $quit (param i32)))
  (import "env" "stop_me" (func $stop_me))
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\01\02\03\04\05\06\07\08")
  (func (export "add") (param i32 i32) (result i32) (call $add (local.get 0) (local.get 1)))
  (func (export "sum") (param i32 i32) (result i32) (call $sum (local.get 0) (local.get 1)))
  (func (export "sum8") (param i32 i32) (result i32) (call $sum8 (local.get 0) (local.get 1)))
  (func (export "peek4") (param i32) (result i32) (call $peek4 (local.get 0)))
  (func (export "fail") (call $fail (i32.const 7)))
  (func (export "quit") (call $quit (i32.const 42)))
  (func (export "unreachable") unreachable)
  (func $div (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "oob") (result i32) (i32.load (i32.const 65535)))
  (func $spin (export "spin") (loop $l (br $l)))
  (func (export "spin_interrupt") (call $stop_me) (loop $l (br $l)))
  (func $rec (export "recurse") (param i32) (result i32)
    (i32.add (i32.const 1) (call $rec (local.get 0))))
  (func (export "count") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 1))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "grow_all") (result i32) (local i32)
    ;; grow one page at a time until refused: ends at the memory limit
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (memory.size))
  (func (export "reenter") (param i32) (result i32) (call $reenter (local.get 0)))
  (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  ;; Regression (found by difffuzz): a comparison result below another
  ;; condition on the stack must not be fused into that condition's branch.
  (func (export "cond_below") (param i32) (result i32)
    (i32.eqz (i32.const -127))                  ;; 0, stays on the stack
    (if (result i32) (local.get 0) (then (i32.const 10)) (else (i32.const 20)))
    (i32.add))
  (func (export "cmp_below") (param i32) (result i32)
    (block (result i32)
      (i32.lt_s (i32.const 1) (i32.const 2))    ;; 1, stays on the stack
      (br_if 0 (local.get 0))
      (drop) (i32.const 100)))
)
