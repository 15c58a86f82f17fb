;; ops_control.wat -- structured control flow and the stack/variable
;; instructions: block, loop, if/else, br, br_if, br_table (several targets
;; and a default), blocks and ifs with results, select, return from inside
;; nested blocks, unreachable (never reached), drop, global.get/set,
;; local.tee, and calls with several parameters, including recursion.
;; Only natively supported arithmetic is used (no mul, and, shifts...), so
;; this program tests control flow alone.
;;
;; Every check prints a line; the expected output is checked by the catalog
;; tests against wasmi.  Numbers are printed in decimal by $print_int, which
;; uses only add, sub and compares (the operations the machine has natively).
(module
  (import "tvm" "output" (func $out (param i32)))
  (memory (export "memory") 1)

  (global $counter (mut i32) (i32.const 0))
  (global $limit i32 (i32.const 5))

  ;; Writes the bytes of a string stored at [ptr, ptr + len).
  (func $print_str (param $ptr i32) (param $len i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $len)))
        (call $out (i32.load8_u (local.get $ptr)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $next))))

  ;; Decimal digits of n >= 0 by repeated subtraction of powers of ten.
  (func $print_uint (param $n i32)
    (local $power i32) (local $digit i32) (local $started i32)
    (local.set $power (i32.const 1000000000))
    (block $done
      (loop $powers
        (local.set $digit (i32.const 0))
        (block $counted
          (loop $count
            (br_if $counted (i32.lt_u (local.get $n) (local.get $power)))
            (local.set $n (i32.sub (local.get $n) (local.get $power)))
            (local.set $digit (i32.add (local.get $digit) (i32.const 1)))
            (br $count)))
        ;; print once a non-zero digit was seen, and always the last digit
        (if (i32.add (i32.add (local.get $digit) (local.get $started))
                     (i32.eq (local.get $power) (i32.const 1)))
          (then
            (local.set $started (i32.const 1))
            (call $out (i32.add (i32.const 48) (local.get $digit)))))
        (br_if $done (i32.eq (local.get $power) (i32.const 1)))
        ;; next power down, found by comparisons ($next_power)
        (local.set $power (call $next_power (local.get $power)))
        (br $powers))))

  ;; 10^k -> 10^(k-1) for k >= 1, by comparisons (no division).
  (func $next_power (param $p i32) (result i32)
    (if (result i32) (i32.eq (local.get $p) (i32.const 1000000000))
      (then (i32.const 100000000))
      (else
        (if (result i32) (i32.eq (local.get $p) (i32.const 100000000))
          (then (i32.const 10000000))
          (else
            (if (result i32) (i32.eq (local.get $p) (i32.const 10000000))
              (then (i32.const 1000000))
              (else
                (if (result i32) (i32.eq (local.get $p) (i32.const 1000000))
                  (then (i32.const 100000))
                  (else
                    (if (result i32) (i32.eq (local.get $p) (i32.const 100000))
                      (then (i32.const 10000))
                      (else
                        (if (result i32) (i32.eq (local.get $p) (i32.const 10000))
                          (then (i32.const 1000))
                          (else
                            (if (result i32) (i32.eq (local.get $p) (i32.const 1000))
                              (then (i32.const 100))
                              (else
                                (if (result i32) (i32.eq (local.get $p) (i32.const 100))
                                  (then (i32.const 10))
                                  (else (i32.const 1))))))))))))))))))

  (func $print_int (param $n i32)
    (if (i32.lt_s (local.get $n) (i32.const 0))
      (then
        (call $out (i32.const 45))
        (local.set $n (i32.sub (i32.const 0) (local.get $n)))))
    (call $print_uint (local.get $n)))

  (func $space (call $out (i32.const 32)))
  (func $newline (call $out (i32.const 10)))

  ;; Labels for the lines, at fixed addresses.
  (data (i32.const 4096) "loop sum:")        ;; 4096, 9
  (data (i32.const 4112) "if/else:")         ;; 4112, 8
  (data (i32.const 4128) "br_table:")        ;; 4128, 9
  (data (i32.const 4144) "block results:")   ;; 4144, 14
  (data (i32.const 4160) "select:")          ;; 4160, 7
  (data (i32.const 4176) "early return:")    ;; 4176, 13
  (data (i32.const 4192) "globals:")         ;; 4192, 8
  (data (i32.const 4208) "tee/drop:")        ;; 4208, 9
  (data (i32.const 4224) "nested break:")    ;; 4224, 13
  (data (i32.const 4240) "recursion:")       ;; 4240, 10
  (data (i32.const 4256) "negzeropos")       ;; neg 4256, zero 4259, pos 4263

  ;; 1 + 2 + ... + n with loop and br_if.
  (func $sum_to (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $sum (i32.add (local.get $sum) (local.get $i)))
      (br_if $again (i32.lt_s (local.get $i) (local.get $n))))
    (local.get $sum))

  ;; Prints "neg", "zero" or "pos" with nested if/else.
  (func $sign_word (param $x i32)
    (if (i32.lt_s (local.get $x) (i32.const 0))
      (then (call $print_str (i32.const 4256) (i32.const 3)))
      (else
        (if (i32.eqz (local.get $x))
          (then (call $print_str (i32.const 4259) (i32.const 4)))
          (else (call $print_str (i32.const 4263) (i32.const 3)))))))

  ;; br_table: 0 -> 'a', 1 -> 'b', 2 -> 'c', 3 -> 'b' (shared target),
  ;; anything else -> 'z' (default).  Returns the letter.
  (func $classify (param $k i32) (result i32)
    (block $default
      (block $c
        (block $b
          (block $a
            (br_table $a $b $c $b $default (local.get $k)))
          (return (i32.const 97)))
        (return (i32.const 98)))
      (return (i32.const 99)))
    (i32.const 122))

  ;; A block that yields a value through br, and an if with a result.
  (func $block_value (param $x i32) (result i32)
    (block $out (result i32)
      (i32.const 100)
      (br_if $out (i32.gt_s (local.get $x) (i32.const 10)))
      (drop)
      (i32.add (local.get $x) (i32.const 1))))

  (func $if_value (param $x i32) (result i32)
    (if (result i32) (i32.lt_s (local.get $x) (i32.const 8))
      (then (i32.add (local.get $x) (local.get $x)))
      (else (i32.sub (local.get $x) (i32.const 1)))))

  ;; Index of the first element of [ptr, ptr+4n) equal to x, or -1: the
  ;; answer is returned from inside a loop inside two blocks.
  (func $find (param $ptr i32) (param $n i32) (param $x i32) (result i32)
    (local $i i32)
    (block $outer
      (block $inner
        (loop $scan
          (br_if $outer (i32.ge_s (local.get $i) (local.get $n)))
          (if (i32.eq (i32.load (local.get $ptr)) (local.get $x))
            (then (return (local.get $i))))
          (local.set $ptr (i32.add (local.get $ptr) (i32.const 4)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $scan))
        ;; never reached: the loop only leaves through $outer or return
        (unreachable)))
    (i32.const -1))

  ;; Counts calls in a mutable global; stops at the immutable $limit.
  (func $bump (result i32)
    (if (i32.lt_s (global.get $counter) (global.get $limit))
      (then (global.set $counter (i32.add (global.get $counter) (i32.const 1)))))
    (global.get $counter))

  ;; 1 + 2 + ... + n by recursion (call depth n).
  (func $triangle (param $n i32) (result i32)
    (if (result i32) (i32.le_s (local.get $n) (i32.const 0))
      (then (i32.const 0))
      (else (i32.add (local.get $n) (call $triangle (i32.sub (local.get $n) (i32.const 1)))))))

  ;; a - b + 10c - d: checks that parameters arrive in order.
  (func $weigh (param $a i32) (param $b i32) (param $c i32) (param $d i32) (result i32)
    (local $c10 i32)
    (local.set $c10 (i32.add (local.get $c) (local.get $c)))          ;; 2c
    (local.set $c10 (i32.add (local.get $c10) (local.get $c10)))      ;; 4c
    (local.set $c10 (i32.add (local.get $c10) (local.get $c)))        ;; 5c
    (local.set $c10 (i32.add (local.get $c10) (local.get $c10)))      ;; 10c
    (i32.sub (i32.add (i32.sub (local.get $a) (local.get $b)) (local.get $c10)) (local.get $d)))

  (func $main (export "main") (result i32)
    (local $i i32) (local $j i32) (local $t i32) (local $found i32)

    ;; loop sum: 55 5050
    (call $print_str (i32.const 4096) (i32.const 9))
    (call $space) (call $print_int (call $sum_to (i32.const 10)))
    (call $space) (call $print_int (call $sum_to (i32.const 100)))
    (call $newline)

    ;; if/else: neg zero pos pos
    (call $print_str (i32.const 4112) (i32.const 8))
    (call $space) (call $sign_word (i32.const -5))
    (call $space) (call $sign_word (i32.const 0))
    (call $space) (call $sign_word (i32.const 7))
    (call $space) (call $sign_word (i32.const 0x7fffffff))
    (call $newline)

    ;; br_table for -1 .. 6: z a b c b z z z
    (call $print_str (i32.const 4128) (i32.const 9))
    (local.set $i (i32.const -1))
    (loop $each
      (call $space)
      (call $out (call $classify (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $each (i32.le_s (local.get $i) (i32.const 6))))
    (call $newline)

    ;; block results: 4 100 11, then if results: 14 8 7
    (call $print_str (i32.const 4144) (i32.const 14))
    (call $space) (call $print_int (call $block_value (i32.const 3)))
    (call $space) (call $print_int (call $block_value (i32.const 11)))
    (call $space) (call $print_int (call $block_value (i32.const 10)))
    (call $space) (call $print_int (call $if_value (i32.const 7)))
    (call $space) (call $print_int (call $if_value (i32.const 9)))
    (call $space) (call $print_int (call $if_value (i32.const 8)))
    (call $newline)

    ;; select: picks the first operand when the condition is non-zero
    (call $print_str (i32.const 4160) (i32.const 7))
    (call $space) (call $print_int (select (i32.const 10) (i32.const 20) (i32.const 1)))
    (call $space) (call $print_int (select (i32.const 10) (i32.const 20) (i32.const 0)))
    (call $space) (call $print_int (select (i32.const 10) (i32.const 20) (i32.const -1)))
    (call $newline)

    ;; early return: store 5 words at 8192 and search them
    (i32.store (i32.const 8192) (i32.const 4))
    (i32.store (i32.const 8196) (i32.const 8))
    (i32.store (i32.const 8200) (i32.const 15))
    (i32.store (i32.const 8204) (i32.const 16))
    (i32.store (i32.const 8208) (i32.const 23))
    (call $print_str (i32.const 4176) (i32.const 13))
    (call $space) (call $print_int (call $find (i32.const 8192) (i32.const 5) (i32.const 4)))
    (call $space) (call $print_int (call $find (i32.const 8192) (i32.const 5) (i32.const 16)))
    (call $space) (call $print_int (call $find (i32.const 8192) (i32.const 5) (i32.const 23)))
    (call $space) (call $print_int (call $find (i32.const 8192) (i32.const 5) (i32.const 42)))
    (call $newline)

    ;; globals: bump seven times, the counter saturates at 5
    (call $print_str (i32.const 4192) (i32.const 8))
    (local.set $i (i32.const 0))
    (loop $bumps
      (call $space)
      (call $print_int (call $bump))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $bumps (i32.lt_s (local.get $i) (i32.const 7))))
    (call $newline)

    ;; tee/drop: tee keeps the value on the stack and in the local
    (call $print_str (i32.const 4208) (i32.const 9))
    (call $space)
    (call $print_int (i32.add (local.tee $t (i32.const 21)) (local.get $t)))
    (drop (call $sum_to (i32.const 3)))
    (drop (i32.const 12345))
    (call $space) (call $print_int (local.get $t))
    (call $newline)

    ;; nested break: find the first (i, j) with i + j = 12 and j - i = 4,
    ;; leaving both loops at once with br to the outer block
    (call $print_str (i32.const 4224) (i32.const 13))
    (local.set $found (i32.const 0))
    (local.set $i (i32.const 1))
    (block $both
      (loop $rows
        (local.set $j (i32.const 1))
        (loop $cols
          (if (i32.eq (i32.add (local.get $i) (local.get $j)) (i32.const 12))
            (then
              (if (i32.eq (i32.sub (local.get $j) (local.get $i)) (i32.const 4))
                (then
                  (local.set $found (i32.const 1))
                  (br $both)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $cols (i32.le_s (local.get $j) (i32.const 12))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $rows (i32.le_s (local.get $i) (i32.const 12)))))
    (call $space) (call $print_int (local.get $found))
    (call $space) (call $print_int (local.get $i))
    (call $space) (call $print_int (local.get $j))
    (call $newline)

    ;; recursion: triangle(30) = 465, and a four-argument call 1 - 2 + 30 - 4
    (call $print_str (i32.const 4240) (i32.const 10))
    (call $space) (call $print_int (call $triangle (i32.const 30)))
    (call $space) (call $print_int (call $weigh (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4)))
    (call $newline)

    ;; never taken: unreachable behind a false condition
    (if (i32.eqz (global.get $limit)) (then (unreachable)))
    (i32.const 0)))
