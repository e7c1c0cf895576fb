;; Fixture for cli.sh: exits with status 7 through proc_exit.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 3)
  (func (export "_start") (call $exit (i32.const 7))))
