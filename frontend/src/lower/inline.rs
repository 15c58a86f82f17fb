//! The short inline forms of `x op c` for an operand `c` known at compile
//! time (multiplication by double-and-add, shifts by additions or through
//! the scratch buffer, masks of the low bits, the identities), used instead
//! of calling the operator's routine. One emitter serves the lowering and
//! the verifier, which proves the forms it can execute (`tvm verify
//! --lowering inline`, items `SHL_BY_5`, `AND_BY_0`, …).

use super::asm::Asm;
use super::routine::Routine;
use tvm_dsl::isa::Opcode;

/// Where an inline form writes: the code, its two scratch locals, and the
/// scratch buffer's address (the program's `__tvm_scratch`, if any).
pub struct InlineForm<'a> {
    /// The code.
    pub a: &'a mut Asm,
    /// A local the form may overwrite.
    pub t: u32,
    /// A second one.
    pub acc: u32,
    /// The scratch buffer (4 bytes and one above), if the program has it.
    pub scratch: Option<u32>,
}

impl InlineForm<'_> {
    /// Stores the value on top of the stack into the scratch buffer `s` with
    /// `store` at `s + store_at`, and loads it back with `load` from
    /// `s + load_at`.
    pub fn through_scratch(
        &mut self,
        s: u32,
        store: Opcode,
        store_at: u32,
        load: Opcode,
        load_at: u32,
    ) {
        let t = self.t;
        self.a.set(t);
        self.a.konst(s);
        self.a.get(t);
        self.a.op(store, store_at);
        self.a.konst(s);
        self.a.op(load, load_at);
    }

    /// Emits `x op c` for the `x` on the stack, if there is a short inline
    /// form; returns whether it did.
    pub fn emit(&mut self, r: Routine, c: u32) -> bool {
        let (scratch, t, acc) = (self.scratch, self.t, self.acc);
        match r {
            Routine::Mul => {
                if c == 0 {
                    self.a.plain(Opcode::Drop);
                    self.a.konst(0);
                    return true;
                }
                // Double-and-add over the bits of c below its top bit.
                self.a.set(t);
                self.a.get(t);
                for bit in (0..31 - c.leading_zeros()).rev() {
                    self.a.tee(acc);
                    self.a.get(acc);
                    self.a.plain(Opcode::Add);
                    if c >> bit & 1 == 1 {
                        self.a.get(t);
                        self.a.plain(Opcode::Add);
                    }
                }
                true
            }
            Routine::Shl => {
                let k = c % 32;
                for _ in 0..k {
                    self.a.tee(acc);
                    self.a.get(acc);
                    self.a.plain(Opcode::Add);
                }
                true
            }
            Routine::ShrU | Routine::ShrS if c.is_multiple_of(32) => true,
            Routine::ShrU | Routine::ShrS => {
                let signed = r == Routine::ShrS;
                let Some(s) = scratch else { return false };
                match (c % 32, signed) {
                    (24, false) => self.through_scratch(s, Opcode::Store, 0, Opcode::Load8U, 3),
                    (24, true) => self.through_scratch(s, Opcode::Store, 0, Opcode::Load8S, 3),
                    (16, false) => self.through_scratch(s, Opcode::Store, 0, Opcode::Load16U, 2),
                    (16, true) => self.through_scratch(s, Opcode::Store, 0, Opcode::Load16S, 2),
                    (8, false) => {
                        // bytes 1..4 of x, with a zero byte above.
                        self.a.set(t);
                        self.a.konst(s);
                        self.a.konst(0);
                        self.a.op(Opcode::Store, 4);
                        self.through_scratch_value(s, t);
                    }
                    _ => return false,
                }
                true
            }
            Routine::And => match (c, scratch) {
                (0, _) => {
                    self.a.plain(Opcode::Drop);
                    self.a.konst(0);
                    true
                }
                (u32::MAX, _) => true,
                (mask, Some(s)) if mask.wrapping_add(1).is_power_of_two() && mask <= 0xffff => {
                    self.low_bits(s, mask.count_ones());
                    true
                }
                _ => false,
            },
            // x mod 2^k is x & (2^k - 1).
            Routine::RemU if c.is_power_of_two() && c <= 0x1_0000 => match scratch {
                Some(s) => {
                    self.low_bits(s, c.trailing_zeros());
                    true
                }
                None => false,
            },
            // x / 2^k for whole bytes is a byte shift.
            Routine::DivU if c == 1 => true,
            Routine::DivU if matches!(c, 0x100 | 0x1_0000 | 0x100_0000) => {
                self.emit(Routine::ShrU, c.trailing_zeros())
            }
            Routine::Or | Routine::Xor => c == 0,
            Routine::Rotl | Routine::Rotr => c.is_multiple_of(32),
            _ => false,
        }
    }

    /// `x & (2^bits - 1)` for `bits <= 16`: the low byte or half-word
    /// through the scratch buffer, then the bits above `bits` subtracted
    /// from the top down (at most 7 compare-and-subtract steps).
    fn low_bits(&mut self, s: u32, bits: u32) {
        if bits == 0 {
            self.a.plain(Opcode::Drop);
            self.a.konst(0);
            return;
        }
        let (store, load, width) = if bits <= 8 {
            (Opcode::Store8, Opcode::Load8U, 8)
        } else {
            (Opcode::Store16, Opcode::Load16U, 16)
        };
        self.through_scratch(s, store, 0, load, 0);
        let v = self.t;
        if bits < width {
            self.a.set(v);
            for bit in (bits..width).rev() {
                // v = v >=u 2^bit ? v - 2^bit : v
                let p = 1u32 << bit;
                self.a.get(v);
                self.a.konst(p);
                self.a.plain(Opcode::Sub);
                self.a.get(v);
                self.a.get(v);
                self.a.konst(p);
                self.a.plain(Opcode::GeU);
                self.a.plain(Opcode::Select);
                self.a.set(v);
            }
            self.a.get(v);
        }
    }

    /// Stores local `t` at `s` and loads 4 bytes from `s + 1`.
    fn through_scratch_value(&mut self, s: u32, t: u32) {
        self.a.konst(s);
        self.a.get(t);
        self.a.op(Opcode::Store, 0);
        self.a.konst(s);
        self.a.op(Opcode::Load, 1);
    }
}
