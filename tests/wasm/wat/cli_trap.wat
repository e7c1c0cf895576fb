;; Fixture for cli.sh: a WASI command that traps in a named function.
(module
  (memory (export "memory") 1)
  (func $boom (unreachable))
  (func (export "_start") (call $boom)))
