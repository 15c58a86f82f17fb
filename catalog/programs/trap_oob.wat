;; trap_oob.wat -- stores bytes ever closer to the end of the one-page
;; memory; the 4-byte store at 65533 overlaps the end and traps with
;; "out of bounds memory access".  Prints one '.' per successful store.
(module
  (import "tvm" "output" (func $out (param i32)))
  (memory (export "memory") 1 1)
  (func $main (export "main") (result i32)
    (local $addr i32)
    (local.set $addr (i32.const 65530))
    (loop $next
      (i32.store (local.get $addr) (i32.const -1))
      (call $out (i32.const 46))
      (local.set $addr (i32.add (local.get $addr) (i32.const 1)))
      (br $next))
    (i32.const 0)))
