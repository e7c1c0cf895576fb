;; Fixture: a library module whose exports another module imports.
(module
  (memory (export "mem") 1 4)
  (global (export "counter") (mut i32) (i32.const 100))
  (table (export "tab") 2 funcref)
  (elem (i32.const 0) $triple)
  (func $triple (export "triple") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "bump") (result i32)
    (global.set 0 (i32.add (global.get 0) (i32.const 1)))
    (global.get 0))
)
