;; ops_lowered.wat -- every i32 operation the machine does not have natively
;; and must lower: mul, div_s, div_u, rem_s, rem_u, and, or, xor, shl,
;; shr_s, shr_u, rotl, rotr, clz, ctz, popcnt, extend8_s, extend16_s, on
;; edge operands (0, 1, -1, INT_MIN, INT_MAX, shift counts >= 32, ...).
;;
;; Results are printed in hex by $hex, which uses only native operations
;; (stores, byte loads, table lookups, add, sub, compares), so a wrong
;; lowering cannot hide behind a wrong printer.  Divisions that would trap (by zero; INT_MIN / -1 for
;; div_s) print "--------" instead.  Expected output comes from wasmi.
;;
;; Line formats:
;;   a b: mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr
;;   x: clz ctz popcnt extend8_s extend16_s
(module
  (import "tvm" "output" (func $out (param i32)))
  (memory (export "memory") 1)

  ;; Hex digit of the high nibble (4608) and of the low nibble (4864) of
  ;; every byte value.
  (data (i32.const 4608)
    "0000000000000000111111111111111122222222222222223333333333333333"
    "4444444444444444555555555555555566666666666666667777777777777777"
    "88888888888888889999999999999999aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb"
    "ccccccccccccccccddddddddddddddddeeeeeeeeeeeeeeeeffffffffffffffff")
  (data (i32.const 4864)
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")

  ;; Operand pairs (a, b), little-endian words, at 4160.
  (data (i32.const 4160)
    "\00\00\00\00" "\00\00\00\00"   ;; 0          0
    "\01\00\00\00" "\01\00\00\00"   ;; 1          1
    "\ff\ff\ff\ff" "\ff\ff\ff\ff"   ;; -1         -1
    "\00\00\00\80" "\ff\ff\ff\ff"   ;; INT_MIN    -1
    "\ff\ff\ff\7f" "\00\00\00\80"   ;; INT_MAX    INT_MIN
    "\00\00\00\80" "\02\00\00\00"   ;; INT_MIN    2
    "\78\56\34\12" "\21\00\00\00"   ;; 0x12345678 33
    "\f9\ff\ff\ff" "\02\00\00\00"   ;; -7         2
    "\07\00\00\00" "\fe\ff\ff\ff"   ;; 7          -2
    "\ef\be\ad\de" "\20\00\00\00"   ;; 0xdeadbeef 32
    "\f0\de\bc\9a" "\04\00\00\00")  ;; 0x9abcdef0 4
  (global $pairs i32 (i32.const 4160))
  (global $pairs_end i32 (i32.const 4248))   ;; 11 pairs of 8 bytes

  ;; Operands of the unary operations, at 4352.
  (data (i32.const 4352)
    "\00\00\00\00" "\01\00\00\00" "\ff\ff\ff\ff" "\00\00\00\80"
    "\ff\ff\ff\7f" "\78\56\34\12" "\80\00\00\00" "\00\80\00\00"
    "\7f\00\00\00" "\ff\7f\ff\ff" "\00\01\00\00")
  (global $singles i32 (i32.const 4352))
  (global $singles_end i32 (i32.const 4396)) ;; 11 words

  ;; x as 8 hex digits: x is stored to memory and read back one byte at a
  ;; time (load8_u, most significant first); each byte indexes two 256-byte
  ;; tables, the digit of its high nibble and of its low nibble.
  (func $hex (param $x i32)
    (local $p i32) (local $b i32)
    (i32.store (i32.const 8192) (local.get $x))
    (local.set $p (i32.const 8196))
    (loop $bytes
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (local.set $b (i32.load8_u (local.get $p)))
      (call $out (i32.load8_u (i32.add (i32.const 4608) (local.get $b))))
      (call $out (i32.load8_u (i32.add (i32.const 4864) (local.get $b))))
      (br_if $bytes (i32.gt_u (local.get $p) (i32.const 8192)))))

  (func $sep (call $out (i32.const 32)))

  (func $skipped
    (call $sep)
    (call $out (i32.const 45)) (call $out (i32.const 45))
    (call $out (i32.const 45)) (call $out (i32.const 45))
    (call $out (i32.const 45)) (call $out (i32.const 45))
    (call $out (i32.const 45)) (call $out (i32.const 45)))

  (func $field (param $x i32)
    (call $sep)
    (call $hex (local.get $x)))

  ;; 1 if a / b traps for div_s (b = 0, or INT_MIN / -1).
  (func $div_s_traps (param $a i32) (param $b i32) (result i32)
    (if (result i32) (i32.eqz (local.get $b))
      (then (i32.const 1))
      (else
        (if (result i32) (i32.eq (local.get $b) (i32.const -1))
          (then (i32.eq (local.get $a) (i32.const 0x80000000)))
          (else (i32.const 0))))))

  (func $binary_line (param $a i32) (param $b i32)
    (call $hex (local.get $a))
    (call $sep)
    (call $hex (local.get $b))
    (call $out (i32.const 58)) ;; ':'
    (call $field (i32.mul (local.get $a) (local.get $b)))
    (if (call $div_s_traps (local.get $a) (local.get $b))
      (then (call $skipped))
      (else (call $field (i32.div_s (local.get $a) (local.get $b)))))
    (if (i32.eqz (local.get $b))
      (then (call $skipped))
      (else (call $field (i32.div_u (local.get $a) (local.get $b)))))
    ;; rem_s of INT_MIN by -1 is 0 in wasm, it only traps for b = 0
    (if (i32.eqz (local.get $b))
      (then (call $skipped))
      (else (call $field (i32.rem_s (local.get $a) (local.get $b)))))
    (if (i32.eqz (local.get $b))
      (then (call $skipped))
      (else (call $field (i32.rem_u (local.get $a) (local.get $b)))))
    (call $field (i32.and (local.get $a) (local.get $b)))
    (call $field (i32.or (local.get $a) (local.get $b)))
    (call $field (i32.xor (local.get $a) (local.get $b)))
    ;; shift counts are taken mod 32 by the instructions themselves
    (call $field (i32.shl (local.get $a) (local.get $b)))
    (call $field (i32.shr_s (local.get $a) (local.get $b)))
    (call $field (i32.shr_u (local.get $a) (local.get $b)))
    (call $field (i32.rotl (local.get $a) (local.get $b)))
    (call $field (i32.rotr (local.get $a) (local.get $b)))
    (call $out (i32.const 10)))

  (func $unary_line (param $x i32)
    (call $hex (local.get $x))
    (call $out (i32.const 58))
    (call $field (i32.clz (local.get $x)))
    (call $field (i32.ctz (local.get $x)))
    (call $field (i32.popcnt (local.get $x)))
    (call $field (i32.extend8_s (local.get $x)))
    (call $field (i32.extend16_s (local.get $x)))
    (call $out (i32.const 10)))

  (func $main (export "main") (result i32)
    (local $p i32)
    ;; binary operations over the pairs
    (local.set $p (global.get $pairs))
    (loop $each_pair
      (call $binary_line (i32.load (local.get $p)) (i32.load offset=4 (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br_if $each_pair (i32.lt_u (local.get $p) (global.get $pairs_end))))
    ;; unary operations
    (local.set $p (global.get $singles))
    (loop $each_single
      (call $unary_line (i32.load (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $each_single (i32.lt_u (local.get $p) (global.get $singles_end))))
    (i32.const 0)))
