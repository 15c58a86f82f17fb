//! Model file: round trips, determinism, exact rounding, corruption, atomic writes.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use proptest::prelude::*;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde_json::{Value, json};
use tvm_weights::model_file::{
    ExactTensor, Expect, FORMAT_VERSION, Header, ModelFile, ModelFileError, Tensor, digest,
    rational_of_f64, rational_to_f64,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn ratio(p: i64, q: i64) -> BigRational {
    BigRational::new(BigInt::from(p), BigInt::from(q))
}

fn pow2(e: i64) -> BigRational {
    if e >= 0 {
        BigRational::from_integer(BigInt::one() << e as usize)
    } else {
        BigRational::new(BigInt::one(), BigInt::one() << (-e) as usize)
    }
}

fn exact(shape: Vec<usize>, entries: Vec<(Vec<usize>, BigRational)>) -> ExactTensor {
    let t = ExactTensor { shape, entries };
    t.check().expect("test tensors are well formed");
    t
}

fn graph_digest() -> String {
    digest(b"(graph: test machine)")
}

/// A model with exact tensors of both kinds, a float-only tensor, a scalar
/// and an empty tensor.
fn sample_model() -> ModelFile {
    let mut exact_tensors = BTreeMap::new();
    // Integer valued: exact in f64.
    exact_tensors.insert(
        "layer0.ffn.w_in".to_owned(),
        exact(
            vec![3, 4],
            vec![
                (vec![0, 0], ratio(1, 1)),
                (vec![0, 3], ratio(-2, 1)),
                (vec![1, 2], ratio(65536, 1)),
                (vec![2, 1], ratio(1, 2)),
                (vec![2, 3], ratio(-3, 8)),
            ],
        ),
    );
    // Thirds and sevenths: not exact in f64.
    exact_tensors.insert(
        "layer0.attn.q".to_owned(),
        exact(
            vec![2, 3],
            vec![
                (vec![0, 0], ratio(1, 3)),
                (vec![0, 2], ratio(-2, 7)),
                (vec![1, 1], ratio(5, 1)),
            ],
        ),
    );
    // An integer too wide for f64, and a value that underflows to zero.
    exact_tensors.insert(
        "layer1.big".to_owned(),
        exact(
            vec![2],
            vec![
                (
                    vec![0],
                    BigRational::from_integer((BigInt::one() << 60usize) + 1),
                ),
                (vec![1], -pow2(-1100)),
            ],
        ),
    );
    exact_tensors.insert(
        "scalar".to_owned(),
        exact(vec![], vec![(vec![], ratio(5, 2))]),
    );
    exact_tensors.insert("empty".to_owned(), exact(vec![0, 3], vec![]));

    let mut tensors: BTreeMap<String, Tensor> = exact_tensors
        .iter()
        .map(|(name, t)| (name.clone(), t.to_f64()))
        .collect();
    // Float only: no exact copy.
    tensors.insert(
        "embed".to_owned(),
        Tensor {
            shape: vec![5],
            data: vec![0.1, -0.0, 1e300, f64::MIN_POSITIVE / 4.0, -7.25],
        },
    );

    ModelFile {
        header: Header {
            format_version: FORMAT_VERSION,
            vocab_size: 260,
            graph_digest: graph_digest(),
            program_digest: Some(digest(b"program")),
            program: None,
            d_model: 12,
            layers: 2,
            metadata: json!({"slots": {"pc": 0, "acc": 1, "carry": 2}, "schedule": [[0, "attn"], [1, "ffn"]]}),
        },
        tensors,
        exact: exact_tensors,
    }
}

/// A model whose exact tensors are all exact in f64 (so `tvm.exact` is absent).
fn exact_only_model() -> ModelFile {
    let mut model = sample_model();
    for name in ["layer0.attn.q", "layer1.big"] {
        model.exact.remove(name);
        model.tensors.remove(name);
    }
    model
}

fn expect() -> Expect {
    Expect::graph(graph_digest())
}

/// Header length and the parsed safetensors JSON header of a file.
fn split_header(bytes: &[u8]) -> (usize, BTreeMap<String, Value>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (n, header)
}

/// The `__metadata__` map of a file.
fn metadata_of(bytes: &[u8]) -> HashMap<String, String> {
    let (_, metadata) = SafeTensors::read_metadata(bytes).unwrap();
    metadata.metadata().clone().unwrap_or_default()
}

/// Raw tensors of a file, by name: dtype, shape, bytes.
type RawTensors = BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)>;

fn raw_tensors(bytes: &[u8]) -> RawTensors {
    let st = SafeTensors::deserialize(bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            (
                name,
                (view.dtype(), view.shape().to_vec(), view.data().to_vec()),
            )
        })
        .collect()
}

