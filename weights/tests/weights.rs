//! The universal model's weights: deterministic, readable snapshots per
//! layer, a lossless file round trip, and shape checks that catch a broken
//! file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use tvm_weights::model::{Model, names};
use tvm_weights::model_file::{ExactTensor, Expect, ModelFile};

fn universal() -> Model {
    Model::build(&tvm_dsl::machine::universal())
        .expect("the universal model builds")
        .0
}

/// A tensor as text: its shape, then one line per row (all coordinates but
/// the last) listing the row's non-zero entries `column=value` as exact
/// rationals. Bias vectors list `index=value`.
fn describe(name: &str, t: &ExactTensor) -> String {
    let mut out = format!("{name} {:?}\n", t.shape);
    let rank = t.shape.len();
    if rank <= 1 || (rank == 2 && name.ends_with("_bias")) {
        let items: Vec<String> = t
            .entries
            .iter()
            .map(|(i, v)| format!("{i:?}={v}"))
            .collect();
        for chunk in items.chunks(8) {
            let _ = writeln!(out, "  {}", chunk.join(" "));
        }
        return out;
    }
    let mut rows: BTreeMap<&[usize], Vec<String>> = BTreeMap::new();
    for (index, v) in &t.entries {
        let (row, col) = index.split_at(rank - 1);
        rows.entry(row).or_default().push(format!("{}={v}", col[0]));
    }
    for (row, cols) in rows {
        let _ = writeln!(out, "  {row:?}: {}", cols.join(" "));
    }
    out
}

/// The snapshot text of every tensor whose name starts with `prefix`.
fn section(model: &Model, prefix: &str) -> String {
    model
        .tensors
        .iter()
        .filter(|(n, _)| n.starts_with(prefix))
        .map(|(n, t)| describe(n, t))
        .collect()
}

#[test]
fn weight_snapshots_per_layer() {
    let model = universal();
    let layout = &model.layout;
    let mut summary = format!(
        "d_model {}, {} layers, {} heads, d_ffn {}, {} non-zero weights\n",
        layout.d_model,
        layout.layers.len(),
        layout.total_heads(),
        layout.d_ffn(),
        model.nonzero()
    );
    for (l, layer) in layout.layers.iter().enumerate() {
        let _ = writeln!(
            summary,
            "layer {l:02}: heads {:?}, {} neurons",
            layer.heads, layer.neurons
        );
    }
    let _ = writeln!(summary, "running sums: {:?}", layout.running_sums);
    insta::assert_snapshot!("summary", summary);
    insta::assert_snapshot!("embed", section(&model, "embed."));
    for l in 0..layout.layers.len() {
        insta::assert_snapshot!(
            format!("layer{l:02}"),
            section(&model, &names::layer(l, ""))
        );
    }
    let out = format!(
        "{}{}",
        section(&model, "readout."),
        section(&model, "unembed.")
    );
    insta::assert_snapshot!("output_head", out);
}

#[test]
fn building_twice_gives_identical_bytes() {
    let a = universal()
        .to_file()
        .expect("file")
        .to_bytes()
        .expect("bytes");
    let b = universal()
        .to_file()
        .expect("file")
        .to_bytes()
        .expect("bytes");
    assert_eq!(a, b);
}

#[test]
fn the_file_round_trips_every_exact_weight() {
    let model = universal();
    let bytes = model.to_file().expect("file").to_bytes().expect("bytes");
    let file = ModelFile::from_bytes(&bytes, &Expect::graph(model.graph_digest.clone()))
        .expect("reads back");
    let back = Model::from_file(&file).expect("loads");
    assert_eq!(back, model);
}

#[test]
fn a_file_for_another_graph_is_refused() {
    let model = universal();
    let bytes = model.to_file().expect("file").to_bytes().expect("bytes");
    let err = ModelFile::from_bytes(&bytes, &Expect::graph("0".repeat(64))).unwrap_err();
    assert!(err.to_string().contains("digest"), "{err}");
}

#[test]
fn shape_and_layout_errors_are_caught() {
    let model = universal();
    // A tensor with the wrong shape.
    let mut bad = model.clone();
    let t = bad.tensors.get_mut(names::UNEMBED).expect("unembed");
    t.shape[0] -= 1;
    t.entries.retain(|(i, _)| i[0] < t.shape[0]);
    let err = bad.check_shapes().unwrap_err().to_string();
    assert!(err.contains("unembed.weight"), "{err}");
    // A missing tensor.
    let mut bad = model.clone();
    bad.tensors.remove(&names::layer(0, "ffn.out"));
    assert!(bad.check_shapes().is_err());
    // An extra tensor.
    let mut bad = model.clone();
    bad.tensors
        .insert("stray".into(), ExactTensor::zeros(vec![1]));
    assert!(
        bad.check_shapes()
            .unwrap_err()
            .to_string()
            .contains("stray")
    );
    // A running sum that names an FFN-less layer's neuron.
    let mut bad = model.clone();
    if let Some(rs) = bad.layout.running_sums.first_mut() {
        rs.neuron = u32::MAX;
    }
    assert!(bad.check_shapes().is_err());
    // The layout disagreeing with the file header.
    let mut file = model.to_file().expect("file");
    file.header.d_model += 1;
    assert!(Model::from_file(&file).is_err());
}
