;; Fixture for cli.sh: a WASI command that never ends.
(module
  (memory (export "memory") 1)
  (func $spin (export "_start") (loop $l (br $l))))
