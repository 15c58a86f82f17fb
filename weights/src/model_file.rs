//! The on-disk model file: a safetensors file plus a JSON header.
//!
//! This module knows nothing about how weights are computed; it stores f64
//! tensors, their exact rational originals, and an opaque header, and it
//! refuses to load anything that is not exactly what `tvm build` wrote.
//!
//! # File layout (format version 1)
//!
//! ```text
//! [u64 LE: n] [n bytes: JSON header, space padded to a multiple of 8] [data section]
//! ```
//!
//! The JSON header is a standard safetensors header:
//!
//! - one entry per f64 tensor, in byte-wise name order:
//!   `"name": {"dtype": "F64", "shape": [..], "data_offsets": [start, end]}`;
//!   the data section is the tensors' little-endian f64 values, row-major,
//!   concatenated in the same name order, without gaps;
//! - `"__metadata__"`, a map of strings:
//!   - `"tvm"`: the [`Header`] as JSON, plus `"exact"` (for every tensor that
//!     has an exact copy: `{"exact_in_f64": bool}`) and `"data_sha256"` (hex
//!     SHA-256 of the data section, so flipped weight bits are detected);
//!   - `"tvm.exact"` (present only when needed): JSON
//!     `{"name": {"shape": [..], "entries": [[i, j, .., "p/q"], ..]}}` holding
//!     the exact tensors whose f64 rounding is *not* exact. An exact tensor
//!     with `exact_in_f64: true` is stored only as f64: every f64 is a
//!     rational, and the exact tensor is recovered from it.
//!
//! Rationals are written as `p` or `p/q` in lowest terms with `q > 1`.
//! Every object key order is canonical (sorted), so the same [`ModelFile`]
//! always gives the same bytes. `safetensors::serialize` is *not* used for
//! writing because it takes `__metadata__` as a `HashMap` and emits its keys
//! in random order; the header written here is byte-identical to what
//! `safetensors::serialize` writes whenever `__metadata__` has one key, and
//! every file is read back through `safetensors::SafeTensors::deserialize`.
//!
//! # Exactness
//!
//! No floating-point arithmetic is used on any exact value: rationals are
//! rounded to f64 by integer arithmetic on numerator and denominator
//! ([`rational_to_f64`]), and f64 values are turned into rationals by decoding
//! their bits ([`rational_of_f64`]). Only the final step builds an f64 from
//! its bits.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use num_bigint::{BigInt, BigUint, Sign};
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The model file format version this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// `__metadata__` key holding the header JSON.
const HEADER_KEY: &str = "tvm";
/// `__metadata__` key holding the exact tensors not exactly representable in f64.
const EXACT_KEY: &str = "tvm.exact";
/// The reserved safetensors header key; no tensor may have this name.
const SAFETENSORS_METADATA: &str = "__metadata__";
/// The largest header safetensors accepts (`MAX_HEADER_SIZE` in safetensors 0.8).
const MAX_HEADER_BYTES: u64 = 100_000_000;
/// Bytes per stored element (F64).
const F64_BYTES: usize = 8;

// ---------------------------------------------------------------------------
// Tensors
// ---------------------------------------------------------------------------

/// A dense f64 tensor, row-major.
///
/// Invariant (checked when written and when read): `data.len()` equals the
/// product of `shape` (1 for the empty shape, a scalar).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Elements in row-major order.
    pub data: Vec<f64>,
}

impl Tensor {
    /// An all-zero tensor of the given shape. (If the element count
    /// overflows `usize`, `data` is left empty and the tensor is invalid.)
    pub fn zeros(shape: Vec<usize>) -> Tensor {
        let len = element_count(&shape).unwrap_or(0);
        Tensor {
            data: vec![0.0; len],
            shape,
        }
    }
}

/// An exact tensor: sparse, rational.
///
/// Invariants (see [`ExactTensor::check`]): every index has one coordinate
/// per dimension and lies inside `shape`; entries are sorted strictly
/// increasingly by index (lexicographic, i.e. row-major order, so no index
/// repeats); no entry is zero. Absent entries are zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactTensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The non-zero entries, sorted by index.
    pub entries: Vec<(Vec<usize>, BigRational)>,
}

impl ExactTensor {
    /// The all-zero exact tensor of the given shape.
    pub fn zeros(shape: Vec<usize>) -> ExactTensor {
        ExactTensor {
            shape,
            entries: Vec::new(),
        }
    }

    /// Checks the invariants (and that every denominator is positive, as
    /// `Ratio::new` guarantees); the error says which one fails, and where.
    pub fn check(&self) -> Result<(), String> {
        element_count(&self.shape)
            .ok_or_else(|| format!("shape {:?} has too many elements", self.shape))?;
        let mut previous: Option<&Vec<usize>> = None;
        for (index, value) in &self.entries {
            if index.len() != self.shape.len() {
                return Err(format!(
                    "index {index:?} has {} coordinates, shape {:?} has {}",
                    index.len(),
                    self.shape,
                    self.shape.len()
                ));
            }
            if index.iter().zip(&self.shape).any(|(i, n)| i >= n) {
                return Err(format!("index {index:?} is outside shape {:?}", self.shape));
            }
            if let Some(previous) = previous
                && previous >= index
            {
                return Err(format!(
                    "entries not strictly sorted: {previous:?} comes before {index:?}"
                ));
            }
            if value.is_zero() {
                return Err(format!("entry {index:?} is zero (zeros are implicit)"));
            }
            if !value.denom().is_positive() {
                return Err(format!("entry {index:?} has a non-positive denominator"));
            }
            previous = Some(index);
        }
        Ok(())
    }

