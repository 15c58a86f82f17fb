;; trap_unreachable.wat -- counts down from 3, printing each number, and
;; executes `unreachable` when the counter reaches 0.
(module
  (import "tvm" "output" (func $out (param i32)))
  (func $main (export "main") (result i32)
    (local $n i32)
    (local.set $n (i32.const 3))
    (loop $down
      (call $out (i32.add (i32.const 48) (local.get $n)))
      (call $out (i32.const 10))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (if (i32.eqz (local.get $n)) (then (unreachable)))
      (br $down))
    (i32.const 0)))
