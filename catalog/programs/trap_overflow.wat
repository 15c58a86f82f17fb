;; trap_overflow.wat -- i32.div_s of INT_MIN by -1: the quotient 2^31 does
;; not fit, which traps with "integer overflow" (rem_s of the same operands
;; is 0 and does not trap, so it is done first and its result printed).
(module
  (import "tvm" "output" (func $out (param i32)))
  (func $int_min (result i32) (i32.const 0x80000000))
  (func $main (export "main") (result i32)
    ;; prints "0\n": the remainder
    (call $out (i32.add (i32.const 48) (i32.rem_s (call $int_min) (i32.const -1))))
    (call $out (i32.const 10))
    (drop (i32.div_s (call $int_min) (i32.const -1)))
    (call $out (i32.const 33))
    (i32.const 0)))