    /// Rounds every entry to the nearest f64 ([`rational_to_f64`]: correctly
    /// rounded, ties to even, overflow to ±infinity) and lays them out densely.
    ///
    /// Assumes [`ExactTensor::check`] holds; entries whose index is outside
    /// the shape are skipped rather than panicking.
    pub fn to_f64(&self) -> Tensor {
        let mut tensor = Tensor::zeros(self.shape.clone());
        for (index, value) in &self.entries {
            if let Some(slot) = flat_index(&self.shape, index).and_then(|i| tensor.data.get_mut(i))
            {
                *slot = rational_to_f64(value);
            }
        }
        tensor
    }

    /// True when every entry survives the round trip through f64 unchanged,
    /// i.e. `rational_of_f64(rational_to_f64(v)) == Some(v)`: then
    /// [`ExactTensor::from_f64`] of [`ExactTensor::to_f64`] gives `self` back.
    pub fn is_exact_in_f64(&self) -> bool {
        self.entries
            .iter()
            .all(|(_, value)| rational_of_f64(rational_to_f64(value)).as_ref() == Some(value))
    }

    /// The exact value of an f64 tensor (every finite f64 is a rational).
    ///
    /// `None` when an element is NaN or infinite, or when `data.len()` does
    /// not match the shape. Both zeros (`0.0` and `-0.0`) become absent entries.
    pub fn from_f64(tensor: &Tensor) -> Option<ExactTensor> {
        if element_count(&tensor.shape) != Some(tensor.data.len()) {
            return None;
        }
        let mut entries = Vec::new();
        for (flat, &x) in tensor.data.iter().enumerate() {
            let value = rational_of_f64(x)?;
            if !value.is_zero() {
                entries.push((unflatten(&tensor.shape, flat), value));
            }
        }
        Some(ExactTensor {
            shape: tensor.shape.clone(),
            entries,
        })
    }
}

/// Number of elements of a shape (1 for a scalar), `None` on overflow.
fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n))
}

/// Row-major offset of `index` in `shape`; `None` when out of bounds.
fn flat_index(shape: &[usize], index: &[usize]) -> Option<usize> {
    if index.len() != shape.len() {
        return None;
    }
    let mut flat = 0usize;
    for (&i, &n) in index.iter().zip(shape) {
        if i >= n {
            return None;
        }
        flat = flat.checked_mul(n)?.checked_add(i)?;
    }
    Some(flat)
}

/// Inverse of [`flat_index`] for `flat < element_count(shape)`.
fn unflatten(shape: &[usize], mut flat: usize) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &n) in index.iter_mut().zip(shape).rev() {
        if n != 0 {
            *slot = flat % n;
            flat /= n;
        }
    }
    index
}

// ---------------------------------------------------------------------------
// Exact rational <-> f64
// ---------------------------------------------------------------------------

/// Bits of the f64 significand, hidden bit excluded.
const MANTISSA_BITS: i64 = 52;
/// Exponent of the smallest normal f64 (`2^-1022`).
const MIN_NORMAL_EXP: i64 = -1022;
/// Exponent bias plus mantissa bits: a normal `m·2^s` has biased exponent `s + 1075`.
const BIAS_PLUS_MANTISSA: i64 = 1075;
/// Biased exponent of infinities and NaNs.
const MAX_BIASED_EXP: i64 = 2047;
const SIGN_BIT: u64 = 1 << 63;
const INFINITY_BITS: u64 = 0x7ff0_0000_0000_0000;

/// The f64 nearest to `r`, computed exactly from its numerator and denominator.
///
/// Rounding is IEEE 754 roundTiesToEven, the same as `str::parse::<f64>` on a
/// decimal string: the result is the f64 closest to `r`; when `r` lies exactly
/// halfway between two f64s, the one with an even significand wins.
/// Subnormals are produced where the value calls for them.
///
/// Overflow saturates to **±infinity**, as IEEE prescribes: `|r| ≥ 2^1024 −
/// 2^970` (halfway between `f64::MAX` and `2^1024`, a tie that goes to the
/// even `2^1024`) gives ±∞. Underflow keeps the sign: a negative `r` too small
/// for the smallest subnormal gives `-0.0`. Zero gives `+0.0`. A ratio with a
/// zero denominator (constructible only through `Ratio::new_raw`) gives NaN.
///
/// No floating-point arithmetic is involved: the significand and exponent are
/// found with big-integer shifts, one division and one comparison of the
/// remainder, and the f64 is assembled from its bits.
pub fn rational_to_f64(r: &BigRational) -> f64 {
    let (numer, denom) = (r.numer(), r.denom());
    if denom.is_zero() {
        return f64::NAN;
    }
    if numer.is_zero() {
        return 0.0;
    }
    let negative = (numer.sign() == Sign::Minus) != (denom.sign() == Sign::Minus);
    let sign = if negative { SIGN_BIT } else { 0 };
    let a: &BigUint = numer.magnitude();
    let q: &BigUint = denom.magnitude();

    // e = floor(log2(a/q)) is e0 or e0 - 1.
    let e0 = bit_len(a) - bit_len(q);
    if e0 - 1 > 1023 {
        // |r| ≥ 2^1024.
        return f64::from_bits(sign | INFINITY_BITS);
    }
    if e0 < -1080 {
        // |r| < 2^-1079, below half the smallest subnormal (2^-1075).
        return f64::from_bits(sign);
    }
    let below = if e0 >= 0 {
        a < &(q << e0 as usize)
    } else {
        &(a << (-e0) as usize) < q
    };
    let e = if below { e0 - 1 } else { e0 };

    // The unit in the last place is 2^s; the significand m = a / (q·2^s)
    // is below 2^53 (and at least 2^52 for normal results).
    let mut s = e.max(MIN_NORMAL_EXP) - MANTISSA_BITS;
    let (m, remainder, divisor) = if s >= 0 {
        let divisor = q << s as usize;
        (a / &divisor, a % &divisor, divisor)
    } else {
        let scaled = a << (-s) as usize;
        (&scaled / q, &scaled % q, q.clone())
    };
    let Ok(mut m) = u64::try_from(&m) else {
        // Unreachable: m < 2^53 by the choice of s.
        return f64::NAN;
    };
    let round_up = match (remainder << 1usize).cmp(&divisor) {
        Ordering::Greater => true,
        Ordering::Equal => m & 1 == 1,
        Ordering::Less => false,
    };
    if round_up {
        m += 1;
        if m == 1 << (MANTISSA_BITS + 1) {
            m = 1 << MANTISSA_BITS;
            s += 1;
        }
    }
    let bits = if m >= 1 << MANTISSA_BITS {
        let biased = s + BIAS_PLUS_MANTISSA;
        if biased >= MAX_BIASED_EXP {
            return f64::from_bits(sign | INFINITY_BITS);
        }
        ((biased as u64) << MANTISSA_BITS) | (m - (1 << MANTISSA_BITS))
    } else {
        // Subnormal (s is -1074): biased exponent 0, the significand as is.
        m
    };
    f64::from_bits(sign | bits)
}