/// Serialises with `safetensors::serialize` (the reference writer).
fn reference_serialize(tensors: &RawTensors, metadata: HashMap<String, String>) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, (dtype, shape, data))| {
            (
                name.clone(),
                TensorView::new(*dtype, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, Some(metadata)).unwrap()
}

/// Rewrites a valid file through the reference writer after `edit` changes
/// its `tvm` header, its `tvm.exact` entry (None: absent) or its tensors;
/// the data checksum is recomputed, so only the intended damage remains.
fn rewrite(
    bytes: &[u8],
    edit: impl FnOnce(&mut Value, &mut Option<Value>, &mut RawTensors),
) -> Vec<u8> {
    let metadata = metadata_of(bytes);
    let mut tvm: Value = serde_json::from_str(&metadata["tvm"]).unwrap();
    let mut exact: Option<Value> = metadata
        .get("tvm.exact")
        .map(|s| serde_json::from_str(s).unwrap());
    let mut tensors = raw_tensors(bytes);
    edit(&mut tvm, &mut exact, &mut tensors);
    // The data section is the tensors in the reference writer's order.
    let probe = reference_serialize(&tensors, HashMap::new());
    let (n, _) = split_header(&probe);
    tvm["data_sha256"] = Value::String(digest(&probe[8 + n..]));
    let mut metadata = HashMap::new();
    metadata.insert("tvm".to_owned(), tvm.to_string());
    if let Some(exact) = exact {
        metadata.insert("tvm.exact".to_owned(), exact.to_string());
    }
    reference_serialize(&tensors, metadata)
}

/// Re-emits a file with an edited safetensors JSON header, data untouched.
fn with_raw_header(bytes: &[u8], edit: impl FnOnce(&mut BTreeMap<String, Value>)) -> Vec<u8> {
    let (n, mut header) = split_header(bytes);
    edit(&mut header);
    let mut text = serde_json::to_vec(&header).unwrap();
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn bytes_f64(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Every message a reader sees tells them what to do.
fn assert_actionable(error: &ModelFileError) {
    let message = error.to_string();
    assert!(
        message.contains("tvm build"),
        "message does not say what to do: {message}"
    );
}

// ---------------------------------------------------------------------------
// Round trip and determinism
// ---------------------------------------------------------------------------

#[test]
fn round_trip_recovers_the_model_exactly() {
    let model = sample_model();
    let bytes = model.to_bytes().unwrap();
    let back = ModelFile::from_bytes(&bytes, &expect()).unwrap();
    assert_eq!(back, model);
    // Both kinds of exact tensor come back exactly, bit for bit in f64 too.
    assert_eq!(back.exact["layer0.attn.q"].entries[0].1, ratio(1, 3));
    assert_eq!(back.exact["layer0.ffn.w_in"].entries[3].1, ratio(1, 2));
    assert_eq!(
        back.exact["layer1.big"].entries[0].1,
        BigRational::from_integer((BigInt::one() << 60usize) + 1)
    );
    for (name, tensor) in &model.tensors {
        let bits = |t: &Tensor| t.data.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.tensors[name]), bits(tensor), "{name}");
    }
}

#[test]
fn only_inexact_tensors_are_stored_exactly() {
    let bytes = sample_model().to_bytes().unwrap();
    let metadata = metadata_of(&bytes);
    let tvm: Value = serde_json::from_str(&metadata["tvm"]).unwrap();
    assert_eq!(
        tvm["exact"],
        json!({
            "empty": {"exact_in_f64": true},
            "layer0.attn.q": {"exact_in_f64": false},
            "layer0.ffn.w_in": {"exact_in_f64": true},
            "layer1.big": {"exact_in_f64": false},
            "scalar": {"exact_in_f64": true},
        })
    );
    assert_eq!(tvm["format_version"], json!(FORMAT_VERSION));
    assert_eq!(tvm["graph_digest"], json!(graph_digest()));
    let stored: Value = serde_json::from_str(&metadata["tvm.exact"]).unwrap();
    assert_eq!(
        stored,
        json!({
            "layer0.attn.q": {"shape": [2, 3], "entries": [[0, 0, "1/3"], [0, 2, "-2/7"], [1, 1, "5"]]},
            "layer1.big": {"shape": [2], "entries": [
                [0, "1152921504606846977"],
                [1, format!("-1/{}", BigInt::one() << 1100usize)],
            ]},
        })
    );

    let bytes = exact_only_model().to_bytes().unwrap();
    assert!(!metadata_of(&bytes).contains_key("tvm.exact"));
}

#[test]
fn same_model_same_bytes() {
    let model = sample_model();
    let first = model.to_bytes().unwrap();
    assert_eq!(model.to_bytes().unwrap(), first);
    assert_eq!(model.clone().to_bytes().unwrap(), first);

    // Metadata objects built in another key order serialise identically.
    let mut reordered = model.clone();
    let mut slots = serde_json::Map::new();
    slots.insert("carry".to_owned(), json!(2));
    slots.insert("acc".to_owned(), json!(1));
    slots.insert("pc".to_owned(), json!(0));
    let mut metadata = serde_json::Map::new();
    metadata.insert("schedule".to_owned(), json!([[0, "attn"], [1, "ffn"]]));
    metadata.insert("slots".to_owned(), Value::Object(slots));
    reordered.header.metadata = Value::Object(metadata);
    assert_eq!(reordered.to_bytes().unwrap(), first);

    // Rationals are written in lowest terms.
    let mut unreduced = model.clone();
    unreduced.exact.get_mut("layer0.attn.q").unwrap().entries[0].1 =
        BigRational::new_raw(BigInt::from(2), BigInt::from(6));
    assert_eq!(unreduced, model);
    assert_eq!(unreduced.to_bytes().unwrap(), first);

    // Files too.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        dir.path().join("a.safetensors"),
        dir.path().join("b.safetensors"),
    );
    model.write_atomically(&a).unwrap();
    model.write_atomically(&b).unwrap();
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    assert_eq!(fs::read(&a).unwrap(), first);
    model.write_atomically(&a).unwrap();
    assert_eq!(fs::read(&a).unwrap(), first);
    assert_eq!(ModelFile::read(&a, &expect()).unwrap(), model);
}

