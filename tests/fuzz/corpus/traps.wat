;; Fuzz seed: imports from env and trapping operations.
(module
  (import "env" "g" (func $g (param i32) (result i32)))
  (import "env" "h" (func $h (param i32 i32) (result i32)))
  (memory 1)
  (func (export "a") (result i32) (i32.div_s (call $g (i32.const 1)) (i32.const 0)))
  (func (export "b") (result i32) (call $h (i32.const 65530) (i32.const 100)))
  (func (export "c") (result i64) (i64.trunc_f64_s (f64.const 1e300)))
  (func (export "d") (result i32) (i32.trunc_sat_f32_u (f32.const -5)))
  (func $r (export "e") (param i32) (result i32) (call $r (local.get 0))))