/// Bit length of a big unsigned integer, as a signed exponent.
fn bit_len(x: &BigUint) -> i64 {
    i64::try_from(x.bits()).unwrap_or(i64::MAX)
}

/// The exact rational value of a finite f64, decoded from its bits
/// (`±m·2^e`); `None` for NaN and the infinities. Both zeros give 0.
pub fn rational_of_f64(x: f64) -> Option<BigRational> {
    let bits = x.to_bits();
    let negative = bits & SIGN_BIT != 0;
    let biased = ((bits >> MANTISSA_BITS) & 0x7ff) as i64;
    let fraction = bits & ((1 << MANTISSA_BITS) - 1);
    if biased == MAX_BIASED_EXP {
        return None;
    }
    let (m, e) = if biased == 0 {
        (fraction, 1 - BIAS_PLUS_MANTISSA)
    } else {
        (fraction | (1 << MANTISSA_BITS), biased - BIAS_PLUS_MANTISSA)
    };
    let magnitude = BigInt::from(m);
    let value = if e >= 0 {
        BigRational::from_integer(magnitude << e as usize)
    } else {
        BigRational::new(magnitude, BigInt::one() << (-e) as usize)
    };
    Some(if negative { -value } else { value })
}

// ---------------------------------------------------------------------------
// Header, model, expectations
// ---------------------------------------------------------------------------

/// What the model file says about itself (stored as JSON under `tvm`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Must be [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// Number of token ids the embedding accepts.
    pub vocab_size: u32,
    /// Hex SHA-256 ([`digest`]) of the machine graph's canonical text.
    pub graph_digest: String,
    /// For specialised models: hex SHA-256 of the program baked in (of
    /// [`BakedProgram::tokens`]).
    pub program_digest: Option<String>,
    /// For specialised models: the program baked in.
    pub program: Option<BakedProgram>,
    /// Residual stream width.
    pub d_model: u32,
    /// Number of transformer layers.
    pub layers: u32,
    /// Slot map, schedule and the like; opaque here. Object keys are written
    /// sorted. Non-integer JSON numbers may not round-trip bit for bit.
    pub metadata: Value,
}

/// The program a specialised model is built for, as the header records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BakedProgram {
    /// Its name (what `argv[0]` is).
    pub name: String,
    /// The arguments it was specialised with: the default of `tvm run`.
    pub args: String,
    /// Its prefix without input, as space-separated token texts
    /// (`<program> … <memory> b b b b <data> … <run>`): the instructions
    /// the weights bake in, and the memory image the run's prefix carries.
    pub tokens: String,
}

impl BakedProgram {
    /// Hex SHA-256 of [`BakedProgram::tokens`]: the program digest.
    pub fn digest(&self) -> String {
        digest(self.tokens.as_bytes())
    }
}

/// A model: header, f64 tensors for the float engine and, for some of them,
/// their exact rational originals.
///
/// Invariants (checked by [`ModelFile::to_bytes`]): every tensor's data
/// length matches its shape; no tensor is named `__metadata__`; every exact
/// tensor satisfies [`ExactTensor::check`], has an f64 tensor of the same
/// name and shape, and that tensor is bit for bit its rounding
/// ([`ExactTensor::to_f64`]) — so in particular it holds `+0.0`, never
/// `-0.0`, where the exact value is zero.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// The header.
    pub header: Header,
    /// f64 tensors by name.
    pub tensors: BTreeMap<String, Tensor>,
    /// Exact tensors by name; each key is also a key of `tensors`.
    pub exact: BTreeMap<String, ExactTensor>,
}

/// What the loader requires of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// The format version this reader understands.
    pub format_version: u32,
    /// The graph digest the model must have been built for; `None` skips the check.
    pub graph_digest: Option<String>,
}

