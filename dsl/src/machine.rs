//! The WASM machine as a graph: at every position it predicts the next token
//! of the trace (grammar in [`crate::token`]), for any program given as a
//! token prefix (universal mode: instruction fetch reads the prefix through
//! lookups).
//!
//! # How the state is read back from the stream
//!
//! Nothing is carried from one position to the next except through
//! attention, so every quantity is a fixed-depth function of the tokens:
//!
//! - **regions**: `R` (0 in the prefix, 1 from `<run>`), the program section,
//!   the memory segments — running sums of control tokens;
//! - **step bookkeeping**: `n`, the number of steps so far (op tokens after
//!   `<run>`); `k`, the bytes the current step has written (0 at its op
//!   token); the current step's opcode and its constants are read from its op
//!   token by "latest op token" lookups;
//! - **program counter**: the target of the latest jump (its 2 trace bytes,
//!   `<run>` counting as a jump to 0) plus the steps since
//!   ([`crate::isa::MAX_STRAIGHT_RUN`] keeps that below 256, so the return
//!   address is the target's bytes plus one carry);
//! - **stack, locals, globals, memory, call stack**: latest-write lookups
//!   keyed by slot and byte, `(depth, index)` and byte, index and byte,
//!   address, and depth; the stack pointer and depth are running sums of
//!   per-opcode effects. Operands are read at the op token (before the step
//!   overwrites their slot) and carried to the step's later bytes.
//!
//! Each opcode's value computation is built inside a group named `op:NAME`,
//! the shared machinery in groups named for what it does.

use crate::expr::Expr;
use crate::graph::{Graph, LookUp, Tie};
use crate::isa::{Instr, MAX_LOCALS, Opcode};
use crate::token::{Token, VOCAB_SIZE};

/// Names of the graph's outputs, read by the next-token decoder.
pub mod output {
    /// 1 when the next token is a value byte.
    pub const EMIT_BYTE: &str = "emit_byte";
    /// The value byte (when `emit_byte`).
    pub const BYTE: &str = "byte";
    /// 1 when that byte carries (ADD) or borrows (SUB).
    pub const CARRY: &str = "carry";
    /// The next opcode's index (when not `emit_byte`).
    pub const OP: &str = "op";
    /// 1 when the trace ends here.
    pub const END: &str = "end";
    /// The current step's immediate: at the final HALT, its trap code
    /// (see [`crate::isa::trap_code`]).
    pub const HALT_CODE: &str = "halt_code";
}

