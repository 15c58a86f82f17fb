//! i64 operators, inline over the two halves or through routines.
//!
//! An i64 is two words on the stack, low then high. Add and sub carry and
//! borrow explicitly (`lo' <u a_lo`, `a_lo <u b_lo`); comparisons compare the
//! high words (strictly, signed or unsigned) unless they are equal, then the
//! low words unsigned; `eqz`, loads, stores, `wrap`, `extend` are a few
//! native steps. Multiplication, division, shifts, rotates and bit counts
//! call the routines of [`super::wide_routine`]; `and`/`or`/`xor` call the
//! i32 routine once per half.

use super::function::{FunctionLowering, TEMP, TEMP2, TEMP3, TEMP4, TEMP5};
use super::routine::Routine;
use crate::decode::DecodeError;
use crate::invoke::ValueKind;
use tvm_dsl::isa::Opcode;
use wasmparser::Operator;

/// How a 64-bit comparison decides.
#[derive(Clone, Copy)]
struct Compare {
    /// On the high words when they differ (strict).
    high: Opcode,
    /// On the low words when the high words are equal (unsigned).
    low: Opcode,
}

impl FunctionLowering<'_, '_> {
    /// Lowers an i64 operator (or one that converts to or from i64);
    /// returns false for anything else.
    pub(super) fn wide(&mut self, op: &Operator<'_>, offset: u64) -> Result<bool, DecodeError> {
        use Opcode::*;
        match *op {
            Operator::I64Const { value } => {
                self.a.konst(value as u32);
                self.a.konst((value as u64 >> 32) as u32);
                self.stack.push(ValueKind::I64);
            }
            Operator::I64Add => self.add_sub(true),
            Operator::I64Sub => self.add_sub(false),
            Operator::I64Eqz => {
                // hi == 0 ? lo == 0 : 0
                let t = self.local(TEMP);
                self.a.set(t);
                self.a.plain(Eqz);
                self.a.konst(0);
                self.a.get(t);
                self.a.plain(Eqz);
                self.a.plain(Select);
                self.pop();
                self.stack.push(ValueKind::I32);
            }
            Operator::I64Eq | Operator::I64Ne => {
                let [al, ah, bl, bh] = self.operands();
                self.a.get(al);
                self.a.get(bl);
                self.a.plain(Eq);
                self.a.get(ah);
                self.a.get(bh);
                self.a.plain(Eq);
                self.a.plain(Add);
                self.a.konst(2);
                self.a.plain(if matches!(op, Operator::I64Eq) {
                    Eq
                } else {
                    Ne
                });
                self.pop_n(2);
                self.stack.push(ValueKind::I32);
            }
            Operator::I64LtS => self.compare(LtS, LtU),
            Operator::I64LtU => self.compare(LtU, LtU),
            Operator::I64GtS => self.compare(GtS, GtU),
            Operator::I64GtU => self.compare(GtU, GtU),
            Operator::I64LeS => self.compare(LtS, LeU),
            Operator::I64LeU => self.compare(LtU, LeU),
            Operator::I64GeS => self.compare(GtS, GeU),
            Operator::I64GeU => self.compare(GtU, GeU),
            Operator::I32WrapI64 => {
                self.a.plain(Drop);
                self.pop();
                self.stack.push(ValueKind::I32);
            }
            Operator::I64ExtendI32U => {
                self.a.konst(0);
                self.pop();
                self.stack.push(ValueKind::I64);
            }
            Operator::I64ExtendI32S => {
                self.sign_extend_high();
                self.pop();
                self.stack.push(ValueKind::I64);
            }
            Operator::I64Extend8S | Operator::I64Extend16S => {
                self.a.plain(Drop);
                self.pop();
                self.stack.push(ValueKind::I32);
                self.lowered(if matches!(op, Operator::I64Extend8S) {
                    Routine::Extend8S
                } else {
                    Routine::Extend16S
                });
                self.sign_extend_high();
                self.pop();
                self.stack.push(ValueKind::I64);
            }
            Operator::I64Extend32S => {
                self.a.plain(Drop);
                self.sign_extend_high();
            }
            Operator::I64And | Operator::I64Or | Operator::I64Xor => {
                let r = match op {
                    Operator::I64And => Routine::And,
                    Operator::I64Or => Routine::Or,
                    _ => Routine::Xor,
                };
                match self.take_const64() {
                    Some(c) => self.halves_with_constant(r, c),
                    None => self.halves(r),
                }
            }
            Operator::I64Mul => self.routine64(Routine::Mul64),
            Operator::I64DivU => self.routine64(Routine::DivU64),
            Operator::I64DivS => self.routine64(Routine::DivS64),
            Operator::I64RemU => self.routine64(Routine::RemU64),
            Operator::I64RemS => self.routine64(Routine::RemS64),
            Operator::I64Shl => self.shift(Routine::Shl64),
            Operator::I64ShrU => self.shift(Routine::ShrU64),
            Operator::I64ShrS => self.shift(Routine::ShrS64),
            Operator::I64Rotl => self.routine64(Routine::Rotl64),
            Operator::I64Rotr => self.routine64(Routine::Rotr64),
            Operator::I64Clz => self.routine64(Routine::Clz64),
            Operator::I64Ctz => self.routine64(Routine::Ctz64),
            Operator::I64Popcnt => self.routine64(Routine::Popcnt64),
            Operator::I64Load { memarg } => {
                let at = self.memarg("i64.load", memarg, offset)?;
                self.check_bounds(0, at, 8);
                let addr = self.local(TEMP);
                self.a.set(addr);
                self.a.get(addr);
                self.a.op(Load, at);
                self.a.get(addr);
                // An offset past 2^32 - 5 makes the first load trap.
                self.a.op(Load, at.saturating_add(4));
                self.pop();
                self.stack.push(ValueKind::I64);
            }
            Operator::I64Load8S { memarg } => self.load_extend(Load8S, memarg, offset, 1, true)?,
            Operator::I64Load8U { memarg } => self.load_extend(Load8U, memarg, offset, 1, false)?,
            Operator::I64Load16S { memarg } => {
                self.load_extend(Load16S, memarg, offset, 2, true)?
            }
            Operator::I64Load16U { memarg } => {
                self.load_extend(Load16U, memarg, offset, 2, false)?
            }
            Operator::I64Load32S { memarg } => self.load_extend(Load, memarg, offset, 4, true)?,
            Operator::I64Load32U { memarg } => self.load_extend(Load, memarg, offset, 4, false)?,
            Operator::I64Store { memarg } => {
                let at = self.memarg("i64.store", memarg, offset)?;
                self.check_bounds(2, at, 8);
                let (addr, lo, hi) = (self.local(TEMP), self.local(TEMP2), self.local(TEMP3));
                self.a.set(hi);
                self.a.set(lo);
                self.a.set(addr);
                // The high word first: if any byte is out of bounds, the
                // high word's are, and nothing is written before the trap.
                match at.checked_add(4) {
                    Some(high_at) => {
                        self.a.get(addr);
                        self.a.get(hi);
                        self.a.op(Store, high_at);
                        self.a.get(addr);
                        self.a.get(lo);
                        self.a.op(Store, at);
                    }
                    None => {
                        // The low word's store is already out of bounds.
                        self.a.get(addr);
                        self.a.get(lo);
                        self.a.op(Store, at);
                    }
                }
                self.pop_n(2);
            }
            Operator::I64Store8 { memarg } => self.store_low(Store8, memarg, offset, 1)?,
            Operator::I64Store16 { memarg } => self.store_low(Store16, memarg, offset, 2)?,
            Operator::I64Store32 { memarg } => self.store_low(Store, memarg, offset, 4)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Pops two i64 operands into scratch locals: `[a_lo, a_hi, b_lo, b_hi]`.
    fn operands(&mut self) -> [u32; 4] {
        let l = [
            self.local(TEMP),
            self.local(TEMP2),
            self.local(TEMP3),
            self.local(TEMP4),
        ];
        for &x in l.iter().rev() {
            self.a.set(x);
        }
        l
    }

    fn add_sub(&mut self, add: bool) {
        use Opcode::*;
        let [al, ah, bl, bh] = self.operands();
        let lo = self.local(TEMP5);
        if add {
            // lo = al + bl; hi = ah + bh + (lo <u al)
            self.a.get(al);
            self.a.get(bl);
            self.a.plain(Add);
            self.a.tee(lo);
            self.a.get(ah);
            self.a.get(bh);
            self.a.plain(Add);
            self.a.get(lo);
            self.a.get(al);
            self.a.plain(LtU);
            self.a.plain(Add);
        } else {
            // lo = al - bl; hi = ah - bh - (al <u bl)
            self.a.get(al);
            self.a.get(bl);
            self.a.plain(Sub);
            self.a.get(ah);
            self.a.get(bh);
            self.a.plain(Sub);
            self.a.get(al);
            self.a.get(bl);
            self.a.plain(LtU);
            self.a.plain(Sub);
        }
        self.pop_n(2);
        self.stack.push(ValueKind::I64);
    }

    fn compare(&mut self, high: Opcode, low: Opcode) {
        let c = Compare { high, low };
        let [al, ah, bl, bh] = self.operands();
        // ah == bh ? (al low bl) : (ah high bh)
        self.a.get(al);
        self.a.get(bl);
        self.a.plain(c.low);
        self.a.get(ah);
        self.a.get(bh);
        self.a.plain(c.high);
        self.a.get(ah);
        self.a.get(bh);
        self.a.plain(Opcode::Eq);
        self.a.plain(Opcode::Select);
        self.pop_n(2);
        self.stack.push(ValueKind::I32);
    }

    /// `[x]` → `[x, x <s 0 ? -1 : 0]` (the high word of `x` sign-extended).
    fn sign_extend_high(&mut self) {
        let t = self.local(TEMP);
        self.a.tee(t);
        self.a.konst(0);
        self.a.get(t);
        self.a.konst(0);
        self.a.plain(Opcode::LtS);
        self.a.plain(Opcode::Sub);
    }

    /// An i64 bitwise operator as the i32 routine on each half.
    fn halves(&mut self, r: Routine) {
        let [al, ah, bl, bh] = self.operands();
        self.routines.insert(r);
        self.a.get(al);
        self.a.get(bl);
        self.a.call_routine(r);
        self.a.get(ah);
        self.a.get(bh);
        self.a.call_routine(r);
        self.pop_n(2);
        self.stack.push(ValueKind::I64);
    }

    /// If the code just pushed an i64 constant (two `CONST`s nothing can
    /// jump between), removes it and returns it.
    fn take_const64(&mut self) -> Option<u64> {
        let hi = self.a.take_const()?;
        match self.a.take_const() {
            Some(lo) => Some(u64::from(hi) << 32 | u64::from(lo)),
            None => {
                self.a.konst(hi);
                None
            }
        }
    }

    /// `x op c` on the i32 on top of the stack, for a constant `c`: the
    /// identities of `0` and `0xffff_ffff` inline, else the i32 lowering
    /// (with its own constant forms).
    fn half_with_constant(&mut self, r: Routine, c: u32) {
        // TEMP and TEMP2 belong to the i32 constant forms.
        let t = self.local(TEMP4);
        match (r, c) {
            (Routine::And, u32::MAX) | (Routine::Or | Routine::Xor, 0) => {}
            (Routine::And, 0) | (Routine::Or, u32::MAX) => {
                self.a.plain(Opcode::Drop);
                self.a.konst(c);
            }
            (Routine::Xor, u32::MAX) => {
                // !x = -1 - x
                self.a.set(t);
                self.a.konst(u32::MAX);
                self.a.get(t);
                self.a.plain(Opcode::Sub);
            }
            _ => {
                self.stack.push(ValueKind::I32);
                self.a.konst(c);
                self.stack.push(ValueKind::I32);
                self.lowered(r);
                self.pop();
            }
        }
    }

    /// An i64 bitwise operator with a constant operand, half by half.
    fn halves_with_constant(&mut self, r: Routine, c: u64) {
        let hi = self.local(TEMP3);
        self.pop_n(2);
        self.a.set(hi);
        self.half_with_constant(r, c as u32);
        self.a.get(hi);
        self.half_with_constant(r, (c >> 32) as u32);
        self.stack.push(ValueKind::I64);
    }

    /// An i64 shift: by a constant, word moves and i32 shifts by constants
    /// (which have inline forms); by a variable, its routine.
    fn shift(&mut self, r: Routine) {
        let Some(c) = self.take_const64() else {
            self.routine64(r);
            return;
        };
        let k = (c % 64) as u32;
        self.pop_n(2);
        // TEMP and TEMP2 belong to the i32 constant forms.
        let t = self.local(TEMP3);
        let i32_shift = |this: &mut Self, op: Routine, by: u32| {
            if by != 0 {
                this.stack.push(ValueKind::I32);
                this.a.konst(by);
                this.stack.push(ValueKind::I32);
                this.lowered(op);
                this.pop();
            }
        };
        let (lo, hi) = (self.local(TEMP3), self.local(TEMP4));
        match (r, k) {
            (_, 0) => {}
            (Routine::Shl64, 1..32) => {
                // [lo << k, hi << k + lo >>u (32 - k)]
                self.a.set(hi);
                self.a.set(lo);
                self.a.get(lo);
                i32_shift(self, Routine::Shl, k);
                self.a.get(hi);
                i32_shift(self, Routine::Shl, k);
                self.a.get(lo);
                i32_shift(self, Routine::ShrU, 32 - k);
                self.a.plain(Opcode::Add);
            }
            (_, 1..32) => {
                // [lo >>u k + hi << (32 - k), hi >> k]
                self.a.set(hi);
                self.a.set(lo);
                self.a.get(lo);
                i32_shift(self, Routine::ShrU, k);
                self.a.get(hi);
                i32_shift(self, Routine::Shl, 32 - k);
                self.a.plain(Opcode::Add);
                self.a.get(hi);
                let op = if r == Routine::ShrS64 {
                    Routine::ShrS
                } else {
                    Routine::ShrU
                };
                i32_shift(self, op, k);
            }
            (Routine::Shl64, _) => {
                // [lo hi] -> [0, lo << (k - 32)]
                self.a.plain(Opcode::Drop);
                i32_shift(self, Routine::Shl, k - 32);
                self.a.set(t);
                self.a.konst(0);
                self.a.get(t);
            }
            (Routine::ShrU64, _) => {
                // [lo hi] -> [hi >>u (k - 32), 0]
                self.a.set(t);
                self.a.plain(Opcode::Drop);
                self.a.get(t);
                i32_shift(self, Routine::ShrU, k - 32);
                self.a.konst(0);
            }
            _ => {
                // [lo hi] -> [hi >>s (k - 32), hi <s 0 ? -1 : 0]
                self.a.set(t);
                self.a.plain(Opcode::Drop);
                self.a.get(t);
                i32_shift(self, Routine::ShrS, k - 32);
                self.a.konst(0);
                self.a.get(t);
                self.a.konst(0);
                self.a.plain(Opcode::LtS);
                self.a.plain(Opcode::Sub);
            }
        }
        self.stack.push(ValueKind::I64);
    }

    /// A call of an i64 routine.
    fn routine64(&mut self, r: Routine) {
        self.routines.insert(r);
        self.a.call_routine(r);
        self.pop_n((r.arity() / 2) as usize);
        self.stack.push(ValueKind::I64);
    }

    fn load_extend(
        &mut self,
        op: Opcode,
        memarg: wasmparser::MemArg,
        offset: u64,
        width: u32,
        signed: bool,
    ) -> Result<(), DecodeError> {
        let at = self.memarg(op.name(), memarg, offset)?;
        self.check_bounds(0, at, width);
        self.a.op(op, at);
        if signed {
            self.sign_extend_high();
        } else {
            self.a.konst(0);
        }
        self.pop();
        self.stack.push(ValueKind::I64);
        Ok(())
    }

    fn store_low(
        &mut self,
        op: Opcode,
        memarg: wasmparser::MemArg,
        offset: u64,
        width: u32,
    ) -> Result<(), DecodeError> {
        let at = self.memarg(op.name(), memarg, offset)?;
        self.a.plain(Opcode::Drop);
        self.check_bounds(1, at, width);
        self.a.op(op, at);
        self.pop_n(2);
        Ok(())
    }
}
