;; A guest that attacks the "neoboot" imports. Each export is one attack;
;; tests/abi/test_abi_guests.c calls them one by one and checks that each
;; gets its error code or is stopped, and that the host keeps working.
(module
  (import "neoboot" "socket" (func $socket (param i32 i32) (result i32)))
  (import "neoboot" "bind" (func $bind (param i32 i32) (result i32)))
  (import "neoboot" "listen" (func $listen (param i32 i32) (result i32)))
  (import "neoboot" "accept" (func $accept (param i32 i32) (result i32)))
  (import "neoboot" "connect" (func $connect (param i32 i32) (result i32)))
  (import "neoboot" "send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "neoboot" "recv" (func $recv (param i32 i32 i32 i32) (result i32)))
  (import "neoboot" "close" (func $close (param i32) (result i32)))
  (import "neoboot" "poll" (func $poll (param i32 i32 i64) (result i32)))
  (import "neoboot" "setopt" (func $setopt (param i32 i32 i64) (result i32)))
  (import "neoboot" "random" (func $random (param i32 i32) (result i32)))
  (import "neoboot" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "neoboot" "sleep" (func $sleep (param i64) (result i32)))
  (memory (export "memory") 32 32)
  ;; 0x100: a vsock address, any CID, port 7000 (32 bytes)
  (data (i32.const 0x100) "\28\00\00\00\58\1b\00\00\ff\ff\ff\ff")
  ;; 0x200: vsock address of the host, port 9 (for connect)
  (data (i32.const 0x200) "\28\00\00\00\09\00\00\00\02\00\00\00")
  ;; 0x300: a vsock address, any CID, port 80 (privileged)
  (data (i32.const 0x300) "\28\00\00\00\50\00\00\00\ff\ff\ff\ff")
  ;; 0x400: log text with an escape sequence and a newline
  (data (i32.const 0x400) "evil \1b[2J text\n")

  (global $held (mut i32) (i32.const 0))

  (func (export "new_socket") (result i32)
    (call $socket (i32.const 40) (i32.const 1)))

  ;; pointers out of range: the engine must trap before the host runs
  (func (export "send_oob") (param $h i32) (result i32)
    (call $send (local.get $h) (i32.const 0x1FFFF0) (i32.const 0x20) (i32.const 0)))
  (func (export "recv_wrap") (param $h i32) (result i32)
    (call $recv (local.get $h) (i32.const 0x10) (i32.const 0xFFFFFFF8) (i32.const 0)))
  (func (export "bind_oob") (param $h i32) (result i32)
    (call $bind (local.get $h) (i32.const 0x1FFFF0)))
  (func (export "poll_oob") (result i32)
    (call $poll (i32.const 0x10) (i32.const 0x1000000) (i64.const 0)))

  ;; forged handles
  (func (export "close_forged") (param $h i32) (result i32)
    (call $close (local.get $h)))
  (func (export "send_forged") (param $h i32) (result i32)
    (call $send (local.get $h) (i32.const 0) (i32.const 4) (i32.const 0)))

  ;; capabilities
  (func (export "listen_privileged") (result i32)
    (local $h i32)
    (local.set $h (call $socket (i32.const 40) (i32.const 1)))
    (drop (call $bind (local.get $h) (i32.const 0x300)))
    (call $listen (local.get $h) (i32.const 4)))
  (func (export "listen_allowed") (result i32)
    (local $h i32)
    (local.set $h (call $socket (i32.const 40) (i32.const 1)))
    (drop (call $bind (local.get $h) (i32.const 0x100)))
    (global.set $held (local.get $h))
    (call $listen (local.get $h) (i32.const 4)))
  (func (export "connect_host") (result i32)
    (local $h i32)
    (local.set $h (call $socket (i32.const 40) (i32.const 1)))
    (call $connect (local.get $h) (i32.const 0x200)))

  ;; a blocking call that would wait forever: the deadline must end it
  (func (export "accept_forever") (result i32)
    (call $accept (global.get $held) (i32.const 0x800)))
  ;; a loop that never ends
  (func (export "spin") (result i32)
    (loop $l (br $l))
    (i32.const 0))
  ;; sockets until the table is full
  (func (export "exhaust") (result i32)
    (local $n i32) (local $h i32)
    (block $done
      (loop $l
        (local.set $h (call $socket (i32.const 40) (i32.const 1)))
        (br_if $done (i32.lt_s (local.get $h) (i32.const 0)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $h))
  ;; poll: bad handles come back POLLNVAL; too many entries is EINVAL
  (func (export "poll_bad") (result i32)
    (i32.store (i32.const 0x600) (i32.const 123456))
    (i32.store (i32.const 0x604) (i32.const 1))
    (i32.store (i32.const 0x608) (i32.const 0))
    (call $poll (i32.const 0x600) (i32.const 1) (i64.const 0)))
  (func (export "poll_revents") (result i32)
    (i32.load (i32.const 0x608)))
  (func (export "poll_too_many") (result i32)
    (call $poll (i32.const 0) (i32.const 5000) (i64.const 0)))
  ;; odd requests
  (func (export "random_huge") (result i32)
    (call $random (i32.const 0) (i32.const 0x180000)))
  (func (export "log_escape") (result i32)
    (call $log (i32.const 3) (i32.const 0x400) (i32.const 16)))
  (func (export "log_bad_level") (result i32)
    (call $log (i32.const 9) (i32.const 0x400) (i32.const 4)))
  (func (export "bad_flags") (param $h i32) (result i32)
    (call $send (local.get $h) (i32.const 0) (i32.const 1) (i32.const 0x7fffffff)))
  (func (export "sleep_negative") (result i32)
    (call $sleep (i64.const -1)))
  (func (export "setopt_bad") (param $h i32) (result i32)
    (call $setopt (local.get $h) (i32.const 999) (i64.const 1)))
)