#[test]
fn the_file_is_standard_safetensors() {
    let model = sample_model();
    let bytes = model.to_bytes().unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(
        names,
        model.tensors.keys().map(String::as_str).collect::<Vec<_>>()
    );
    for (name, tensor) in &model.tensors {
        let view = st.tensor(name).unwrap();
        assert_eq!(view.dtype(), Dtype::F64);
        assert_eq!(view.shape(), tensor.shape.as_slice());
        assert_eq!(view.data(), f64_bytes(&tensor.data).as_slice());
    }
    // Header padded to 8 bytes, as safetensors does.
    let (n, _) = split_header(&bytes);
    assert_eq!(n % 8, 0);
}

#[test]
fn with_one_metadata_key_the_bytes_equal_the_reference_writer() {
    let bytes = exact_only_model().to_bytes().unwrap();
    let reference = reference_serialize(&raw_tensors(&bytes), metadata_of(&bytes));
    assert_eq!(bytes, reference);
}

/// Why `to_bytes` writes the safetensors header itself: the reference writer
/// takes `__metadata__` as a `HashMap` and emits its keys in hash order, which
/// changes from map to map, so two keys give two possible byte strings.
#[test]
fn reference_writer_orders_metadata_randomly() {
    let bytes = sample_model().to_bytes().unwrap();
    let tensors = raw_tensors(&bytes);
    let metadata = metadata_of(&bytes);
    assert_eq!(metadata.len(), 2);
    let mut outputs = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let fresh: HashMap<String, String> = metadata.clone().into_iter().collect();
        outputs.insert(reference_serialize(&tensors, fresh));
        if outputs.len() > 1 {
            break;
        }
    }
    assert_eq!(
        outputs.len(),
        2,
        "safetensors metadata order is deterministic now"
    );
    // Ours is one of them: the one with sorted keys.
    assert!(outputs.contains(&bytes));
}

// ---------------------------------------------------------------------------
// Exact tensors
// ---------------------------------------------------------------------------

#[test]
fn exact_tensor_conversions() {
    let t = exact(
        vec![2, 2],
        vec![(vec![0, 1], ratio(1, 3)), (vec![1, 0], ratio(3, 4))],
    );
    let f = t.to_f64();
    assert_eq!(f.shape, vec![2, 2]);
    assert_eq!(f.data, vec![0.0, 1.0 / 3.0, 0.75, 0.0]);
    assert!(!t.is_exact_in_f64());
    let back = ExactTensor::from_f64(&f).unwrap();
    assert_eq!(back.entries[1], (vec![1, 0], ratio(3, 4)));
    assert_ne!(back, t);
    assert!(back.is_exact_in_f64());
    assert_eq!(ExactTensor::from_f64(&back.to_f64()).unwrap(), back);

    assert!(ExactTensor::zeros(vec![4]).is_exact_in_f64());
    assert_eq!(ExactTensor::zeros(vec![4]).to_f64(), Tensor::zeros(vec![4]));
    let nan = Tensor {
        shape: vec![1],
        data: vec![f64::NAN],
    };
    assert_eq!(ExactTensor::from_f64(&nan), None);
    let ragged = Tensor {
        shape: vec![2],
        data: vec![1.0],
    };
    assert_eq!(ExactTensor::from_f64(&ragged), None);
}

#[test]
fn exact_tensor_check_names_the_broken_invariant() {
    let cases = [
        (vec![(vec![0], ratio(1, 2))], "coordinates"),
        (vec![(vec![0, 5], ratio(1, 2))], "outside"),
        (
            vec![(vec![1, 0], ratio(1, 2)), (vec![0, 1], ratio(1, 2))],
            "sorted",
        ),
        (
            vec![(vec![0, 1], ratio(1, 2)), (vec![0, 1], ratio(1, 3))],
            "sorted",
        ),
        (vec![(vec![0, 1], BigRational::zero())], "zero"),
        (
            vec![(
                vec![0, 1],
                BigRational::new_raw(BigInt::from(1), BigInt::from(-2)),
            )],
            "denominator",
        ),
    ];
    for (entries, needle) in cases {
        let t = ExactTensor {
            shape: vec![2, 3],
            entries,
        };
        let error = t.check().unwrap_err();
        assert!(error.contains(needle), "{error} lacks {needle}");
        // Never panics, even on broken tensors.
        let _ = t.to_f64();
    }
}

// ---------------------------------------------------------------------------
// Rational -> f64 rounding
// ---------------------------------------------------------------------------

/// Slow reference: the f64 nearest to `r`, by binary search for the largest
/// finite f64 `x ≤ |r|` and an exact comparison with `x` and `next_up(x)`
/// (for `f64::MAX`, the next "value" is 2^1024, which stands for infinity);
/// values come from num-rational's `from_float`, not the code under test.
fn reference_to_f64(r: &BigRational) -> f64 {
    let value = |x: f64| BigRational::from_float(x).unwrap();
    if r.is_zero() {
        return 0.0;
    }
    let a = r.abs();
    let (mut lo, mut hi) = (0u64, f64::MAX.to_bits());
    if value(f64::MAX) <= a {
        lo = hi;
    } else {
        // value(lo) ≤ a < value(hi)
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if value(f64::from_bits(mid)) <= a {
                lo = mid;
            } else {
                hi = mid;
            }
        }
    }
    let below = f64::from_bits(lo);
    let above = below.next_up();
    let above_value = if above.is_infinite() {
        pow2(1024)
    } else {
        value(above)
    };
    let to_below = &a - value(below);
    let to_above = above_value - &a;
    let magnitude = match to_below.cmp(&to_above) {
        std::cmp::Ordering::Less => below,
        std::cmp::Ordering::Greater => above,
        std::cmp::Ordering::Equal if lo % 2 == 0 => below,
        std::cmp::Ordering::Equal => above,
    };
    if r.is_negative() {
        -magnitude
    } else {
        magnitude
    }
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
}