/// The next token the graph's outputs denote, `None` at the end of the trace.
/// Outputs are given in [`output`] order: emit_byte, byte, carry, op, end.
pub fn decode_next(
    emit_byte: i64,
    byte: i64,
    carry: i64,
    op: i64,
    end: i64,
) -> Result<Option<Token>, String> {
    if end == 1 {
        return Ok(None);
    }
    let bad = || {
        format!(
            "outputs out of range: emit_byte={emit_byte} byte={byte} carry={carry} op={op} end={end}"
        )
    };
    match emit_byte {
        1 => {
            let b = u8::try_from(byte).map_err(|_| bad())?;
            match carry {
                0 => Ok(Some(Token::Byte(b))),
                1 => Ok(Some(Token::Carry(b))),
                _ => Err(bad()),
            }
        }
        0 => {
            let index = u8::try_from(op).map_err(|_| bad())?;
            Opcode::from_index(index)
                .map(|o| Some(Token::Op(o)))
                .ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

fn table(f: impl Fn(Token) -> i64) -> Vec<i64> {
    (0..VOCAB_SIZE as u32)
        .map(|id| Token::from_id(id).map_or(0, &f))
        .collect()
}

fn op_table(f: impl Fn(Opcode) -> i64) -> Vec<i64> {
    table(|t| match t {
        Token::Op(op) => f(op),
        _ => 0,
    })
}

struct Builder {
    g: Graph,
    one: Expr,
    pos: Expr,
}

impl Builder {
    fn lookup(&mut self, query: Expr, key: Expr, active: Expr, value: Expr, tie: Tie) -> Expr {
        self.g.lookup(LookUp {
            query,
            key,
            active,
            value,
            tie,
        })
    }

    /// `value` at the latest position `j ≤ i` where `active` is 1.
    fn latest(&mut self, active: &Expr, value: Expr) -> Expr {
        self.lookup(
            Expr::zero(),
            Expr::zero(),
            active.clone(),
            value,
            Tie::Latest,
        )
    }

    /// The byte at prefix position `at` (0 in the trace: only prefix
    /// positions take part, so the lookup's keys stop growing at `<run>`).
    fn prefix_byte(&mut self, at: Expr, in_prefix: &Expr, byte: &Expr) -> Expr {
        let pos = self.pos.clone();
        self.lookup(at, pos, in_prefix.clone(), byte.clone(), Tie::Latest)
    }

    /// `x ∧ y ∧ …` for 0/1 flags: `relu(Σ − (count − 1))`.
    fn and(&mut self, flags: &[Expr]) -> Expr {
        let sum = flags.iter().fold(Expr::zero(), |acc, f| acc + f.clone());
        let one = self.one.clone();
        self.g.reglu(one, sum - (flags.len() as i64 - 1))
    }

    /// `Σⱼ [k = j] · values[j]`: picks the byte the step writes next.
    fn pick(&mut self, k_is: &[Expr; 4], values: &[Expr]) -> Expr {
        let mut out = Expr::zero();
        for (flag, v) in k_is.iter().zip(values) {
            if *v != Expr::zero() {
                out = out + self.g.gate(flag.clone(), v.clone());
            }
        }
        out
    }
}

fn number(bytes: &[Expr]) -> Expr {
    bytes.iter().enumerate().fold(Expr::zero(), |acc, (i, b)| {
        acc + b.clone() * (1i64 << (8 * i))
    })
}

/// The parts of the universal graph that an opcode proof (`tvm-verify`'s
/// `opcode` module) treats as given — its free inputs — and the outputs it
/// makes claims about. Every field is an expression of the graph returned
/// with it by [`universal_with_ports`]; the input ports are single
/// dimensions (`1·d`).
///
/// Input ports, and what holds of them at every position of one step (its
/// op token, `k = 0`, and its value-byte tokens `k = 1, 2, …`), which is
/// what lets a proof give each one value for the whole step:
///
/// - `top`, `second`, `third`, `local`, `global`, `loaded`, `immediate`:
///   bytes read at the step's op token by a lookup and carried to its later
///   positions by a "latest op token" lookup, so one value per step, a
///   byte in `0..=255`;
/// - `return_address`: the call stack's 2 bytes under the current depth,
///   which no position of a step changes (the depth moves at op tokens
///   only, and only CALL op tokens write the call stack);
/// - `memory_size`: the 4 bytes after `<memory>` in the prefix;
/// - `bytes`, `bytes_at_op`: the running count of byte tokens and its value
///   at the step's op token, so `k = bytes − bytes_at_op`;
/// - `run`: the region flag `R`, 1 at every step position;
/// - `cur_is` (in [`Opcode::ALL`] order) and `step_features`: lookups of a
///   token feature at the latest op token, i.e. constants of the step's
///   opcode;
/// - `carry`: the token feature that is 1 on [`Token::Carry`] tokens (at
///   `k ≥ 1`, whether the step's previous value byte carried or borrowed).
///
/// Output ports: `emit_byte`, `byte`, `carry_out` and `end` are the graph's
/// outputs of those names ([`output`]); `width` is the number of value
/// bytes the step writes, from which `emit_byte` is computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ports {
    /// The top of the operand stack (popped first), bytes little-endian.
    pub top: [Expr; 4],
    /// The value below the top.
    pub second: [Expr; 4],
    /// The value below `second`.
    pub third: [Expr; 4],
    /// The local the immediate names, in the current frame.
    pub local: [Expr; 4],
    /// The global the immediate names.
    pub global: [Expr; 4],
    /// The 4 memory bytes at the load address (top + immediate).
    pub loaded: [Expr; 4],
    /// The return address stored by the CALL of the current frame.
    pub return_address: [Expr; 2],
    /// The step's immediate.
    pub immediate: [Expr; 4],
    /// The memory size in bytes, from the prefix.
    pub memory_size: [Expr; 4],
    /// Byte tokens so far (a running sum).
    pub bytes: Expr,
    /// `bytes` at the step's op token.
    pub bytes_at_op: Expr,
    /// Bytes the step has written so far: `bytes − bytes_at_op`.
    pub k: Expr,
    /// 1 from `<run>` on.
    pub run: Expr,
    /// `is(o)`: the step's opcode is `o`, for each opcode in
    /// [`Opcode::ALL`] order.
    pub cur_is: Vec<Expr>,
    /// The other per-opcode features of the step the outputs read: fixed
    /// width, access width, loads, stores.
    pub step_features: Vec<Expr>,
    /// The token feature `carry`.
    pub carry: Expr,
    /// Output: 1 when the next token is a value byte.
    pub emit_byte: Expr,
    /// The number of value bytes the step writes.
    pub width: Expr,
    /// Output: the next value byte.
    pub byte: Expr,
    /// Output: whether that byte carries (ADD) or borrows (SUB).
    pub carry_out: Expr,
    /// Output: 1 when the trace ends here.
    pub end: Expr,
}

/// The first four of `v` (zeros past its end): the builder makes them 4.
fn four(v: &[Expr]) -> [Expr; 4] {
    std::array::from_fn(|j| v.get(j).cloned().unwrap_or_default())
}

/// Builds the universal machine graph.
pub fn universal() -> Graph {
    universal_with_ports().0
}

/// Builds the universal machine graph, with the [`Ports`] an opcode proof
/// reads. The graph is the one [`universal`] returns.
pub fn universal_with_ports() -> (Graph, Ports) {
    build(Fetch::Prefix)
}

/// The machine graph with `program` baked into instruction fetch: the
/// opcode and immediate bytes are [`Graph::table`]s of the program counter
/// (named [`TABLE_OP`] and [`TABLE_IMM`]`m`), and the prefix holds no
/// program section. Everything else is the universal graph's; partial
/// evaluation (`tvm-symbolic`'s `specialize`) then removes what the
/// program cannot reach.
pub fn with_program(program: &[Instr]) -> Graph {
    build(Fetch::Baked(program)).0
}

/// The name of the baked opcode table (a function of the next pc).
pub const TABLE_OP: &str = "fetch.op";
/// The prefix of the baked immediate tables' names (`fetch.imm0` … `3`,
/// functions of the current pc).
pub const TABLE_IMM: &str = "fetch.imm";
/// The name of the opcode table's input: the next step's pc.
pub const TABLE_OP_INPUT: &str = "fetch.next_pc";
/// The name of the immediate tables' input: the current step's pc.
pub const TABLE_IMM_INPUT: &str = "fetch.pc";

/// The tokens a stream of `program`'s can hold: bytes, carry bytes if it
/// adds or subtracts, its opcodes, and the prefix's control tokens other
/// than `<program>`, as a flag per token id.
pub fn alphabet(program: &[Instr]) -> Vec<bool> {
    let used: Vec<bool> = Opcode::ALL
        .iter()
        .map(|o| program.iter().any(|i| i.op == *o))
        .collect();
    let carries = used[usize::from(Opcode::Add.index())] || used[usize::from(Opcode::Sub.index())];
    (0..VOCAB_SIZE as u32)
        .map(|id| match Token::from_id(id) {
            Ok(Token::Byte(_)) => true,
            Ok(Token::Carry(_)) => carries,
            Ok(Token::Op(o)) => used[usize::from(o.index())],
            Ok(Token::Program) | Err(_) => false,
            Ok(Token::Memory | Token::Data | Token::Input | Token::Run) => true,
        })
        .collect()
}

/// Where instruction fetch reads the program.
#[derive(Clone, Copy, Debug)]
enum Fetch<'p> {
    /// From the token prefix, by lookups.
    Prefix,
    /// From tables of the program counter.
    Baked(&'p [Instr]),
}

/// One per graph build.
#[allow(clippy::large_enum_variant)]
enum Fetcher {
    Prefix {
        prog_op: Expr,
        prog_byte: Expr,
        n_ops: Expr,
        n_bytes: Expr,
        op_index: Expr,
        byte: Expr,
    },
    Baked {
        ops: Vec<i64>,
        imm: [Vec<i64>; 4],
    },
}

impl Fetcher {
    /// The opcode index of instruction `pc` (0 past the program).
    fn op(&self, b: &mut Builder, pc: Expr) -> Expr {
        match self {
            Fetcher::Prefix {
                prog_op,
                n_ops,
                op_index,
                ..
            } => b.lookup(
                pc,
                n_ops.clone() - 1,
                prog_op.clone(),
                op_index.clone(),
                Tie::Earliest,
            ),
            Fetcher::Baked { ops, .. } => {
                let pc = named_input(&mut b.g, pc, TABLE_OP_INPUT);
                let t = b.g.table(pc, ops);
                name_table(&mut b.g, &t, TABLE_OP);
                t
            }
        }
    }

    /// Byte `m` of instruction `pc`'s immediate.
    fn imm(&self, b: &mut Builder, pc: Expr, m: i64) -> Expr {
        match self {
            Fetcher::Prefix {
                prog_byte,
                n_bytes,
                byte,
                ..
            } => b.lookup(
                pc * 4 + m,
                n_bytes.clone() - 1,
                prog_byte.clone(),
                byte.clone(),
                Tie::Earliest,
            ),
            Fetcher::Baked { imm, .. } => {
                let pc = named_input(&mut b.g, pc, TABLE_IMM_INPUT);
                let t = b.g.table(pc, &imm[m as usize]);
                name_table(&mut b.g, &t, &format!("{TABLE_IMM}{m}"));
                t
            }
        }
    }
}

/// `pc` persisted as one named dimension: a table's input, which the
/// table proof identifies by name.
fn named_input(g: &mut Graph, pc: Expr, name: &str) -> Expr {
    let x = g.persist(pc);
    if let [(d, _)] = x.terms() {
        g.name(*d, name);
    }
    x
}

fn name_table(g: &mut Graph, t: &Expr, name: &str) {
    if let [(d, _)] = t.terms() {
        g.name(*d, name);
    }
}

fn build(fetch: Fetch) -> (Graph, Ports) {
    let mut g = Graph::new();
    g.enter_group("input");
    let one = g.one();
    let pos = g.position();
    let mut b = Builder { g, one, pos };
    let g = &mut b.g;

    // Token features.
    let is_op: Vec<Expr> = Opcode::ALL
        .iter()
        .map(|&op| {
            g.feature(
                &format!("is_op:{op}"),
                table(|t| i64::from(t == Token::Op(op))),
            )
        })
        .collect();
    let any_op = g.feature("any_op", op_table(|_| 1));
    let op_index = g.feature("op_index", op_table(|op| i64::from(op.index())));
    let is_byte = g.feature("is_byte", table(|t| i64::from(t.byte().is_some())));
    let byte = g.feature("byte", table(|t| t.byte().map_or(0, i64::from)));
    let carry = g.feature("carry", table(|t| i64::from(matches!(t, Token::Carry(_)))));
    let is_program = g.feature("is_program", table(|t| i64::from(t == Token::Program)));
    let is_memory = g.feature("is_memory", table(|t| i64::from(t == Token::Memory)));
    let is_segment = g.feature(
        "is_segment",
        table(|t| i64::from(matches!(t, Token::Data | Token::Input))),
    );
    let is_run = g.feature("is_run", table(|t| i64::from(t == Token::Run)));
    let sp_delta = g.feature(
        "sp_delta",
        op_table(|op| i64::from(op.pushes()) - i64::from(op.pops())),
    );
    let pushes = g.feature("pushes", op_table(|op| i64::from(op.pushes())));
    let depth_delta = g.feature(
        "depth_delta",
        op_table(|op| match op {
            Opcode::Call => 1,
            Opcode::Return => -1,
            _ => 0,
        }),
    );
    let is_branch = g.feature(
        "is_branch",
        op_table(|op| {
            i64::from(matches!(
                op,
                Opcode::Call | Opcode::Br | Opcode::BrIf | Opcode::Return
            ))
        }),
    );
    let width_fixed = g.feature(
        "width_fixed",
        op_table(|op| match op {
            Opcode::BrIf | Opcode::Halt => 0,
            op => i64::from(op.value_width()),
        }),
    );
    let writes_local = g.feature(
        "writes_local",
        op_table(|op| i64::from(matches!(op, Opcode::LocalSet | Opcode::LocalTee))),
    );
    let writes_global = g.feature(
        "writes_global",
        op_table(|op| i64::from(op == Opcode::GlobalSet)),
    );
    let access_width = g.feature(
        "access_width",
        op_table(|op| match op {
            Opcode::Load | Opcode::Store => 4,
            Opcode::Load16S | Opcode::Load16U | Opcode::Store16 => 2,
            Opcode::Load8S | Opcode::Load8U | Opcode::Store8 => 1,
            _ => 0,
        }),
    );
    let is_load = g.feature(
        "is_load",
        op_table(|op| {
            i64::from(matches!(
                op,
                Opcode::Load | Opcode::Load8S | Opcode::Load8U | Opcode::Load16S | Opcode::Load16U
            ))
        }),
    );
    let writes_memory = g.feature(
        "writes_memory",
        op_table(|op| {
            i64::from(matches!(
                op,
                Opcode::Store | Opcode::Store8 | Opcode::Store16
            ))
        }),
    );
    let op = |o: Opcode| is_op[usize::from(o.index())].clone();

    // Regions and counters.
    g.enter_group("regions");
    let r = g.cumsum(is_run.clone());
    let n_ops = g.cumsum(any_op.clone());
    let n_bytes = g.cumsum(is_byte.clone());
    let program_section = g.cumsum(is_program) - g.cumsum(is_memory.clone());
    let steps = r.clone() - is_run.clone(); // 1 on step tokens
    let in_prefix = Expr::int(1) - r.clone();
    let in_steps = |b: &mut Builder, x: Expr| b.g.gate(r.clone(), x);

    // Program fetch: instruction i's opcode at prefix op token i, its
    // immediate bytes at program bytes 4i..4i+3 (universal); or tables of
    // the program counter (baked).
    b.g.enter_group("fetch");
    let fetcher = match fetch {
        Fetch::Prefix => Fetcher::Prefix {
            prog_op: b.g.gate(Expr::int(1) - r.clone(), any_op.clone()),
            prog_byte: b.g.gate(program_section, is_byte.clone()),
            n_ops: n_ops.clone(),
            n_bytes: n_bytes.clone(),
            op_index: op_index.clone(),
            byte: byte.clone(),
        },
        Fetch::Baked(program) => Fetcher::Baked {
            ops: program.iter().map(|i| i64::from(i.op.index())).collect(),
            imm: std::array::from_fn(|m| {
                program
                    .iter()
                    .map(|i| i64::from(i.imm.to_le_bytes()[m]))
                    .collect()
            }),
        },
    };
    let fetch_op = |b: &mut Builder, pc: Expr| fetcher.op(b, pc);
    let fetch_imm = |b: &mut Builder, pc: Expr, m: i64| fetcher.imm(b, pc, m);

    // Step bookkeeping.
    b.g.enter_group("step");
    let n_at_run = b.latest(&is_run, n_ops.clone());
    let n = n_ops.clone() - n_at_run;
    let bytes_at_op = b.latest(&any_op, n_bytes.clone());
    let k = n_bytes.clone() - bytes_at_op.clone();
    let cur = |b: &mut Builder, x: Expr| b.latest(&any_op, x);
    let cur_is: Vec<Expr> = is_op.iter().map(|x| cur(&mut b, x.clone())).collect();
    let is = |o: Opcode| cur_is[usize::from(o.index())].clone();
    let cur_is_ports = cur_is.clone();
    let k_is: [Expr; 4] = std::array::from_fn(|j| {
        let x = k.clone() - j as i64;
        b.g.is_zero(x)
    });

    // Program counter.
    b.g.enter_group("pc");
    let cur_branch = cur(&mut b, is_branch);
    let at_second = b.g.is_zero(k.clone() - 2);
    let jump_end = b.and(&[is_byte.clone(), cur_branch.clone(), at_second]);
    // The jump's first byte: the latest byte written at k = 1 of a branch.
    let jump_start = b.and(&[is_byte.clone(), cur_branch, k_is[1].clone()]);
    let prev_byte = b.latest(&jump_start, byte.clone());
    let target_lo = b.g.gate(jump_end.clone(), prev_byte);
    let target_hi = b.g.gate(jump_end.clone(), byte.clone());
    let jump = jump_end + is_run.clone();
    let last_lo = b.latest(&jump, target_lo);
    let last_hi = b.latest(&jump, target_hi);
    let last_n = b.latest(&jump, n.clone());
    let since = n.clone() - last_n;
    let next_pc = last_lo.clone() + last_hi.clone() * 256 + since.clone();
    let cur_pc = next_pc.clone() - 1;

    // Immediate of the current step, read at its op token and carried.
    let imm: Vec<Expr> = (0..4)
        .map(|m| {
            let fetched = fetch_imm(&mut b, cur_pc.clone(), m);
            cur(&mut b, fetched)
        })
        .collect();
    let imm_value = number(&imm);

    // Call stack: a CALL stores its return address (bytes) under its depth.
    b.g.enter_group("call_stack");
    let gated_depth = in_steps(&mut b, depth_delta);
    let depth = b.g.cumsum(gated_depth);
    let ret_raw = last_lo + since;
    let ret_carry = b.g.ge_zero(ret_raw.clone() - 256);
    let ret_lo = ret_raw - ret_carry.clone() * 256;
    let ret_hi = last_hi + ret_carry;
    let call_active = in_steps(&mut b, op(Opcode::Call));
    let ret_bytes = [ret_lo, ret_hi].map(|v| {
        b.lookup(
            depth.clone() + 1,
            depth.clone(),
            call_active.clone(),
            v,
            Tie::Latest,
        )
    });

    // Operand stack.
    b.g.enter_group("stack");
    let gated_sp = in_steps(&mut b, sp_delta.clone());
    let sp = b.g.cumsum(gated_sp);
    let cur_pushes = cur(&mut b, pushes);
    let sp_before = sp.clone() - cur(&mut b, sp_delta);
    let byte_index = k.clone() - 1;
    let push_active = b.and(&[is_byte.clone(), cur_pushes, r.clone()]);
    let stack_key = (sp - 1) * 4 + byte_index.clone();
    let operand: Vec<Vec<Expr>> = (0..3)
        .map(|m| {
            (0..4)
                .map(|j| {
                    let query = (sp_before.clone() - 1 - m) * 4 + j;
                    let read = b.lookup(
                        query,
                        stack_key.clone(),
                        push_active.clone(),
                        byte.clone(),
                        Tie::Latest,
                    );
                    cur(&mut b, read)
                })
                .collect()
        })
        .collect();
    let (top, second, third) = (&operand[0], &operand[1], &operand[2]);
    let top_sum = top.iter().fold(Expr::zero(), |a, x| a + x.clone());
    let top_zero = b.g.is_zero(top_sum.clone());

    // Locals, keyed by (depth, index) and byte.
    b.g.enter_group("locals");
    // A store written byte by byte by the steps of the opcodes flagged
    // `writes` (byte `j` keyed `slot + j`), read 4 bytes at a time at the op
    // token and carried to the step's later positions.
    let keyed_bytes = |b: &mut Builder, writes: Expr, slot: Expr| -> Vec<Expr> {
        let w = cur(b, writes);
        let active = b.and(&[is_byte.clone(), w, r.clone()]);
        (0..4)
            .map(|j| {
                let read = b.lookup(
                    slot.clone() + j,
                    slot.clone() + byte_index.clone(),
                    active.clone(),
                    byte.clone(),
                    Tie::Latest,
                );
                cur(b, read)
            })
            .collect()
    };
    let local = keyed_bytes(
        &mut b,
        writes_local,
        (depth.clone() * i64::from(MAX_LOCALS) + imm_value.clone()) * 4,
    );

    // Globals, keyed by index and byte.
    b.g.enter_group("globals");
    let global = keyed_bytes(&mut b, writes_global, imm_value.clone() * 4);

    // Memory: prefix segments and STORE bytes, keyed by address.
    b.g.enter_group("memory");
    let segments = b.g.cumsum(is_segment.clone());
    let header_pos = b.latest(&is_segment, b.pos.clone());
    let header_bytes = b.latest(&is_segment, n_bytes.clone());
    let base_bytes: Vec<Expr> = (0..4)
        .map(|m| b.prefix_byte(header_pos.clone() + 1 + m, &in_prefix, &byte))
        .collect();
    let ordinal = n_bytes.clone() - header_bytes - 5;
    let after_header = b.g.ge_zero(ordinal.clone());
    let in_segment = b.g.ge_zero(segments - 1);
    let data_active = b.and(&[
        is_byte.clone(),
        in_segment,
        after_header,
        Expr::int(1) - r.clone(),
    ]);
    let data_key = number(&base_bytes) + ordinal;
    let store_active = {
        let w = cur(&mut b, writes_memory.clone());
        b.and(&[is_byte.clone(), w, r.clone()])
    };
    let store_address = number(second) + imm_value.clone();
    let store_key = store_address.clone() + byte_index;
    let memory_key =
        b.g.gate(store_active.clone(), store_key) + b.g.gate(data_active.clone(), data_key);
    let memory_active = store_active + data_active;
    let load_address = number(top) + imm_value.clone();
    // Out of bounds: the access's last byte at or past the memory size
    // (read from the 4 bytes after `<memory>`).
    let memory_pos = b.latest(&is_memory, b.pos.clone());
    let size_bytes: Vec<Expr> = (0..4)
        .map(|m| b.prefix_byte(memory_pos.clone() + 1 + m, &in_prefix, &byte))
        .collect();
    let memory_size = number(&size_bytes);
    let access = cur(&mut b, access_width);
    let load_oob =
        b.g.ge_zero(load_address.clone() + access.clone() - memory_size.clone() - 1);
    let store_oob =
        b.g.ge_zero(store_address.clone() + access.clone() - memory_size - 1);
    let loads = cur(&mut b, is_load);
    let stores = cur(&mut b, writes_memory.clone());
    let mut step_features = vec![access.clone(), loads.clone(), stores.clone()];
    let out_of_bounds = b.g.gate(loads, load_oob) + b.g.gate(stores, store_oob);
    let loaded: Vec<Expr> = (0..4)
        .map(|m| {
            let read = b.lookup(
                load_address.clone() + m,
                memory_key.clone(),
                memory_active.clone(),
                byte.clone(),
                Tie::Latest,
            );
            cur(&mut b, read)
        })
        .collect();

    // The value each opcode writes, byte by byte.
    let mut out_byte = Expr::zero();
    // Each opcode gates its value into the output in its own group, so
    // `op:NAME` addresses the part of the graph that is that opcode's.
    // Byte `j` of the value is gated by `is(o) ∧ k = j` in one neuron,
    // `relu(is(o) + [k = j] − 1) · value_j`: both flags are known early, so
    // the byte costs one FFN after the value.
    let mut add_source = |b: &mut Builder, ops: &[Opcode], _source: &str, bytes: &[Expr]| {
        for &o in ops {
            b.g.enter_group(&format!("op:{o}"));
            // Only the bytes the opcode writes (a jump writes 2).
            let width = o.value_width() as usize;
            for (j, v) in bytes.iter().enumerate().take(width) {
                if *v != Expr::zero() {
                    let both = is(o) + k_is[j].clone() - 1;
                    out_byte = out_byte.clone() + b.g.reglu(v.clone(), both);
                }
            }
        }
    };
    add_source(
        &mut b,
        &[Opcode::Const, Opcode::Call, Opcode::Br, Opcode::BrIf],
        "value:immediate",
        &imm,
    );
    add_source(&mut b, &[Opcode::LocalGet], "op:LOCAL_GET", &local);
    add_source(&mut b, &[Opcode::GlobalGet], "op:GLOBAL_GET", &global);
    add_source(
        &mut b,
        &[
            Opcode::LocalSet,
            Opcode::LocalTee,
            Opcode::GlobalSet,
            Opcode::Store,
            Opcode::Store8,
            Opcode::Store16,
            Opcode::Output,
            Opcode::Halt,
        ],
        "value:top_of_stack",
        top,
    );
    add_source(&mut b, &[Opcode::Return], "op:RETURN", &ret_bytes);
    let ret_ports = ret_bytes.clone();
    add_source(&mut b, &[Opcode::Load], "op:LOAD", &loaded);
    add_source(
        &mut b,
        &[Opcode::Load8U],
        "op:LOAD8_U",
        &[loaded[0].clone()],
    );
    add_source(
        &mut b,
        &[Opcode::Load16U],
        "op:LOAD16_U",
        &[loaded[0].clone(), loaded[1].clone()],
    );
    b.g.enter_group("op:LOAD8_S");
    let sign8 = b.g.ge_zero(loaded[0].clone() - 128) * 255;
    add_source(
        &mut b,
        &[Opcode::Load8S],
        "op:LOAD8_S",
        &[loaded[0].clone(), sign8.clone(), sign8.clone(), sign8],
    );
    b.g.enter_group("op:LOAD16_S");
    let sign16 = b.g.ge_zero(loaded[1].clone() - 128) * 255;
    add_source(
        &mut b,
        &[Opcode::Load16S],
        "op:LOAD16_S",
        &[loaded[0].clone(), loaded[1].clone(), sign16.clone(), sign16],
    );
    b.g.enter_group("op:SELECT");
    let chosen: Vec<Expr> = (0..4)
        .map(|j| {
            b.g.select(top_zero.clone(), second[j].clone(), third[j].clone())
        })
        .collect();
    add_source(&mut b, &[Opcode::Select], "op:SELECT", &chosen);

    // Comparisons: whole 32-bit values are exact integers.
    let (a_u, b_u) = (number(second), number(top));
    b.g.enter_group("compare");
    let a_neg = b.g.ge_zero(second[3].clone() - 128);
    let b_neg = b.g.ge_zero(top[3].clone() - 128);
    let a_s = a_u.clone() - a_neg * (1i64 << 32);
    let b_s = b_u.clone() - b_neg * (1i64 << 32);
    // Each comparison writes its bit at the step's first byte: the flag
    // `is(o) ∧ k = 0` is known early, so the bit costs one FFN after the
    // operands.
    let first_byte = |b: &mut Builder, o: Opcode| -> Expr {
        b.g.enter_group(&format!("op:{o}"));
        b.and(&[is(o), k_is[0].clone()])
    };
    let f = first_byte(&mut b, Opcode::Eqz);
    out_byte = out_byte + b.g.is_zero_times(f, top_sum.clone());
    let f = first_byte(&mut b, Opcode::Eq);
    out_byte = out_byte + b.g.is_zero_times(f, a_u.clone() - b_u.clone());
    let f = first_byte(&mut b, Opcode::Ne);
    out_byte = out_byte + f.clone() - b.g.is_zero_times(f, a_u.clone() - b_u.clone());
    for (o, x) in [
        (Opcode::LtS, b_s.clone() - a_s.clone() - 1),
        (Opcode::LtU, b_u.clone() - a_u.clone() - 1),
        (Opcode::GtS, a_s.clone() - b_s.clone() - 1),
        (Opcode::GtU, a_u.clone() - b_u.clone() - 1),
        (Opcode::LeS, b_s.clone() - a_s.clone()),
        (Opcode::LeU, b_u.clone() - a_u.clone()),
        (Opcode::GeS, a_s.clone() - b_s.clone()),
        (Opcode::GeU, a_u.clone() - b_u.clone()),
    ] {
        let f = first_byte(&mut b, o);
        out_byte = out_byte + b.g.stepglu(f, x);
    }

    // ADD and SUB: one byte at a time, the carry (borrow) read from the
    // current token.
    b.g.enter_group("op:ADD");
    let a_j = b.pick(&k_is, second);
    let b_j = b.pick(&k_is, top);
    let sum = a_j.clone() + b_j.clone() + carry.clone();
    let add_carry = b.g.ge_zero(sum.clone() - 256);
    let add_byte = sum - add_carry.clone() * 256;
    out_byte = out_byte + b.g.gate(is(Opcode::Add), add_byte);
    b.g.enter_group("op:SUB");
    let diff = a_j - b_j - carry.clone();
    let sub_borrow = Expr::int(1) - b.g.ge_zero(diff.clone());
    let sub_byte = diff + sub_borrow.clone() * 256;
    out_byte = out_byte + b.g.gate(is(Opcode::Sub), sub_byte);
    let out_carry = b.g.gate(is(Opcode::Add), add_carry) + b.g.gate(is(Opcode::Sub), sub_borrow);

    // How many bytes the step writes, and what comes next.
    b.g.enter_group("next");
    let taken = Expr::int(1) - top_zero;
    let imm_zero = b.g.is_zero(imm_value.clone());
    let fixed = cur(&mut b, width_fixed);
    step_features.insert(0, fixed.clone());
    let width =
        fixed + b.g.gate(is(Opcode::BrIf), taken * 2) + b.g.gate(is(Opcode::Halt), imm_zero * 4);
    // A trapping access writes no byte and ends the stream.
    let width = width.clone() - b.g.gate(out_of_bounds.clone(), width);
    let more = b.g.ge_zero(width.clone() - 1 - k.clone());
    let emit_byte = b.and(&[more.clone(), steps.clone()]);
    let stops = is(Opcode::Halt) + out_of_bounds;
    let end = b.and(&[stops, Expr::int(1) - more, steps]);
    let next_op = fetch_op(&mut b, next_pc);

    let emit_byte = b.g.persist(emit_byte);
    let out_byte = b.g.persist(out_byte);
    let out_carry = b.g.persist(out_carry);
    let end = b.g.persist(end);
    b.g.output(output::EMIT_BYTE, emit_byte.clone());
    b.g.output(output::BYTE, out_byte.clone());
    b.g.output(output::CARRY, out_carry.clone());
    b.g.output(output::OP, next_op);
    b.g.output(output::END, end.clone());
    b.g.output(output::HALT_CODE, imm_value);
    let ports = Ports {
        top: four(top),
        second: four(second),
        third: four(third),
        local: four(&local),
        global: four(&global),
        loaded: four(&loaded),
        return_address: ret_ports,
        immediate: four(&imm),
        memory_size: four(&size_bytes),
        bytes: n_bytes,
        bytes_at_op,
        k,
        run: r,
        cur_is: cur_is_ports,
        step_features,
        carry,
        emit_byte,
        width,
        byte: out_byte,
        carry_out: out_carry,
        end,
    };
    (b.g, ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_writing_opcode_has_its_own_sub_graph() {
        let g = universal();
        for op in Opcode::ALL {
            let writes_value = op.value_width() > 0 || op == Opcode::BrIf;
            let group = g.group(&format!("op:{op}"));
            assert_eq!(!group.is_empty(), writes_value, "{op}");
            if writes_value {
                // Its cone reaches the token features it depends on.
                let cone = g.cone(&group);
                assert!(cone.len() > group.len(), "{op}");
            }
        }
        // DROP writes nothing: its whole effect is the stack-pointer feature.
        assert!(g.group("op:DROP").is_empty());
    }

    #[test]
    fn the_graph_is_deterministic_and_hash_consed() {
        let (a, b) = (universal(), universal());
        assert_eq!(a.dims(), b.dims());
        let mut nodes: Vec<_> = a.dims().iter().map(|d| &d.node).collect();
        nodes.sort();
        nodes.dedup();
        assert_eq!(
            nodes.len(),
            a.dims().len(),
            "no two dimensions are the same node"
        );
    }

    /// FNV-1a over a canonical text of the graph's whole structure
    /// (features, nodes with their groups and names, groups, outputs).
    fn fingerprint(g: &Graph) -> u64 {
        use crate::graph::Node;
        use std::fmt::Write as _;
        let mut text = String::new();
        for f in g.features() {
            let _ = writeln!(text, "feature {} {:?}", f.name, f.values);
        }
        for (i, d) in g.dims().iter().enumerate() {
            let node = match &d.node {
                Node::Input(x) => format!("Input {x:?}"),
                Node::ReGLU { a, b } => format!("ReGLU({a}; {b})"),
                Node::Persist(e) => format!("Persist({e})"),
                Node::CumSum(e) => format!("CumSum({e})"),
                Node::LookUp(l) => format!(
                    "LookUp(q {}; k {}; a {}; v {}; {:?})",
                    l.query, l.key, l.active, l.value, l.tie
                ),
            };
            let _ = writeln!(text, "d{i} = {node} in {} as {:?}", d.group, d.name);
        }
        for (n, e) in g.outputs() {
            let _ = writeln!(text, "output {n} = {e}");
        }
        let _ = writeln!(text, "groups {:?}", g.groups());
        text.bytes().fold(0xcbf2_9ce4_8422_2325, |h: u64, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    #[test]
    fn collecting_the_ports_leaves_the_graph_as_it_was() {
        let (g, _) = universal_with_ports();
        let plain = universal();
        assert_eq!(g.dims(), plain.dims());
        assert_eq!(g.features(), plain.features());
        assert_eq!(g.groups(), plain.groups());
        assert_eq!(g.outputs(), plain.outputs());
        // Pinned: the graph as it was before `Ports` existed. A deliberate
        // change of the machine graph updates this value (and the model
        // digests and weight snapshots with it).
        assert_eq!(fingerprint(&g), 0x2c0d_c5de_55dc_2b02);
    }

    #[test]
    fn ports_are_single_dimensions_and_outputs_are_the_graphs() {
        let (g, p) = universal_with_ports();
        let groups: [&[Expr]; 11] = [
            &p.top,
            &p.second,
            &p.third,
            &p.local,
            &p.global,
            &p.loaded,
            &p.return_address,
            &p.immediate,
            &p.memory_size,
            &p.cur_is,
            &p.step_features,
        ];
        let mut inputs: Vec<&Expr> = groups.iter().flat_map(|g| g.iter()).collect();
        inputs.extend([&p.bytes, &p.bytes_at_op, &p.run, &p.carry]);
        for e in &inputs {
            assert!(
                matches!(e.terms(), [(_, c)] if *c == crate::expr::int(1))
                    && e.constant_term() == &crate::expr::int(0),
                "{e}"
            );
        }
        let mut dims: Vec<_> = inputs.iter().flat_map(|e| e.dims()).collect();
        dims.sort();
        dims.dedup();
        assert_eq!(dims.len(), inputs.len(), "ports are distinct dimensions");
        assert_eq!(p.cur_is.len(), Opcode::ALL.len());
        assert_eq!(p.k, p.bytes.clone() - p.bytes_at_op.clone());
        let out = |name: &str| g.outputs().iter().find(|(n, _)| n == name).map(|(_, e)| e);
        assert_eq!(out(output::EMIT_BYTE), Some(&p.emit_byte));
        assert_eq!(out(output::BYTE), Some(&p.byte));
        assert_eq!(out(output::CARRY), Some(&p.carry_out));
        assert_eq!(out(output::END), Some(&p.end));
    }

    #[test]
    fn decode_rejects_outputs_that_are_not_tokens() {
        assert_eq!(decode_next(1, 0x41, 1, 0, 0), Ok(Some(Token::Carry(0x41))));
        assert_eq!(
            decode_next(0, 0, 0, 32, 0),
            Ok(Some(Token::Op(Opcode::Add)))
        );
        assert_eq!(decode_next(0, 0, 0, 0, 1), Ok(None));
        assert!(decode_next(1, 256, 0, 0, 0).is_err());
        assert!(decode_next(2, 0, 0, 0, 0).is_err());
        assert!(decode_next(0, 0, 0, 35, 0).is_err());
    }
}
