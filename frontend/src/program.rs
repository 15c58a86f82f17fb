//! The lowered program: what the machine runs and what the token prefix
//! spells out.
//!
//! A [`Program`] is a flat list of [`Instr`]s over the 35 native opcodes, the
//! memory size, and the initial memory segments. An [`Input`] is the input
//! image (the `argc`/`argv` block that `main` reads). Together they make the
//! token prefix (see [`tvm_dsl::token`] for the grammar), which
//! [`Program::prefix_tokens`] writes and [`TokenFile::parse`] reads back.

use std::fmt::Write as _;
use tvm_dsl::isa::{Immediate, Instr, MAX_PROGRAM, MAX_STRAIGHT_RUN, Opcode};
use tvm_dsl::token::{Token, TokenError};

/// Where the input image starts in linear memory.
pub const INPUT_BASE: u32 = 256;
/// The input image must end at or below this address (C programs are linked
/// with their data starting here).
pub const INPUT_LIMIT: u32 = 4096;
pub use tvm_dsl::isa::{MAX_MEMORY, MAX_TABLE};

/// Locals per frame and globals the machine supports.
pub const MAX_INDEX: u32 = 1 << 16;

/// A contiguous run of initial memory contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Address of the first byte.
    pub base: u32,
    /// The bytes, stored at `base..base + bytes.len()`.
    pub bytes: Vec<u8>,
}

/// Name and extent of one function of the lowered program (for diagnostics,
/// listings and profiles; the machine itself does not need them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionInfo {
    /// The function's name (from the wasm name section, or `func[N]`, or the
    /// lowered operator a helper implements, like `lowered.mul`).
    pub name: String,
    /// Index of its first instruction.
    pub entry: u32,
    /// One past its last instruction.
    pub end: u32,
}

/// A program lowered to the machine's native opcodes.
///
/// Invariant: every branch target lies inside `instrs`; the memory size is at
/// most [`MAX_MEMORY`]; every segment lies inside memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// The instructions; execution starts at index 0.
    pub instrs: Vec<Instr>,
    /// Size of linear memory in bytes.
    pub memory_size: u32,
    /// Initial memory contents (everything else starts as zero).
    pub data: Vec<Segment>,
    /// The functions, in instruction order.
    pub functions: Vec<FunctionInfo>,
}

/// Where the standard-input header lives: two little-endian words, the
/// address of the first stdin byte and the number of bytes (both 0 without
/// stdin). tvm's libc reads stdin through them.
pub const STDIN_INFO: u32 = 248;

/// The program's input: its arguments and its standard input.
///
/// - The arguments are laid out at [`INPUT_BASE`] as `argc: i32`,
///   `argv[0..argc]: i32` pointers, a null pointer, then the NUL-terminated
///   strings (the *image*).
/// - Standard input occupies the top of linear memory, `[memory_size − n,
///   memory_size)`, and its address and length are the two words at
///   [`STDIN_INFO`] (see [`Input::segments`]). tvm's libc ends the heap
///   below it.
///
/// In the token prefix every part is an `<input>` segment: the image, then
/// (with stdin) the header and the bytes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Input {
    /// The image; empty when the program takes no arguments.
    pub image: Segment,
    /// The bytes of standard input.
    pub stdin: Vec<u8>,
}

impl Default for Segment {
    fn default() -> Self {
        Segment {
            base: INPUT_BASE,
            bytes: Vec::new(),
        }
    }
}

/// The arguments do not fit the input area.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the arguments need {needed} bytes but the input area holds {available} (addresses {INPUT_BASE}..{INPUT_LIMIT}); pass shorter arguments"
)]
pub struct InputTooLarge {
    /// Bytes the image would need.
    pub needed: usize,
    /// Bytes available.
    pub available: usize,
}