#[test]
fn rounding_known_cases() {
    let one = BigRational::one();
    let cases: Vec<(BigRational, f64)> = vec![
        (ratio(1, 3), 1.0 / 3.0),
        (ratio(-2, 7), -2.0 / 7.0),
        (ratio(1, 10), 0.1),
        (ratio(5, 1), 5.0),
        // Ties go to the even significand.
        (&one + pow2(-53), 1.0),
        (&one + pow2(-53) * ratio(3, 1), 1.0 + 2f64.powi(-51)),
        (-(&one + pow2(-53)), -1.0),
        // Just off a tie.
        (&one + pow2(-53) + pow2(-2000), 1.0 + f64::EPSILON),
        (&one + pow2(-53) - pow2(-2000), 1.0),
        (
            BigRational::from_integer((BigInt::one() << 60usize) + 1),
            2f64.powi(60),
        ),
        // Subnormals.
        (pow2(-1074), f64::from_bits(1)),
        (pow2(-1075), 0.0),
        (pow2(-1075) + pow2(-3000), f64::from_bits(1)),
        (pow2(-1075) * ratio(3, 1), f64::from_bits(2)),
        (pow2(-1075) * ratio(5, 1), f64::from_bits(2)),
        (pow2(-1022) - pow2(-1075), f64::MIN_POSITIVE),
        (
            pow2(-1022) - pow2(-1075) - pow2(-3000),
            f64::from_bits((1 << 52) - 1),
        ),
        (pow2(-1022), f64::MIN_POSITIVE),
        (pow2(-5000), 0.0),
        (-pow2(-5000), -0.0),
        (-pow2(-1076), -0.0),
        // The top of the range; overflow goes to infinity.
        (BigRational::from_float(f64::MAX).unwrap(), f64::MAX),
        (pow2(1024) - pow2(970) - pow2(-10), f64::MAX),
        (pow2(1024) - pow2(970), f64::INFINITY),
        (pow2(1024), f64::INFINITY),
        (-pow2(1024), f64::NEG_INFINITY),
        (pow2(100_000), f64::INFINITY),
        (pow2(1023), 2f64.powi(1023)),
        (BigRational::zero(), 0.0),
    ];
    for (r, expected) in cases {
        let got = rational_to_f64(&r);
        assert!(
            same(got, expected),
            "{r}: got {got:e}, expected {expected:e}"
        );
        assert!(
            same(reference_to_f64(&r), expected),
            "reference disagrees on {r}"
        );
    }
    // Unnormalised signs are handled.
    let raw = BigRational::new_raw(BigInt::from(1), BigInt::from(-4));
    assert!(same(rational_to_f64(&raw), -0.25));
    let raw = BigRational::new_raw(BigInt::from(1), BigInt::zero());
    assert!(rational_to_f64(&raw).is_nan());
}

#[test]
fn rational_of_f64_decodes_bits() {
    assert_eq!(rational_of_f64(0.5), Some(ratio(1, 2)));
    assert_eq!(rational_of_f64(-3.0), Some(ratio(-3, 1)));
    assert_eq!(rational_of_f64(0.0), Some(BigRational::zero()));
    assert_eq!(rational_of_f64(-0.0), Some(BigRational::zero()));
    assert_eq!(rational_of_f64(f64::from_bits(1)), Some(pow2(-1074)));
    assert_eq!(rational_of_f64(f64::MIN_POSITIVE), Some(pow2(-1022)));
    assert_eq!(rational_of_f64(f64::MAX), Some(pow2(1024) - pow2(971)));
    assert_eq!(rational_of_f64(f64::NAN), None);
    assert_eq!(rational_of_f64(f64::INFINITY), None);
    assert_eq!(rational_of_f64(f64::NEG_INFINITY), None);
}

/// A finite non-negative f64 from any bits.
fn finite_f64() -> impl Strategy<Value = f64> {
    (0u64..0x7ff0_0000_0000_0000).prop_map(f64::from_bits)
}

/// Rationals near the interesting places: on an f64, exactly halfway to the
/// next one, or just off halfway; with either sign.
fn near_f64() -> impl Strategy<Value = BigRational> {
    (finite_f64(), 0u8..5, any::<bool>(), 60i64..1200).prop_map(|(x, kind, negative, k)| {
        let lo = BigRational::from_float(x).unwrap();
        let next = x.next_up();
        let hi = if next.is_infinite() {
            pow2(1024)
        } else {
            BigRational::from_float(next).unwrap()
        };
        let mid = (&lo + &hi) / BigRational::from_integer(BigInt::from(2));
        let epsilon = pow2(-1100 - k);
        let r = match kind {
            0 => lo,
            1 => mid,
            2 => mid + epsilon,
            3 => mid - epsilon,
            _ => lo + epsilon,
        };
        if negative { -r } else { r }
    })
}

