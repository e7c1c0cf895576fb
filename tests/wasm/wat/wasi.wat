;; Fixture for test_wasi.c: calls WASI directly (no libc) so each call's
;; arguments are known exactly.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "hello, ")
  (data (i32.const 200) "world\n")
  ;; iovecs at 0: {100, 7}, {200, 6}
  (data (i32.const 0) "\64\00\00\00\07\00\00\00\c8\00\00\00\06\00\00\00")
  (func (export "write") (result i32)
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 16)))
    (i32.load (i32.const 16)))
  (func (export "write_bad_iovec") (result i32)
    ;; an iovec pointing past the end of memory: EFAULT, nothing written
    (i32.store (i32.const 32) (i32.const 65530))
    (i32.store (i32.const 36) (i32.const 100))
    (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 16)))
  (func (export "write_bad_fd") (result i32)
    (call $fd_write (i32.const 7) (i32.const 0) (i32.const 1) (i32.const 16)))
  (func (export "read") (result i32)
    ;; read into 300..310 with iovec at 40
    (i32.store (i32.const 40) (i32.const 300))
    (i32.store (i32.const 44) (i32.const 10))
    (drop (call $fd_read (i32.const 0) (i32.const 40) (i32.const 1) (i32.const 16)))
    (i32.load (i32.const 16)))
  (func (export "sleep") (param i64) (result i32)
    ;; one relative clock subscription at 400 (48 bytes), event at 500
    (i64.store (i32.const 400) (i64.const 77))         ;; userdata
    (i32.store8 (i32.const 408) (i32.const 0))         ;; tag: clock
    (i32.store (i32.const 416) (i32.const 1))          ;; monotonic
    (i64.store (i32.const 424) (local.get 0))          ;; timeout ns
    (i64.store (i32.const 432) (i64.const 0))
    (i32.store16 (i32.const 440) (i32.const 0))        ;; relative
    (drop (call $poll (i32.const 400) (i32.const 500) (i32.const 1) (i32.const 16)))
    (i32.add (i32.load (i32.const 16))                  ;; 1 event
             (i32.wrap_i64 (i64.load (i32.const 500))))) ;; + userdata 77
  (func (export "sizes") (result i32)
    (drop (call $args_sizes (i32.const 16) (i32.const 20)))
    (drop (call $env_sizes (i32.const 24) (i32.const 28)))
    ;; argc * 1000 + argv bytes * 100 + envc * 10 + env bytes... compact check
    (i32.add (i32.add (i32.mul (i32.load (i32.const 16)) (i32.const 1000))
                      (i32.mul (i32.load (i32.const 20)) (i32.const 10)))
             (i32.load (i32.const 24))))
  (func (export "open") (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                     (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 16)))
  (func (export "clock_and_random") (result i32)
    (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 600)))
    (drop (call $random (i32.const 608) (i32.const 32)))
    (i64.ne (i64.load (i32.const 600)) (i64.const 0)))
  (func (export "random_oob") (result i32) (call $random (i32.const 65530) (i32.const 32)))
  (func (export "_start") (call $exit (i32.const 9)))
)