impl Input {
    /// Lays out `argv` (program name first) as the input image.
    pub fn from_args(program_name: &str, args: &[&str]) -> Result<Input, InputTooLarge> {
        let argv: Vec<&str> = std::iter::once(program_name)
            .chain(args.iter().copied())
            .collect();
        let header = 4 + 4 * (argv.len() + 1);
        let strings: usize = argv.iter().map(|a| a.len() + 1).sum();
        let needed = header + strings;
        let available = (INPUT_LIMIT - INPUT_BASE) as usize;
        if needed > available {
            return Err(InputTooLarge { needed, available });
        }
        let mut bytes = Vec::with_capacity(needed);
        bytes.extend_from_slice(&(argv.len() as u32).to_le_bytes());
        let mut next = INPUT_BASE as usize + header;
        for arg in &argv {
            bytes.extend_from_slice(&(next as u32).to_le_bytes());
            next += arg.len() + 1;
        }
        bytes.extend_from_slice(&0u32.to_le_bytes());
        for arg in &argv {
            bytes.extend_from_slice(arg.as_bytes());
            bytes.push(0);
        }
        Ok(Input {
            image: Segment {
                base: INPUT_BASE,
                bytes,
            },
            stdin: Vec::new(),
        })
    }

    /// Splits `args` on whitespace and lays them out.
    pub fn from_arg_string(program_name: &str, args: &str) -> Result<Input, InputTooLarge> {
        let parts: Vec<&str> = args.split_whitespace().collect();
        Input::from_args(program_name, &parts)
    }

    /// The same input with `bytes` as standard input.
    pub fn with_stdin(self, bytes: Vec<u8>) -> Input {
        Input {
            stdin: bytes,
            ..self
        }
    }

    /// The segments this input places in a memory of `memory_size` bytes:
    /// the argument image (if any), then, with stdin, the header at
    /// [`STDIN_INFO`] and the bytes at the top of memory. Check that they
    /// fit with [`Input::check_fits`] first.
    pub fn segments(&self, memory_size: u32) -> Vec<Segment> {
        let mut out = Vec::new();
        if !self.image.bytes.is_empty() {
            out.push(self.image.clone());
        }
        if !self.stdin.is_empty() {
            let len = self.stdin.len() as u32;
            let start = memory_size.saturating_sub(len);
            let mut header = start.to_le_bytes().to_vec();
            header.extend(len.to_le_bytes());
            out.push(Segment {
                base: STDIN_INFO,
                bytes: header,
            });
            out.push(Segment {
                base: start,
                bytes: self.stdin.clone(),
            });
        }
        out
    }

    /// Whether standard input fits a memory of `memory_size` bytes above
    /// the input area and the program's data (`data_end`).
    pub fn check_fits(&self, memory_size: u32, data_end: u32) -> Result<(), StdinTooLarge> {
        let room = memory_size.saturating_sub(data_end.max(INPUT_LIMIT));
        if self.stdin.len() as u64 > u64::from(room) {
            return Err(StdinTooLarge {
                needed: self.stdin.len(),
                available: room as usize,
            });
        }
        Ok(())
    }
}

/// Standard input does not fit the program's memory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "standard input of {needed} bytes does not fit: the program's memory has {available} bytes free above its data"
)]
pub struct StdinTooLarge {
    /// Bytes of stdin.
    pub needed: usize,
    /// Bytes free at the top of memory.
    pub available: usize,
}

impl Program {
    /// The function containing instruction `pc`, if any.
    pub fn function_at(&self, pc: u32) -> Option<&FunctionInfo> {
        let i = self.functions.partition_point(|f| f.entry <= pc);
        self.functions[..i].last().filter(|f| pc < f.end)
    }

    /// The token prefix for this program and input (grammar in
    /// [`tvm_dsl::token`]).
    pub fn prefix_tokens(&self, input: &Input) -> Vec<Token> {
        let mut out = vec![Token::Program];
        for instr in &self.instrs {
            out.push(Token::Op(instr.op));
            out.extend(instr.imm.to_le_bytes().map(Token::Byte));
        }
        out.extend(self.specialised_prefix_tokens(input));
        out
    }

    /// The prefix a model specialised to this program reads: the
    /// universal prefix without its program section (`<memory> … <run>`),
    /// since the weights hold the instructions.
    pub fn specialised_prefix_tokens(&self, input: &Input) -> Vec<Token> {
        let mut out = vec![Token::Memory];
        out.extend(self.memory_size.to_le_bytes().map(Token::Byte));
        for segment in &self.data {
            out.push(Token::Data);
            push_segment(&mut out, segment);
        }
        for segment in input.segments(self.memory_size) {
            out.push(Token::Input);
            push_segment(&mut out, &segment);
        }
        out.push(Token::Run);
        out
    }