impl Expect {
    /// The current format version, for the graph with this digest.
    pub fn graph(graph_digest: impl Into<String>) -> Expect {
        Expect {
            format_version: FORMAT_VERSION,
            graph_digest: Some(graph_digest.into()),
        }
    }

    /// The current format version, built for any graph.
    pub fn any_graph() -> Expect {
        Expect {
            format_version: FORMAT_VERSION,
            graph_digest: None,
        }
    }
}

/// Lowercase hex SHA-256 of `bytes`, e.g. of a graph's canonical text.
pub fn digest(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Everything that can go wrong writing or reading a model file.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    /// The file ends before the part its own framing announces.
    #[error(
        "model file is truncated: the {part} needs {needed} bytes but only {found} are there; \
         the file was cut short (interrupted copy or download?): rebuild it with `tvm build`"
    )]
    Truncated {
        /// Which part is incomplete.
        part: &'static str,
        /// Bytes that part needs (counted from the start of the file).
        needed: u64,
        /// Bytes the file has.
        found: u64,
    },
    /// The bytes are not a safetensors file at all.
    #[error(
        "not a tvm model file (not a valid safetensors file: {reason}); \
         pass the `.safetensors` file written by `tvm build`"
    )]
    NotSafetensors {
        /// What is wrong with the framing or the safetensors JSON header.
        reason: String,
    },
    /// A safetensors file, but without the `tvm` header.
    #[error(
        "this safetensors file has no `tvm` entry in its `__metadata__`, so it was not written by \
         tvm; build a model with `tvm build`"
    )]
    MissingHeader,
    /// The `tvm` header is present but is not what tvm writes.
    #[error("the model file's `tvm` header is malformed ({reason}); rebuild it with `tvm build`")]
    MalformedHeader {
        /// What is wrong with it.
        reason: String,
    },
    /// The file was written in another format version.
    #[error(
        "model file has format version {found}, this tvm reads format version {expected}: \
         rebuild it with this tvm's `tvm build`"
    )]
    WrongVersion {
        /// Version in the file.
        found: u64,
        /// Version this reader requires.
        expected: u32,
    },
    /// The model was built for another machine graph.
    #[error(
        "model built for graph digest {found}, this tvm has graph digest {expected}: \
         rebuild it with `tvm build`"
    )]
    WrongGraphDigest {
        /// Digest recorded in the file.
        found: String,
        /// Digest the caller requires.
        expected: String,
    },
    /// A tensor is stored with a dtype other than F64.
    #[error(
        "tensor `{tensor}` is stored as {dtype}, but tvm model files hold F64 tensors only; \
         rebuild the model with `tvm build`"
    )]
    WrongDtype {
        /// Tensor name.
        tensor: String,
        /// The dtype found.
        dtype: String,
    },
    /// A tensor's shape does not match the size of its data.
    #[error(
        "tensor `{tensor}` has shape {shape:?}, which does not match its {bytes} bytes of data \
         ({elements} F64 elements would need {needed}); the file is corrupt: rebuild it with \
         `tvm build`"
    )]
    ShapeMismatch {
        /// Tensor name.
        tensor: String,
        /// Shape declared.
        shape: Vec<usize>,
        /// Element count of that shape (saturated at `u64::MAX`).
        elements: u64,
        /// Bytes that shape needs (saturated at `u64::MAX`).
        needed: u64,
        /// Bytes the data offsets give it.
        bytes: u64,
    },
    /// The weights do not match the checksum recorded when the file was written.
    #[error(
        "model file is corrupt: its tensor data has SHA-256 {found}, but the header recorded \
         {expected} when it was written; rebuild it with `tvm build`"
    )]
    CorruptData {
        /// Checksum in the header.
        expected: String,
        /// Checksum of the data as read.
        found: String,
    },
    /// An exact tensor (`tvm.exact`, or its declaration) is not well formed.
    #[error("exact tensor `{tensor}` is malformed ({reason}); rebuild the model with `tvm build`")]
    MalformedExact {
        /// Tensor name.
        tensor: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An exact tensor does not round to its f64 tensor.
    #[error(
        "tensor `{tensor}` at index {index:?}: the exact weight and the f64 weight disagree \
         ({reason}); the file is corrupt or was written by a faulty tool: rebuild it with \
         `tvm build`"
    )]
    ExactMismatch {
        /// Tensor name.
        tensor: String,
        /// First index where they disagree.
        index: Vec<usize>,
        /// The two values.
        reason: String,
    },
    /// The in-memory model breaks a [`ModelFile`] invariant, so it is not written.
    #[error("cannot write the model: {reason} (a bug in the code that built the model)")]
    InvalidModel {
        /// Which invariant fails, and where.
        reason: String,
    },
    /// Reading or writing the file failed.
    #[error("cannot {action} model file {}", path.display())]
    Io {
        /// What was being done (`read`, `write`, ...).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

fn invalid(reason: String) -> ModelFileError {
    ModelFileError::InvalidModel { reason }
}

// ---------------------------------------------------------------------------
// Stored JSON
// ---------------------------------------------------------------------------

/// The `tvm` metadata entry: [`Header`] plus what the file layout needs.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredHeader {
    format_version: u32,
    vocab_size: u32,
    graph_digest: String,
    program_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    program: Option<BakedProgram>,
    d_model: u32,
    layers: u32,
    metadata: Value,
    /// One entry per tensor that has an exact copy.
    exact: BTreeMap<String, StoredExactInfo>,
    /// Hex SHA-256 of the data section.
    data_sha256: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredExactInfo {
    /// True: the exact tensor is the f64 tensor's exact value, stored nowhere
    /// else. False: it is stored under `tvm.exact`.
    exact_in_f64: bool,
}

/// One tensor under `tvm.exact`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredExact {
    shape: Vec<usize>,
    /// `[i, j, .., "p/q"]`.
    entries: Vec<Vec<EntryItem>>,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum EntryItem {
    Coordinate(usize),
    Value(String),
}

/// A tensor entry of the safetensors header, as written.
#[derive(Serialize)]
struct TensorInfoOut<'a> {
    dtype: &'static str,
    shape: &'a [usize],
    data_offsets: [usize; 2],
}