/// Big random numerators and denominators: every magnitude, up to overflow.
fn big_ratio() -> impl Strategy<Value = BigRational> {
    (
        prop::collection::vec(any::<u32>(), 1..40),
        prop::collection::vec(any::<u32>(), 1..40),
        any::<bool>(),
    )
        .prop_filter_map("zero denominator", |(p, q, negative)| {
            let p = BigInt::from(num_bigint::BigUint::new(p));
            let q = BigInt::from(num_bigint::BigUint::new(q));
            if q.is_zero() {
                return None;
            }
            let r = BigRational::new(p, q);
            Some(if negative { -r } else { r })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn rounding_matches_the_slow_reference_near_f64s(r in near_f64()) {
        let got = rational_to_f64(&r);
        let want = reference_to_f64(&r);
        prop_assert!(same(got, want), "{}: got {:e}, reference {:e}", r, got, want);
    }

    #[test]
    fn rounding_matches_the_slow_reference_on_big_ratios(r in big_ratio()) {
        let got = rational_to_f64(&r);
        let want = reference_to_f64(&r);
        prop_assert!(same(got, want), "{}: got {:e}, reference {:e}", r, got, want);
    }

    /// IEEE division is correctly rounded: for p, q exact in f64, p/q in f64
    /// is the rounding of the rational p/q.
    #[test]
    fn rounding_matches_ieee_division(
        p in -(1i64 << 53)..=(1i64 << 53),
        q in (1i64..=(1i64 << 53)),
        scale in -1100i64..1100,
    ) {
        let r = ratio(p, q);
        prop_assert!(same(rational_to_f64(&r), p as f64 / q as f64));
        // Scaled by a power of two, into subnormals or overflow.
        let scaled = &r * pow2(scale);
        prop_assert!(same(rational_to_f64(&scaled), reference_to_f64(&scaled)));
    }

    /// Rust's decimal parser is correctly rounded too.
    #[test]
    fn rounding_matches_decimal_parsing(mantissa in any::<u64>(), exponent in -360i32..330) {
        let ten = BigInt::from(10);
        let scale = num_traits::pow(ten, exponent.unsigned_abs() as usize);
        let m = BigInt::from(mantissa);
        let r = if exponent >= 0 {
            BigRational::from_integer(m * scale)
        } else {
            BigRational::new(m, scale)
        };
        let parsed: f64 = format!("{mantissa}e{exponent}").parse().unwrap();
        prop_assert!(same(rational_to_f64(&r), parsed));
    }

    #[test]
    fn every_finite_f64_round_trips(bits in any::<u64>()) {
        let x = f64::from_bits(bits);
        match rational_of_f64(x) {
            None => prop_assert!(!x.is_finite()),
            Some(r) => {
                prop_assert_eq!(Some(r.clone()), BigRational::from_float(x));
                let back = rational_to_f64(&r);
                if x == 0.0 {
                    prop_assert!(same(back, 0.0));
                } else {
                    prop_assert!(same(back, x));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Corruption: every failure is a specific error, never a panic
// ---------------------------------------------------------------------------

#[test]
fn truncation_at_every_length_is_reported_as_truncation() {
    let bytes = sample_model().to_bytes().unwrap();
    for len in 0..bytes.len() {
        match ModelFile::from_bytes(&bytes[..len], &expect()) {
            Err(e @ ModelFileError::Truncated { .. }) => assert_actionable(&e),
            other => panic!("length {len}: {other:?}"),
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        ModelFile::from_bytes(&longer, &expect()),
        Err(ModelFileError::NotSafetensors { .. })
    ));
}

#[test]
fn garbage_is_not_safetensors() {
    for garbage in [
        &b"this is a text file, not a model"[..],
        &[0xff; 64][..],
        &[4, 0, 0, 0, 0, 0, 0, 0, b'[', b']', b' ', b' '][..],
        &[2, 0, 0, 0, 0, 0, 0, 0, 0xc3, 0x28][..],
    ] {
        match ModelFile::from_bytes(garbage, &expect()) {
            Err(ModelFileError::NotSafetensors { reason }) => assert!(!reason.is_empty()),
            other => panic!("{garbage:?}: {other:?}"),
        }
    }
}

#[test]
fn flipped_header_bytes_give_specific_errors() {
    let bytes = sample_model().to_bytes().unwrap();
    let find = |needle: &[u8]| {
        bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap()
    };

    // The opening brace of the JSON header.
    let mut broken = bytes.clone();
    broken[8] ^= 0x20;
    assert!(matches!(
        ModelFile::from_bytes(&broken, &expect()),
        Err(ModelFileError::NotSafetensors { .. })
    ));

    // The `tvm` key.
    let mut broken = bytes.clone();
    broken[find(b"\"tvm\":") + 3] = b'x';
    let error = ModelFile::from_bytes(&broken, &expect()).unwrap_err();
    assert!(matches!(error, ModelFileError::MissingHeader), "{error:?}");
    assert_actionable(&error);

    // A field name inside the `tvm` JSON.
    let mut broken = bytes.clone();
    broken[find(b"vocab_size") + 9] = b'f';
    let error = ModelFile::from_bytes(&broken, &expect()).unwrap_err();
    assert!(
        matches!(&error, ModelFileError::MalformedHeader { reason } if reason.contains("vocab_sizf")),
        "{error:?}"
    );
    assert_actionable(&error);

    // A dtype.
    let mut broken = bytes.clone();
    broken[find(b"\"F64\"") + 2] = b'3';
    let error = ModelFile::from_bytes(&broken, &expect()).unwrap_err();
    assert!(
        matches!(&error, ModelFileError::WrongDtype { dtype, .. } if dtype == "F34"),
        "{error:?}"
    );

    // A data byte: the checksum catches it.
    let mut broken = bytes.clone();
    let last = broken.len() - 3;
    broken[last] ^= 0x01;
    let error = ModelFile::from_bytes(&broken, &expect()).unwrap_err();
    assert!(
        matches!(error, ModelFileError::CorruptData { .. }),
        "{error:?}"
    );
    assert_actionable(&error);
}

#[test]
fn missing_or_malformed_tvm_header() {
    let bytes = sample_model().to_bytes().unwrap();
    let tensors = raw_tensors(&bytes);

    let plain = reference_serialize(&tensors, HashMap::new());
    let error = ModelFile::from_bytes(&plain, &expect()).unwrap_err();
    assert!(matches!(error, ModelFileError::MissingHeader));
    assert!(error.to_string().contains("not written by tvm"));

    for (tvm, needle) in [
        ("not json", "not JSON"),
        ("{}", "format_version"),
        (r#"{"format_version": "1"}"#, "format_version"),
        (r#"{"format_version": 1}"#, "missing field"),
    ] {
        let file = reference_serialize(
            &tensors,
            HashMap::from([("tvm".to_owned(), tvm.to_owned())]),
        );
        match ModelFile::from_bytes(&file, &expect()) {
            Err(ModelFileError::MalformedHeader { reason }) => {
                assert!(reason.contains(needle), "{reason} lacks {needle}")
            }
            other => panic!("{tvm}: {other:?}"),
        }
    }

    let extra = rewrite(&bytes, |tvm, _, _| tvm["surprise"] = json!(1));
    assert!(matches!(
        ModelFile::from_bytes(&extra, &expect()),
        Err(ModelFileError::MalformedHeader { .. })
    ));
}

#[test]
fn wrong_format_version() {
    let bytes = sample_model().to_bytes().unwrap();
    let error = ModelFile::from_bytes(
        &bytes,
        &Expect {
            format_version: 2,
            graph_digest: None,
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            error,
            ModelFileError::WrongVersion {
                found: 1,
                expected: 2
            }
        ),
        "{error:?}"
    );
    assert_actionable(&error);

    // A file from the future: reported as such, before anything else is read.
    let future = rewrite(&bytes, |tvm, _, _| {
        tvm["format_version"] = json!(7);
        tvm["layout"] = json!("something new");
    });
    let error = ModelFile::from_bytes(&future, &expect()).unwrap_err();
    assert!(matches!(
        error,
        ModelFileError::WrongVersion {
            found: 7,
            expected: 1
        }
    ));
    assert!(error.to_string().contains("format version 7"));

    let huge = rewrite(&bytes, |tvm, _, _| tvm["format_version"] = json!(u64::MAX));
    assert!(matches!(
        ModelFile::from_bytes(&huge, &expect()),
        Err(ModelFileError::WrongVersion {
            found: u64::MAX,
            ..
        })
    ));
}

#[test]
fn wrong_graph_digest() {
    let bytes = sample_model().to_bytes().unwrap();
    let other = digest(b"another graph");
    let error = ModelFile::from_bytes(&bytes, &Expect::graph(other.clone())).unwrap_err();
    match &error {
        ModelFileError::WrongGraphDigest { found, expected } => {
            assert_eq!(found, &graph_digest());
            assert_eq!(expected, &other);
        }
        other => panic!("{other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains(&graph_digest()) && message.contains(&other));
    assert!(message.contains("rebuild it with `tvm build`"));
    // Without a required digest, any graph is accepted.
    assert!(ModelFile::from_bytes(&bytes, &Expect::any_graph()).is_ok());
}

#[test]
fn non_f64_dtype() {
    let bytes = sample_model().to_bytes().unwrap();
    let file = rewrite(&bytes, |_, _, tensors| {
        let (dtype, shape, data) = tensors.get_mut("embed").unwrap();
        *dtype = Dtype::F32;
        *data = bytes_f64(data)
            .iter()
            .flat_map(|&x| (x as f32).to_le_bytes())
            .collect();
        assert_eq!(shape, &vec![5]);
    });
    let error = ModelFile::from_bytes(&file, &expect()).unwrap_err();
    assert!(
        matches!(&error, ModelFileError::WrongDtype { tensor, dtype } if tensor == "embed" && dtype == "F32"),
        "{error:?}"
    );
    assert_actionable(&error);
}

#[test]
fn shape_that_does_not_match_the_data() {
    let bytes = sample_model().to_bytes().unwrap();
    let file = with_raw_header(&bytes, |header| {
        header.get_mut("embed").unwrap()["shape"] = json!([2, 3]);
    });
    let error = ModelFile::from_bytes(&file, &expect()).unwrap_err();
    match &error {
        ModelFileError::ShapeMismatch {
            tensor,
            shape,
            elements,
            needed,
            bytes,
        } => {
            assert_eq!(tensor, "embed");
            assert_eq!(shape, &vec![2, 3]);
            assert_eq!((*elements, *needed, *bytes), (6, 48, 40));
        }
        other => panic!("{other:?}"),
    }
    assert_actionable(&error);

    // An element count that overflows.
    let file = with_raw_header(&bytes, |header| {
        header.get_mut("embed").unwrap()["shape"] = json!([u64::MAX, u64::MAX]);
    });
    assert!(matches!(
        ModelFile::from_bytes(&file, &expect()),
        Err(ModelFileError::ShapeMismatch {
            elements: u64::MAX,
            ..
        })
    ));

    // Offsets that overlap or leave a gap.
    let file = with_raw_header(&bytes, |header| {
        let offsets = header["embed"]["data_offsets"].clone();
        header.get_mut("embed").unwrap()["data_offsets"] = json!([
            offsets[0].as_u64().unwrap() + 8,
            offsets[1].as_u64().unwrap() + 8
        ]);
    });
    assert!(matches!(
        ModelFile::from_bytes(&file, &expect()),
        Err(ModelFileError::NotSafetensors { .. })
    ));
}

#[test]
fn exact_tensor_that_disagrees_with_its_f64_tensor() {
    let bytes = sample_model().to_bytes().unwrap();

    // Stored exactly: 1/3 no longer rounds to the f64 value.
    let file = rewrite(&bytes, |_, _, tensors| {
        let data = &mut tensors.get_mut("layer0.attn.q").unwrap().2;
        let mut values = bytes_f64(data);
        values[0] = values[0].next_up();
        *data = f64_bytes(&values);
    });
    let error = ModelFile::from_bytes(&file, &expect()).unwrap_err();
    match &error {
        ModelFileError::ExactMismatch {
            tensor,
            index,
            reason,
        } => {
            assert_eq!(tensor, "layer0.attn.q");
            assert_eq!(index, &vec![0, 0]);
            assert!(reason.contains("1/3"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_actionable(&error);

    // Stored exactly: the exact value changed in `tvm.exact`.
    let file = rewrite(&bytes, |_, exact, _| {
        exact.as_mut().unwrap()["layer0.attn.q"]["entries"][1][2] = json!("-3/7");
    });
    assert!(matches!(
        ModelFile::from_bytes(&file, &expect()),
        Err(ModelFileError::ExactMismatch { index, .. }) if index == vec![0, 2]
    ));

    // Exact in f64, but a value is not finite.
    let file = rewrite(&bytes, |_, _, tensors| {
        let data = &mut tensors.get_mut("layer0.ffn.w_in").unwrap().2;
        let mut values = bytes_f64(data);
        values[5] = f64::INFINITY;
        *data = f64_bytes(&values);
    });
    assert!(matches!(
        ModelFile::from_bytes(&file, &expect()),
        Err(ModelFileError::ExactMismatch { index, .. }) if index == vec![1, 1]
    ));

    // Exact in f64, but holding -0.0 where the exact value is zero.
    let file = rewrite(&bytes, |_, _, tensors| {
        let data = &mut tensors.get_mut("layer0.ffn.w_in").unwrap().2;
        let mut values = bytes_f64(data);
        values[1] = -0.0;
        *data = f64_bytes(&values);
    });
    assert!(matches!(
        ModelFile::from_bytes(&file, &expect()),
        Err(ModelFileError::ExactMismatch { index, .. }) if index == vec![0, 1]
    ));
}

#[test]
fn malformed_exact_tensors() {
    let bytes = sample_model().to_bytes().unwrap();
    type Edit = fn(&mut Value, &mut Option<Value>);
    let cases: [(Edit, &str, &str); 9] = [
        (
            |_, exact| exact.as_mut().unwrap()["layer0.attn.q"]["entries"][0][0] = json!(9),
            "layer0.attn.q",
            "outside",
        ),
        (
            |_, exact| exact.as_mut().unwrap()["layer0.attn.q"]["entries"][0][2] = json!("1/0"),
            "layer0.attn.q",
            "not a rational",
        ),
        (
            |_, exact| exact.as_mut().unwrap()["layer0.attn.q"]["entries"][0][2] = json!("0"),
            "layer0.attn.q",
            "zero",
        ),
        (
            |_, exact| exact.as_mut().unwrap()["layer0.attn.q"]["entries"][0] = json!([0, "1/3"]),
            "layer0.attn.q",
            "coordinates",
        ),
        (
            |_, exact| exact.as_mut().unwrap()["layer0.attn.q"]["entries"][0] = json!([0, 0, 1]),
            "layer0.attn.q",
            "value",
        ),
        (
            |_, exact| exact.as_mut().unwrap()["layer0.attn.q"]["shape"] = json!([3, 2]),
            "layer0.attn.q",
            "shape",
        ),
        (
            |_, exact| {
                exact.as_mut().unwrap()["scalar"] = json!({"shape": [], "entries": [["5/2"]]})
            },
            "scalar",
            "also stored",
        ),
        (
            |_, exact| {
                exact
                    .as_mut()
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .remove("layer1.big");
            },
            "layer1.big",
            "missing",
        ),
        (
            |tvm, _| tvm["exact"]["ghost"] = json!({"exact_in_f64": true}),
            "ghost",
            "no f64 tensor",
        ),
    ];
    for (edit, name, needle) in cases {
        let file = rewrite(&bytes, |tvm, exact, _| edit(tvm, exact));
        match ModelFile::from_bytes(&file, &expect()) {
            Err(e @ ModelFileError::MalformedExact { .. }) => {
                let ModelFileError::MalformedExact { tensor, reason } = &e else {
                    unreachable!()
                };
                assert_eq!(tensor, name);
                assert!(reason.contains(needle), "{reason} lacks {needle}");
                assert_actionable(&e);
            }
            other => panic!("{name}/{needle}: {other:?}"),
        }
    }

    let undeclared = rewrite(&bytes, |tvm, _, _| {
        tvm["exact"].as_object_mut().unwrap().remove("layer1.big");
    });
    assert!(matches!(
        ModelFile::from_bytes(&undeclared, &expect()),
        Err(ModelFileError::MalformedExact { tensor, .. }) if tensor == "layer1.big"
    ));
}

fn flip_bytes(bytes: &[u8], flips: &[(usize, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(at, mask) in flips {
        let at = at % out.len();
        out[at] ^= mask.max(1);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Random flips anywhere: Ok or Err, never a panic; and a flip that
    /// still loads cannot have changed the weights (the checksum) .
    #[test]
    fn random_byte_flips_never_panic(flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let model = sample_model();
        let bytes = model.to_bytes().unwrap();
        let broken = flip_bytes(&bytes, &flips);
        if let Ok(loaded) = ModelFile::from_bytes(&broken, &expect()) {
            let (n, _) = split_header(&bytes);
            prop_assert_eq!(&broken[8 + n..], &bytes[8 + n..]);
            prop_assert_eq!(loaded.tensors.len(), model.tensors.len());
        }
    }

    /// Flips concentrated in the JSON header, where parsing happens.
    #[test]
    fn random_header_flips_never_panic(flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let bytes = sample_model().to_bytes().unwrap();
        let (n, _) = split_header(&bytes);
        let mut broken = bytes.clone();
        for (at, mask) in flips {
            broken[8 + at % n] ^= mask.max(1);
        }
        let _ = ModelFile::from_bytes(&broken, &expect());
    }

    /// Any bytes at all.
    #[test]
    fn random_bytes_are_rejected(bytes in prop::collection::vec(any::<u8>(), 0..256), header_len in 0u64..300) {
        prop_assert!(ModelFile::from_bytes(&bytes, &expect()).is_err());
        let mut framed = header_len.to_le_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        prop_assert!(ModelFile::from_bytes(&framed, &expect()).is_err());
    }
}

// ---------------------------------------------------------------------------
// Writing: invalid models, atomic replacement
// ---------------------------------------------------------------------------

#[test]
fn invalid_models_are_not_written() {
    type Edit = fn(&mut ModelFile);
    let cases: [(Edit, &str); 7] = [
        (|m| m.header.format_version = 9, "format_version"),
        (
            |m| {
                m.tensors.get_mut("embed").unwrap().data.pop();
            },
            "embed",
        ),
        (
            |m| {
                m.tensors.remove("layer0.attn.q");
            },
            "no f64 tensor",
        ),
        (
            |m| m.tensors.get_mut("layer0.attn.q").unwrap().data[0] = 0.3,
            "not the rounding",
        ),
        (
            |m| m.tensors.get_mut("layer0.ffn.w_in").unwrap().data[1] = -0.0,
            "not the rounding",
        ),
        (
            |m| m.exact.get_mut("scalar").unwrap().shape = vec![1],
            "coordinates",
        ),
        (
            |m| {
                m.tensors
                    .insert("__metadata__".to_owned(), Tensor::zeros(vec![1]));
            },
            "__metadata__",
        ),
    ];
    for (edit, needle) in cases {
        let mut model = sample_model();
        edit(&mut model);
        match model.to_bytes() {
            Err(ModelFileError::InvalidModel { reason }) => {
                assert!(reason.contains(needle), "{reason} lacks {needle}")
            }
            other => panic!("{needle}: {other:?}"),
        }
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn writing_into_a_missing_directory_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("model.safetensors");
    let error = sample_model().write_atomically(&path).unwrap_err();
    assert!(matches!(error, ModelFileError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains("model.safetensors"));
    assert!(listing(dir.path()).is_empty());

    let error = ModelFile::read(&path, &expect()).unwrap_err();
    assert!(matches!(error, ModelFileError::Io { action: "read", .. }));
}

#[test]
fn an_existing_file_is_replaced_only_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let old = sample_model();
    old.write_atomically(&path).unwrap();
    let old_bytes = fs::read(&path).unwrap();

    // Fails before writing anything.
    let mut invalid = sample_model();
    invalid.header.format_version = 0;
    assert!(matches!(
        invalid.write_atomically(&path),
        Err(ModelFileError::InvalidModel { .. })
    ));
    assert_eq!(fs::read(&path).unwrap(), old_bytes);
    assert_eq!(listing(dir.path()), ["model.safetensors"]);

    // Succeeds.
    let mut new = sample_model();
    new.header.layers = 3;
    new.write_atomically(&path).unwrap();
    assert_eq!(fs::read(&path).unwrap(), new.to_bytes().unwrap());
    assert_eq!(listing(dir.path()), ["model.safetensors"]);
    assert_eq!(ModelFile::read(&path, &expect()).unwrap(), new);
}

#[test]
fn a_failed_rename_removes_the_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    // The target is a non-empty directory: the temp file is written, then
    // the rename over the directory fails.
    let target = dir.path().join("model.safetensors");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep"), b"x").unwrap();
    let error = sample_model().write_atomically(&target).unwrap_err();
    assert!(matches!(error, ModelFileError::Io { .. }), "{error:?}");
    assert_eq!(listing(dir.path()), ["model.safetensors"]);
    assert_eq!(listing(&target), ["keep"]);
}

#[test]
fn a_path_without_a_file_name_is_an_io_error() {
    let error = sample_model().write_atomically(Path::new("/")).unwrap_err();
    assert!(
        matches!(
            error,
            ModelFileError::Io {
                action: "write",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn digest_is_hex_sha256() {
    assert_eq!(
        digest(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        digest(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