    /// The program's prefix without input, as space-separated token
    /// texts: what a specialised model's header records (and what its
    /// program digest is taken of). [`TokenFile::parse`] reads it back.
    pub fn baked_text(&self) -> String {
        let tokens: Vec<String> = self
            .prefix_tokens(&Input::default())
            .iter()
            .map(Token::to_string)
            .collect();
        tokens.join(" ")
    }

    /// The prefix as readable text: one instruction per line, segments
    /// wrapped at 32 bytes, with `#` comments naming functions.
    pub fn prefix_text(&self, input: &Input) -> String {
        let mut text = String::new();
        let mut functions = self.functions.iter().peekable();
        text.push_str("<program>\n");
        for (pc, instr) in self.instrs.iter().enumerate() {
            if let Some(f) = functions.next_if(|f| f.entry as usize == pc) {
                let _ = writeln!(text, "# {} @{}", f.name, f.entry);
            }
            let [a, b, c, d] = instr.imm.to_le_bytes();
            let _ = writeln!(text, "{} {a:02x} {b:02x} {c:02x} {d:02x}", instr.op);
        }
        let [a, b, c, d] = self.memory_size.to_le_bytes();
        let _ = writeln!(text, "<memory> {a:02x} {b:02x} {c:02x} {d:02x}");
        for segment in &self.data {
            write_segment(&mut text, Token::Data, segment);
        }
        for segment in input.segments(self.memory_size) {
            write_segment(&mut text, Token::Input, &segment);
        }
        text.push_str("<run>\n");
        text
    }
}

fn push_segment(out: &mut Vec<Token>, segment: &Segment) {
    out.extend(segment.base.to_le_bytes().map(Token::Byte));
    out.extend(segment.bytes.iter().map(|&b| Token::Byte(b)));
}

fn write_segment(text: &mut String, marker: Token, segment: &Segment) {
    let [a, b, c, d] = segment.base.to_le_bytes();
    let _ = write!(text, "{marker} {a:02x} {b:02x} {c:02x} {d:02x}");
    for (i, byte) in segment.bytes.iter().enumerate() {
        text.push(if i % 32 == 0 { '\n' } else { ' ' });
        let _ = write!(text, "{byte:02x}");
    }
    text.push('\n');
}

/// A token file that could not be read back as a program.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenFileError {
    /// A word is not a token.
    #[error("line {line}: {source}")]
    Token {
        /// 1-based line number.
        line: usize,
        /// What is wrong with the word.
        source: TokenError,
    },
    /// The tokens do not follow the prefix grammar.
    #[error("token {index}: expected {expected}, found `{found}`")]
    Grammar {
        /// 0-based index of the offending token.
        index: usize,
        /// What the grammar allows here.
        expected: &'static str,
        /// The token found (or `end of file`).
        found: String,
    },
    /// The program is structurally invalid (bad target, memory too large, …).
    #[error("invalid program: {0}")]
    Invalid(String),
}

/// A parsed token file: the program, its input, and any execution steps that
/// follow the prefix (a trace file has them; a compiled program has none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenFile {
    /// The program spelled by the prefix.
    pub program: Program,
    /// The input image, if the prefix has one.
    pub input: Input,
    /// The tokens after `<run>`.
    pub steps: Vec<Token>,
}