/// The safetensors header, as written: field order and map order fixed.
#[derive(Serialize)]
struct SafetensorsHeaderOut<'a> {
    #[serde(rename = "__metadata__")]
    metadata: BTreeMap<&'static str, String>,
    #[serde(flatten)]
    tensors: BTreeMap<&'a str, TensorInfoOut<'a>>,
}

/// A tensor entry of the safetensors header, as read (dtype kept as text so
/// that unknown dtypes get a clear error).
#[derive(Deserialize)]
struct TensorInfoIn {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: (usize, usize),
}

/// `value` with every object's keys in sorted order, whatever serde_json's
/// map implementation (sorted, or insertion order with `preserve_order`).
fn canonical_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut items: Vec<(&String, &Value)> = map.iter().collect();
            items.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                items
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical_json(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical_json).collect()),
        other => other.clone(),
    }
}

fn json_error(e: serde_json::Error) -> String {
    e.to_string()
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// Distinguishes temp files of concurrent writers in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl ModelFile {
    /// Checks the invariants documented on [`ModelFile`].
    fn validate(&self) -> Result<(), ModelFileError> {
        if self.header.format_version != FORMAT_VERSION {
            return Err(invalid(format!(
                "header.format_version is {}, but this code writes format version {FORMAT_VERSION}",
                self.header.format_version
            )));
        }
        for (name, tensor) in &self.tensors {
            if name == SAFETENSORS_METADATA {
                return Err(invalid(format!(
                    "a tensor is named `{SAFETENSORS_METADATA}`, which safetensors reserves"
                )));
            }
            if element_count(&tensor.shape) != Some(tensor.data.len()) {
                return Err(invalid(format!(
                    "tensor `{name}` has shape {:?} but {} elements",
                    tensor.shape,
                    tensor.data.len()
                )));
            }
        }
        for (name, exact) in &self.exact {
            exact
                .check()
                .map_err(|reason| invalid(format!("exact tensor `{name}`: {reason}")))?;
            let Some(tensor) = self.tensors.get(name) else {
                return Err(invalid(format!(
                    "exact tensor `{name}` has no f64 tensor of the same name"
                )));
            };
            if tensor.shape != exact.shape {
                return Err(invalid(format!(
                    "exact tensor `{name}` has shape {:?}, its f64 tensor {:?}",
                    exact.shape, tensor.shape
                )));
            }
            if let Some((index, reason)) = first_disagreement(exact, tensor) {
                return Err(invalid(format!(
                    "f64 tensor `{name}` is not the rounding of its exact tensor at {index:?}: \
                     {reason}"
                )));
            }
        }
        Ok(())
    }

    /// Serialises the model (layout in the [module docs](self)).
    ///
    /// Deterministic: equal models give identical bytes (f64 data compared
    /// bit for bit, so `0.0` and `-0.0` differ; rationals by value, as they
    /// are written in lowest terms). Fails with
    /// [`ModelFileError::InvalidModel`] when an invariant of [`ModelFile`]
    /// does not hold or the header would exceed safetensors' 100 MB limit.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelFileError> {
        self.validate()?;

        // Data section and tensor entries, in name order.
        let mut data = Vec::new();
        let mut infos = BTreeMap::new();
        for (name, tensor) in &self.tensors {
            let start = data.len();
            data.reserve(tensor.data.len() * F64_BYTES);
            for x in &tensor.data {
                data.extend_from_slice(&x.to_le_bytes());
            }
            infos.insert(
                name.as_str(),
                TensorInfoOut {
                    dtype: "F64",
                    shape: &tensor.shape,
                    data_offsets: [start, data.len()],
                },
            );
        }

        let mut exact_info = BTreeMap::new();
        let mut stored_exact = BTreeMap::new();
        for (name, exact) in &self.exact {
            let exact_in_f64 = exact.is_exact_in_f64();
            exact_info.insert(name.clone(), StoredExactInfo { exact_in_f64 });
            if !exact_in_f64 {
                let entries = exact
                    .entries
                    .iter()
                    .map(|(index, value)| {
                        let mut row: Vec<EntryItem> =
                            index.iter().map(|&i| EntryItem::Coordinate(i)).collect();
                        row.push(EntryItem::Value(value.reduced().to_string()));
                        row
                    })
                    .collect();
                stored_exact.insert(
                    name.as_str(),
                    StoredExact {
                        shape: exact.shape.clone(),
                        entries,
                    },
                );
            }
        }

        let header = &self.header;
        let stored = StoredHeader {
            format_version: header.format_version,
            vocab_size: header.vocab_size,
            graph_digest: header.graph_digest.clone(),
            program_digest: header.program_digest.clone(),
            program: header.program.clone(),
            d_model: header.d_model,
            layers: header.layers,
            metadata: canonical_json(&header.metadata),
            exact: exact_info,
            data_sha256: digest(&data),
        };
        let mut metadata = BTreeMap::new();
        metadata.insert(
            HEADER_KEY,
            serde_json::to_string(&stored)
                .map_err(|e| invalid(format!("header JSON: {}", json_error(e))))?,
        );
        if !stored_exact.is_empty() {
            metadata.insert(
                EXACT_KEY,
                serde_json::to_string(&stored_exact)
                    .map_err(|e| invalid(format!("exact tensor JSON: {}", json_error(e))))?,
            );
        }
        let mut header_bytes = serde_json::to_vec(&SafetensorsHeaderOut {
            metadata,
            tensors: infos,
        })
        .map_err(|e| invalid(format!("safetensors header JSON: {}", json_error(e))))?;
        // Pad with spaces to a multiple of 8, as safetensors does.
        header_bytes.resize(header_bytes.len().next_multiple_of(F64_BYTES), b' ');
        let header_len = header_bytes.len() as u64;
        if header_len > MAX_HEADER_BYTES {
            return Err(invalid(format!(
                "the header would be {header_len} bytes, over safetensors' limit of \
                 {MAX_HEADER_BYTES}"
            )));
        }

        let mut bytes = Vec::with_capacity(8 + header_bytes.len() + data.len());
        bytes.extend_from_slice(&header_len.to_le_bytes());
        bytes.extend_from_slice(&header_bytes);
        bytes.extend_from_slice(&data);
        Ok(bytes)
    }

    /// Writes the model to `path` atomically: the bytes go to a fresh temp
    /// file in the same directory, which is fsynced and renamed over `path`.
    ///
    /// On success `path` holds the new model (the directory is then fsynced,
    /// best effort, to make the rename durable). On failure `path` is left as
    /// it was and the temp file, if it was created, is removed.
    pub fn write_atomically(&self, path: impl AsRef<Path>) -> Result<(), ModelFileError> {
        let path = path.as_ref();
        let bytes = self.to_bytes()?;
        let io_error = |action, source| ModelFileError::Io {
            action,
            path: path.to_path_buf(),
            source,
        };
        let Some(file_name) = path.file_name() else {
            return Err(io_error(
                "write",
                io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
            ));
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };

        // A fresh temp file; retry on the (unlikely) name collision.
        let mut attempt = 0;
        let (temp_path, mut file) = loop {
            let mut name = std::ffi::OsString::from(".");
            name.push(file_name);
            name.push(format!(
                ".tmp-{}-{}",
                std::process::id(),
                TEMP_COUNTER.fetch_add(1, AtomicOrdering::Relaxed)
            ));
            let temp_path = dir.join(name);
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp_path)
            {
                Ok(file) => break (temp_path, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => {
                    attempt += 1;
                }
                Err(e) => return Err(io_error("create a temporary file for", e)),
            }
        };

        let written = file
            .write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error("write", e));
        drop(file);
        let renamed =
            written.and_then(|()| fs::rename(&temp_path, path).map_err(|e| io_error("replace", e)));
        if let Err(e) = renamed {
            // Best effort: the original error is the one worth reporting.
            let _ = fs::remove_file(&temp_path);
            return Err(e);
        }
        // Make the rename durable; best effort (not every platform can sync a directory).
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Reads and checks a model file ([`ModelFile::from_bytes`]).
    pub fn read(path: impl AsRef<Path>, expect: &Expect) -> Result<ModelFile, ModelFileError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| ModelFileError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        ModelFile::from_bytes(&bytes, expect)
    }

    /// Parses and checks a model file. Never panics, whatever the bytes.
    ///
    /// Checks, in order: the safetensors framing ([`Truncated`],
    /// [`NotSafetensors`]); the `tvm` header ([`MissingHeader`],
    /// [`MalformedHeader`]); its format version ([`WrongVersion`]) and graph
    /// digest ([`WrongGraphDigest`]); every tensor's dtype ([`WrongDtype`]),
    /// shape ([`ShapeMismatch`]) and extent ([`Truncated`]); the data checksum
    /// ([`CorruptData`]); the exact tensors ([`MalformedExact`],
    /// [`ExactMismatch`]).
    ///
    /// [`Truncated`]: ModelFileError::Truncated
    /// [`NotSafetensors`]: ModelFileError::NotSafetensors
    /// [`MissingHeader`]: ModelFileError::MissingHeader
    /// [`MalformedHeader`]: ModelFileError::MalformedHeader
    /// [`WrongVersion`]: ModelFileError::WrongVersion
    /// [`WrongGraphDigest`]: ModelFileError::WrongGraphDigest
    /// [`WrongDtype`]: ModelFileError::WrongDtype
    /// [`ShapeMismatch`]: ModelFileError::ShapeMismatch
    /// [`CorruptData`]: ModelFileError::CorruptData
    /// [`MalformedExact`]: ModelFileError::MalformedExact
    /// [`ExactMismatch`]: ModelFileError::ExactMismatch
    pub fn from_bytes(bytes: &[u8], expect: &Expect) -> Result<ModelFile, ModelFileError> {
        let file_len = bytes.len() as u64;
        let not_safetensors = |reason: String| ModelFileError::NotSafetensors { reason };

        // Framing: [n: u64 LE][n bytes of JSON][data].
        let Some((len_bytes, rest)) = bytes.split_first_chunk::<8>() else {
            return Err(ModelFileError::Truncated {
                part: "8-byte header length",
                needed: 8,
                found: file_len,
            });
        };
        let header_len = u64::from_le_bytes(*len_bytes);
        if header_len > MAX_HEADER_BYTES {
            return Err(not_safetensors(format!(
                "the first 8 bytes announce a {header_len}-byte header, over the \
                 {MAX_HEADER_BYTES}-byte limit"
            )));
        }
        let Some((header_bytes, data)) = usize::try_from(header_len)
            .ok()
            .and_then(|n| rest.split_at_checked(n))
        else {
            return Err(ModelFileError::Truncated {
                part: "JSON header",
                needed: 8 + header_len,
                found: file_len,
            });
        };
        let header_text = std::str::from_utf8(header_bytes)
            .map_err(|e| not_safetensors(format!("the header is not UTF-8: {e}")))?;
        let mut entries: BTreeMap<String, Value> = serde_json::from_str(header_text)
            .map_err(|e| not_safetensors(format!("the header is not a JSON object: {e}")))?;

        // `__metadata__` and the `tvm` header.
        let metadata: BTreeMap<String, String> = match entries.remove(SAFETENSORS_METADATA) {
            None => BTreeMap::new(),
            Some(value) => serde_json::from_value(value).map_err(|e| {
                not_safetensors(format!(
                    "`{SAFETENSORS_METADATA}` is not a map of strings: {e}"
                ))
            })?,
        };
        let header_json = metadata
            .get(HEADER_KEY)
            .ok_or(ModelFileError::MissingHeader)?;
        let stored = parse_header(header_json, expect)?;

        // Tensor entries: dtype, shape, contiguous offsets covering the data.
        let mut infos = Vec::with_capacity(entries.len());
        for (name, value) in entries {
            let info: TensorInfoIn = serde_json::from_value(value)
                .map_err(|e| not_safetensors(format!("entry of tensor `{name}`: {e}")))?;
            if info.dtype != "F64" {
                return Err(ModelFileError::WrongDtype {
                    tensor: name,
                    dtype: info.dtype,
                });
            }
            let (start, end) = info.data_offsets;
            let bytes_given = end.checked_sub(start).ok_or_else(|| {
                not_safetensors(format!(
                    "tensor `{name}` has data offsets [{start}, {end}], ending before they start"
                ))
            })?;
            let elements = element_count(&info.shape);
            let needed = elements.and_then(|n| n.checked_mul(F64_BYTES));
            if needed != Some(bytes_given) {
                return Err(ModelFileError::ShapeMismatch {
                    tensor: name,
                    shape: info.shape,
                    elements: elements.map_or(u64::MAX, |n| n as u64),
                    needed: needed.map_or(u64::MAX, |n| n as u64),
                    bytes: bytes_given as u64,
                });
            }
            infos.push((name, info));
        }
        infos.sort_by_key(|(_, info)| info.data_offsets);
        let mut covered = 0usize;
        for (name, info) in &infos {
            if info.data_offsets.0 != covered {
                return Err(not_safetensors(format!(
                    "tensor `{name}` starts at data offset {}, expected {covered} \
                     (tensors must be contiguous)",
                    info.data_offsets.0
                )));
            }
            covered = info.data_offsets.1;
        }
        match covered.cmp(&data.len()) {
            Ordering::Greater => {
                return Err(ModelFileError::Truncated {
                    part: "tensor data",
                    needed: (8 + header_len).saturating_add(covered as u64),
                    found: file_len,
                });
            }
            Ordering::Less => {
                return Err(not_safetensors(format!(
                    "{} bytes after the last tensor",
                    data.len() - covered
                )));
            }
            Ordering::Equal => {}
        }

        // The checks above imply safetensors accepts the file; let it confirm.
        let safetensors = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| not_safetensors(e.to_string()))?;

        let found = digest(data);
        if found != stored.data_sha256 {
            return Err(ModelFileError::CorruptData {
                expected: stored.data_sha256,
                found,
            });
        }

        let mut tensors = BTreeMap::new();
        for (name, info) in infos {
            let view = safetensors
                .tensor(&name)
                .map_err(|e| not_safetensors(e.to_string()))?;
            let data = view
                .data()
                .chunks_exact(F64_BYTES)
                .map(|chunk| {
                    let mut le = [0u8; F64_BYTES];
                    le.copy_from_slice(chunk);
                    f64::from_le_bytes(le)
                })
                .collect();
            tensors.insert(
                name,
                Tensor {
                    shape: info.shape,
                    data,
                },
            );
        }

        let exact = read_exact(&stored, metadata.get(EXACT_KEY), &tensors)?;
        Ok(ModelFile {
            header: Header {
                format_version: stored.format_version,
                vocab_size: stored.vocab_size,
                graph_digest: stored.graph_digest,
                program_digest: stored.program_digest,
                program: stored.program,
                d_model: stored.d_model,
                layers: stored.layers,
                metadata: stored.metadata,
            },
            tensors,
            exact,
        })
    }
}

