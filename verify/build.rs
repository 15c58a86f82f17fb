//! Fingerprints the verifier's own sources, so a verdict cached by an
//! earlier run (see `proof_cache`) is reused only by a verifier built from
//! the same code.

use std::path::{Path, PathBuf};

fn add_dir(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            add_dir(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    add_dir(&root.join("src"), &mut files);
    println!("cargo:rerun-if-changed=src");
    files.sort();
    // FNV-1a over names and contents: a cache key, not a security digest.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in &files {
        let name = file
            .strip_prefix(root)
            .unwrap_or(file)
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(file).unwrap_or_default();
        for b in name.bytes().chain(bytes) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=TVM_VERIFY_SOURCES={hash:016x}");
}