impl TokenFile {
    /// Parses the text form: whitespace-separated tokens; `#` starts a comment
    /// that runs to the end of the line.
    pub fn parse(text: &str) -> Result<TokenFile, TokenFileError> {
        let mut tokens = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("");
            for word in line.split_whitespace() {
                tokens.push(Token::parse(word).map_err(|source| TokenFileError::Token {
                    line: n + 1,
                    source,
                })?);
            }
        }
        TokenFile::from_tokens(&tokens)
    }

    /// Reads a program (and input, and steps) back from its tokens.
    pub fn from_tokens(tokens: &[Token]) -> Result<TokenFile, TokenFileError> {
        let mut reader = Reader { tokens, at: 0 };
        reader.expect(Token::Program, "<program>")?;
        let mut instrs = Vec::new();
        while let Some(Token::Op(op)) = reader.peek() {
            reader.at += 1;
            instrs.push(Instr::new(op, reader.word()?));
        }
        reader.expect(Token::Memory, "an opcode or <memory>")?;
        let memory_size = reader.word()?;
        let mut data = Vec::new();
        let mut inputs: Vec<Segment> = Vec::new();
        loop {
            match reader.peek() {
                Some(Token::Data) => {
                    reader.at += 1;
                    data.push(reader.segment()?);
                }
                Some(Token::Input) => {
                    reader.at += 1;
                    inputs.push(reader.segment()?);
                    match reader.peek() {
                        Some(Token::Input) => {}
                        _ => {
                            reader.expect(Token::Run, "<input> or <run>")?;
                            break;
                        }
                    }
                }
                _ => {
                    reader.expect(Token::Run, "<data>, <input> or <run>")?;
                    break;
                }
            }
        }
        let program = Program {
            instrs,
            memory_size,
            data,
            functions: Vec::new(),
        };
        program.validate().map_err(TokenFileError::Invalid)?;
        let input = input_of(inputs, memory_size).map_err(TokenFileError::Invalid)?;
        Ok(TokenFile {
            program,
            input,
            steps: tokens[reader.at..].to_vec(),
        })
    }
}

/// The input the `<input>` segments of a prefix spell: the argument image
/// at [`INPUT_BASE`], then optionally the stdin header and bytes, exactly
/// as [`Input::segments`] writes them.
fn input_of(segments: Vec<Segment>, memory_size: u32) -> Result<Input, String> {
    let mut segments = segments.into_iter().peekable();
    let mut input = Input::default();
    if let Some(image) = segments.next_if(|s| s.base != STDIN_INFO) {
        if image.base != INPUT_BASE {
            return Err(format!("the input image must start at {INPUT_BASE}"));
        }
        input.image = image;
    }
    if let Some(header) = segments.next() {
        let Some(bytes) = segments.next() else {
            return Err("a stdin header without stdin bytes".to_owned());
        };
        input.stdin = bytes.bytes.clone();
        let expected = input.segments(memory_size);
        let n = expected.len();
        if n < 2 || expected[n - 2] != header || expected[n - 1] != bytes {
            return Err(format!(
                "stdin must be an 8-byte header at {STDIN_INFO} and its bytes at the top of memory"
            ));
        }
    }
    if segments.next().is_some() {
        return Err("more <input> segments than an image and stdin".to_owned());
    }
    Ok(input)
}