/// Parses the `tvm` entry, checking the version first (a later version may
/// lay the rest out differently) and then the graph digest.
fn parse_header(json: &str, expect: &Expect) -> Result<StoredHeader, ModelFileError> {
    let malformed = |reason: String| ModelFileError::MalformedHeader { reason };
    let value: Value =
        serde_json::from_str(json).map_err(|e| malformed(format!("not JSON: {e}")))?;
    let version = value
        .get("format_version")
        .ok_or_else(|| malformed("no `format_version`".to_owned()))?
        .as_u64()
        .ok_or_else(|| malformed("`format_version` is not a non-negative integer".to_owned()))?;
    if version != u64::from(expect.format_version) {
        return Err(ModelFileError::WrongVersion {
            found: version,
            expected: expect.format_version,
        });
    }
    let stored: StoredHeader =
        serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
    if let Some(expected) = &expect.graph_digest
        && *expected != stored.graph_digest
    {
        return Err(ModelFileError::WrongGraphDigest {
            found: stored.graph_digest,
            expected: expected.clone(),
        });
    }
    Ok(stored)
}

/// Rebuilds the exact tensors declared in the header: from the f64 data when
/// `exact_in_f64`, else from `tvm.exact`; each must round to its f64 tensor.
fn read_exact(
    stored: &StoredHeader,
    exact_json: Option<&String>,
    tensors: &BTreeMap<String, Tensor>,
) -> Result<BTreeMap<String, ExactTensor>, ModelFileError> {
    let malformed = |tensor: &str, reason: String| ModelFileError::MalformedExact {
        tensor: tensor.to_owned(),
        reason,
    };
    let mut stored_exact: BTreeMap<String, Value> = match exact_json {
        None => BTreeMap::new(),
        Some(json) => serde_json::from_str(json).map_err(|e| {
            malformed(
                EXACT_KEY,
                format!("`{EXACT_KEY}` is not a JSON object: {e}"),
            )
        })?,
    };
    let mut exact = BTreeMap::new();
    for (name, info) in &stored.exact {
        let Some(tensor) = tensors.get(name) else {
            return Err(malformed(
                name,
                "declared, but there is no f64 tensor of that name".into(),
            ));
        };
        let value = stored_exact.remove(name);
        let tensor_exact = match (info.exact_in_f64, value) {
            (true, Some(_)) => {
                return Err(malformed(
                    name,
                    format!("declared exact in f64, yet also stored under `{EXACT_KEY}`"),
                ));
            }
            (false, None) => {
                return Err(malformed(
                    name,
                    format!("declared not exact in f64, yet missing from `{EXACT_KEY}`"),
                ));
            }
            (true, None) => match ExactTensor::from_f64(tensor) {
                Some(exact) => exact,
                None => {
                    let flat = tensor.data.iter().position(|x| !x.is_finite()).unwrap_or(0);
                    return Err(ModelFileError::ExactMismatch {
                        tensor: name.clone(),
                        index: unflatten(&tensor.shape, flat),
                        reason: "declared exact in f64, but the f64 weight is not finite".into(),
                    });
                }
            },
            (false, Some(value)) => parse_exact(name, value)?,
        };
        if tensor_exact.shape != tensor.shape {
            return Err(malformed(
                name,
                format!(
                    "shape {:?}, but its f64 tensor has shape {:?}",
                    tensor_exact.shape, tensor.shape
                ),
            ));
        }
        if let Some((index, reason)) = first_disagreement(&tensor_exact, tensor) {
            return Err(ModelFileError::ExactMismatch {
                tensor: name.clone(),
                index,
                reason,
            });
        }
        exact.insert(name.clone(), tensor_exact);
    }
    if let Some(name) = stored_exact.keys().next() {
        return Err(malformed(
            name,
            "stored, but not declared in the header's `exact` map".into(),
        ));
    }
    Ok(exact)
}

