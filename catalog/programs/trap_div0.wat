;; trap_div0.wat -- prints "dividing", then executes i32.div_u by zero, which
;; traps with "integer divide by zero".  The divisor comes from a call, so
;; the division is really executed.
(module
  (import "tvm" "output" (func $out (param i32)))
  (func $zero (result i32) (i32.const 0))
  (func $main (export "main") (result i32)
    (call $out (i32.const 100)) (call $out (i32.const 105)) (call $out (i32.const 118))
    (call $out (i32.const 105)) (call $out (i32.const 100)) (call $out (i32.const 105))
    (call $out (i32.const 110)) (call $out (i32.const 103)) (call $out (i32.const 10))
    (i32.div_u (i32.const 42) (call $zero))
    ;; not reached
    (call $out (i32.const 33))))
