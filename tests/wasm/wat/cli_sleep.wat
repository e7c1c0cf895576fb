;; Fixture for cli.sh: sleeps 10 s through poll_oneoff, then exits 0.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store8 (i32.const 8) (i32.const 0))            ;; clock subscription
    (i32.store (i32.const 16) (i32.const 1))            ;; monotonic
    (i64.store (i32.const 24) (i64.const 10000000000))  ;; 10 s
    (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))))