/// Parses one `tvm.exact` entry and checks the [`ExactTensor`] invariants.
fn parse_exact(name: &str, value: Value) -> Result<ExactTensor, ModelFileError> {
    let malformed = |reason: String| ModelFileError::MalformedExact {
        tensor: name.to_owned(),
        reason,
    };
    let stored: StoredExact =
        serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
    let mut entries = Vec::with_capacity(stored.entries.len());
    for row in stored.entries {
        let Some((EntryItem::Value(text), coordinates)) = row.split_last() else {
            return Err(malformed(
                "an entry does not end with its value as a \"p/q\" string".into(),
            ));
        };
        let index = coordinates
            .iter()
            .map(|item| match item {
                EntryItem::Coordinate(i) => Ok(*i),
                EntryItem::Value(s) => Err(malformed(format!("coordinate {s:?} is not a number"))),
            })
            .collect::<Result<Vec<usize>, _>>()?;
        let value: BigRational = text.parse().map_err(|e| {
            malformed(format!(
                "value {text:?} at {index:?} is not a rational: {e}"
            ))
        })?;
        entries.push((index, value));
    }
    let exact = ExactTensor {
        shape: stored.shape,
        entries,
    };
    exact.check().map_err(malformed)?;
    Ok(exact)
}

/// The first index where `tensor` is not bit for bit the rounding of `exact`
/// (which must satisfy [`ExactTensor::check`] and have the tensor's shape),
/// with both values; `None` when they agree everywhere.
fn first_disagreement(exact: &ExactTensor, tensor: &Tensor) -> Option<(Vec<usize>, String)> {
    let rounded = exact.to_f64();
    let flat = rounded
        .data
        .iter()
        .zip(&tensor.data)
        .position(|(a, b)| a.to_bits() != b.to_bits())?;
    let index = unflatten(&tensor.shape, flat);
    let exact_value = exact
        .entries
        .iter()
        .find(|(i, _)| *i == index)
        .map_or_else(|| "0".to_owned(), |(_, v)| v.to_string());
    let stored = tensor.data.get(flat).copied().unwrap_or(f64::NAN);
    let wanted = rounded.data.get(flat).copied().unwrap_or(f64::NAN);
    Some((
        index,
        format!("exact {exact_value} rounds to {wanted:?}, the f64 tensor holds {stored:?}"),
    ))
}
