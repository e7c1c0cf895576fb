;; Fixture: imports everything lib.wat exports (registered as "lib").
(module
  (import "lib" "mem" (memory 1))
  (import "lib" "counter" (global $c (mut i32)))
  (import "lib" "tab" (table 2 funcref))
  (import "lib" "triple" (func $triple (param i32) (result i32)))
  (import "lib" "bump" (func $bump (result i32)))
  (type $t (func (param i32) (result i32)))
  (func (export "run") (result i32)
    (i32.store (i32.const 8) (i32.const 77))        ;; visible through lib's memory
    (drop (call $bump))                             ;; lib's global: 101
    (global.set $c (i32.add (global.get $c) (i32.const 10)))  ;; 111
    (i32.add (call $triple (i32.const 5))           ;; 15
             (call_indirect (type $t) (i32.const 2) (i32.const 0))))  ;; + 6
)