struct Reader<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.at).copied()
    }

    fn error(&self, expected: &'static str) -> TokenFileError {
        TokenFileError::Grammar {
            index: self.at,
            expected,
            found: self
                .peek()
                .map_or_else(|| "end of file".to_owned(), |t| t.to_string()),
        }
    }

    fn expect(&mut self, token: Token, expected: &'static str) -> Result<(), TokenFileError> {
        if self.peek() == Some(token) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    fn byte(&mut self) -> Result<u8, TokenFileError> {
        match self.peek() {
            Some(Token::Byte(b)) => {
                self.at += 1;
                Ok(b)
            }
            _ => Err(self.error("a byte")),
        }
    }

    fn word(&mut self) -> Result<u32, TokenFileError> {
        Ok(u32::from_le_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }

    fn segment(&mut self) -> Result<Segment, TokenFileError> {
        let base = self.word()?;
        let mut bytes = Vec::new();
        while let Some(Token::Byte(b)) = self.peek() {
            self.at += 1;
            bytes.push(b);
        }
        Ok(Segment { base, bytes })
    }
}

impl Program {
    /// Checks the structural invariants a machine relies on: targets in
    /// range, memory within [`MAX_MEMORY`], segments inside memory, and a
    /// final instruction that cannot fall off the end.
    pub fn validate(&self) -> Result<(), String> {
        if self.memory_size > MAX_MEMORY {
            return Err(format!(
                "memory of {} bytes exceeds the machine's {} bytes",
                self.memory_size, MAX_MEMORY
            ));
        }
        for segment in &self.data {
            let end = u64::from(segment.base) + segment.bytes.len() as u64;
            if end > u64::from(self.memory_size) {
                return Err(format!(
                    "data segment at {} of {} bytes lies outside memory of {} bytes",
                    segment.base,
                    segment.bytes.len(),
                    self.memory_size
                ));
            }
        }
        if self.instrs.len() > MAX_PROGRAM {
            return Err(format!(
                "the program has {} instructions; the machine runs at most {MAX_PROGRAM}",
                self.instrs.len()
            ));
        }
        let mut straight = 0;
        for (pc, instr) in self.instrs.iter().enumerate() {
            straight = if instr.op.is_unconditional() {
                0
            } else {
                straight + 1
            };
            if straight >= MAX_STRAIGHT_RUN {
                return Err(format!(
                    "instructions {}..={pc} run straight without a jump; at most {} may",
                    pc + 1 - straight as usize,
                    MAX_STRAIGHT_RUN - 1
                ));
            }
        }
        let len = self.instrs.len() as u64;
        for (pc, instr) in self.instrs.iter().enumerate() {
            if matches!(instr.op, Opcode::Br | Opcode::BrIf | Opcode::Call)
                && u64::from(instr.imm) >= len
            {
                return Err(format!(
                    "instruction {pc} ({instr}) jumps outside the program of {len} instructions"
                ));
            }
            let index_kind = match instr.op.imm() {
                Immediate::Local => "local",
                Immediate::Global => "global",
                _ => continue,
            };
            let limit = match index_kind {
                "local" => tvm_dsl::isa::MAX_LOCALS,
                _ => MAX_INDEX,
            };
            if instr.imm >= limit {
                return Err(format!(
                    "instruction {pc} ({instr}) names {index_kind} {}; the machine has {limit} {index_kind}s",
                    instr.imm
                ));
            }
        }
        match self.instrs.last() {
            None => Err("the program has no instructions".to_owned()),
            Some(last) if !matches!(last.op, Opcode::Halt | Opcode::Br | Opcode::Return) => Err(
                format!("the last instruction ({last}) could fall off the end of the program"),
            ),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Program {
        Program {
            instrs: vec![
                Instr::new(Opcode::Const, 0x12345678),
                Instr::new(Opcode::BrIf, 3),
                Instr::new(Opcode::Const, 7),
                Instr::new(Opcode::Halt, 0),
            ],
            memory_size: 65536,
            data: vec![Segment {
                base: 4096,
                bytes: b"hello, world".to_vec(),
            }],
            functions: vec![],
        }
    }

    #[test]
    fn token_text_round_trips() {
        let program = sample();
        let input = Input::from_args("demo", &["12", "abc"]).unwrap();
        let text = program.prefix_text(&input);
        let parsed = TokenFile::parse(&text).unwrap();
        assert_eq!(parsed.program, program);
        assert_eq!(parsed.input, input);
        assert!(parsed.steps.is_empty());
        assert_eq!(
            TokenFile::from_tokens(&program.prefix_tokens(&input))
                .unwrap()
                .program,
            program
        );
    }

    #[test]
    fn input_image_layout_matches_the_c_convention() {
        let input = Input::from_args("p", &["ab"]).unwrap();
        let b = &input.image.bytes;
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        assert_eq!(word(0), 2); // argc
        let (argv0, argv1) = (word(4), word(8));
        assert_eq!(word(12), 0); // argv[argc] == NULL
        let at = |addr: u32| (addr - INPUT_BASE) as usize;
        assert_eq!(&b[at(argv0)..at(argv0) + 2], b"p\0");
        assert_eq!(&b[at(argv1)..at(argv1) + 3], b"ab\0");
        let long = "x".repeat(5000);
        assert!(Input::from_args("p", &[&long]).is_err());
    }

    #[test]
    fn malformed_token_files_are_typed_errors() {
        let good = sample().prefix_text(&Input::default());
        let cases = [
            String::new(),
            "<program> CONST 01 02".to_owned(),
            good.replace("<memory>", "<data>"),
            good.replace("<run>", ""),
            good.replace("HALT", "BOGUS"),
            good.replace("BR_IF 03", "BR_IF 09"),
            good.replace("CONST 78 56 34 12", "LOCAL_GET ff ff ff ff"),
            good.replace("<memory> 00 00 01 00", "<memory> 00 00 00 00"),
        ];
        for case in cases {
            assert!(TokenFile::parse(&case).is_err(), "accepted: {case}");
        }
    }
}
