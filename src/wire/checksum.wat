;; The body of the internet checksum (RFC 1071) in WebAssembly SIMD: the source of
;; `checksum-wasm.ts`, which `scripts/make-checksum-wasm.mjs` assembles from this file
;; (and a test checks that the two agree).
;;
;; The caller copies the bytes to sum to offset 0 of the memory, at most CHUNK (65,536)
;; bytes, and calls `sum(n)`. The result is the sum of the bytes taken as 16-bit
;; little-endian words (WebAssembly loads are little-endian on every platform), not
;; folded: the caller folds it and swaps its two bytes to get the big-endian sum (RFC 1071
;; 2(B): byte order independence).
;;
;; Bounds: each 16-byte load adds two words of < 2^16 to each of four 32-bit lanes, under
;; 2^17 a lane. 64 KiB is 1,024 iterations of the main loop, so each accumulator lane
;; stays below 2^27, their sum below 2^29, and the four lanes' total below 2^31: it fits a
;; positive i32 without a carry ever being lost.
(module
  ;; Two pages: a 65,536-byte chunk and the 16 zero bytes written after it.
  (memory (export "memory") 2 2)

  (func (export "sum") (param $n i32) (result i32)
    (local $p i32) (local $end i32) (local $end64 i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    ;; Zeros after the data, so the last 16-byte load sums them as padding (an odd last byte
    ;; is the high byte of a word whose low byte is zero: RFC 1071's padding).
    (v128.store (local.get $n) (v128.const i64x2 0 0))
    (local.set $end (i32.and (i32.add (local.get $n) (i32.const 15)) (i32.const -16)))
    (local.set $end64 (i32.and (local.get $end) (i32.const -64)))
    ;; 64 bytes at a time into four independent accumulators.
    (block $done64
      (loop $by64
        (br_if $done64 (i32.ge_u (local.get $p) (local.get $end64)))
        (local.set $a (i32x4.add (local.get $a) (i32x4.extadd_pairwise_i16x8_u (v128.load offset=0 (local.get $p)))))
        (local.set $b (i32x4.add (local.get $b) (i32x4.extadd_pairwise_i16x8_u (v128.load offset=16 (local.get $p)))))
        (local.set $c (i32x4.add (local.get $c) (i32x4.extadd_pairwise_i16x8_u (v128.load offset=32 (local.get $p)))))
        (local.set $d (i32x4.add (local.get $d) (i32x4.extadd_pairwise_i16x8_u (v128.load offset=48 (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $by64)))
    ;; Then the last up to three 16-byte blocks.
    (block $done16
      (loop $by16
        (br_if $done16 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $a (i32x4.add (local.get $a) (i32x4.extadd_pairwise_i16x8_u (v128.load (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $by16)))
    (local.set $a (i32x4.add (i32x4.add (local.get $a) (local.get $b)) (i32x4.add (local.get $c) (local.get $d))))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $a)) (i32x4.extract_lane 1 (local.get $a)))
      (i32.add (i32x4.extract_lane 2 (local.get $a)) (i32x4.extract_lane 3 (local.get $a))))))
