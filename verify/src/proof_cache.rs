//! Verdicts kept between runs, by content digest (as Cranelift's ISLE
//! verifier caches per rule): a second `tvm verify` of an unchanged model
//! decides nothing again, and after one weight changes only the claims
//! that read it are decided again.
//!
//! Two kinds of key, both SHA-256 hex:
//! - a **claim**: its logic and SMT-LIB2 script. Only `unsat` (proven) is
//!   stored; a failing claim is always decided again, so its
//!   counterexample is fresh.
//! - a **lowering item**: the routine's code (and its callees') and a
//!   fingerprint of the verifier's own sources (`build.rs`), which fix its
//!   specification and lemmas. This skips the symbolic execution too;
//!   it is off when certificates are written, which need the scripts.
//!
//! Invariant: a key is in the store only if the claim (item) it names was
//! proven by a verifier built from the sources the key covers. The store is
//! one file, `proven-v1.txt` (sorted digests, one per line), rewritten
//! atomically with the union of what it held and what this run proved.
//! A cached verdict is trusted: the report's trusted base says how many
//! were used; `--no-cache` proves everything again.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tvm_weights::model_file::digest;

use crate::obligation::Smt;

/// The store's file name inside the cache directory.
pub const FILE: &str = "proven-v1.txt";

/// A proof cache over one directory.
pub struct ProofCache {
    path: PathBuf,
    known: Mutex<BTreeSet<String>>,
    items: bool,
    hits: AtomicU64,
    added: AtomicU64,
}

/// What a run took from and gave to the cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Verdicts taken from the cache.
    pub hits: u64,
    /// Verdicts this run added.
    pub added: u64,
}

static ACTIVE: RwLock<Option<Arc<ProofCache>>> = RwLock::new(None);

impl ProofCache {
    /// Opens (or starts) the cache in `dir`; `items` also caches whole
    /// lowering items (off when certificates are written).
    pub fn open(dir: &Path, items: bool) -> std::io::Result<ProofCache> {
        let path = dir.join(FILE);
        let known = match std::fs::read_to_string(&path) {
            Ok(text) => parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
            Err(e) => return Err(e),
        };
        Ok(ProofCache {
            path,
            known: Mutex::new(known),
            items,
            hits: AtomicU64::new(0),
            added: AtomicU64::new(0),
        })
    }

    /// Whether `key` was proven before (and counts a hit).
    pub fn holds(&self, key: &str) -> bool {
        let found = self.known.lock().is_ok_and(|k| k.contains(key));
        if found {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// Records that `key` is proven.
    pub fn record(&self, key: String) {
        if let Ok(mut k) = self.known.lock()
            && k.insert(key)
        {
            self.added.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether whole lowering items may be taken from the cache.
    pub fn caches_items(&self) -> bool {
        self.items
    }

    /// Hits and additions so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            added: self.added.load(Ordering::Relaxed),
        }
    }

    /// Writes the store: what the file holds now (another run may have
    /// added to it) and what this run knows, sorted, through a temporary
    /// file renamed into place.
    pub fn save(&self) -> std::io::Result<()> {
        let mut all = match std::fs::read_to_string(&self.path) {
            Ok(text) => parse(&text),
            Err(_) => BTreeSet::new(),
        };
        if let Ok(k) = self.known.lock() {
            all.extend(k.iter().cloned());
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut text = String::with_capacity(all.len() * 65);
        for key in &all {
            text.push_str(key);
            text.push('\n');
        }
        let temp = tempfile::NamedTempFile::new_in(dir)?;
        std::fs::write(temp.path(), text)?;
        temp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The digests in a store's text; anything that is not one is ignored (a
/// damaged store only loses entries).
fn parse(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect()
}

/// Makes `cache` the one every claim of this process consults (`None`:
/// none).
pub fn activate(cache: Option<Arc<ProofCache>>) {
    if let Ok(mut active) = ACTIVE.write() {
        *active = cache;
    }
}

/// The active cache, if any.
pub fn active() -> Option<Arc<ProofCache>> {
    ACTIVE.read().ok().and_then(|a| a.clone())
}

/// The key of an SMT claim.
pub fn claim_key(claim: &Smt) -> String {
    digest(format!("claim-v1\n{}\n{}", claim.logic, claim.script).as_bytes())
}

/// The key of a lowering item: its name, its code and the verifier's
/// sources.
pub fn lowering_key(name: &str, code: &str) -> String {
    digest(
        format!(
            "lowering-v1\n{}\n{name}\n{code}",
            env!("TVM_VERIFY_SOURCES")
        )
        .as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> String {
        digest(&[n])
    }

    #[test]
    fn a_saved_verdict_is_found_by_the_next_run_and_runs_merge() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = ProofCache::open(dir.path(), true).expect("opens");
        assert!(!first.holds(&key(1)));
        first.record(key(1));
        // A second run, started before the first saves, adds its own.
        let second = ProofCache::open(dir.path(), true).expect("opens");
        second.record(key(2));
        first.save().expect("saves");
        second.save().expect("saves");
        let third = ProofCache::open(dir.path(), false).expect("opens");
        assert!(third.holds(&key(1)) && third.holds(&key(2)) && !third.holds(&key(3)));
        assert_eq!(third.stats(), CacheStats { hits: 2, added: 0 });
        assert!(!third.caches_items());
    }

    #[test]
    fn a_damaged_store_loses_entries_not_the_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = key(7);
        let text = format!("garbage\n{}\n{good}\nzz{}\n", &good[..10], &good[2..]);
        std::fs::write(dir.path().join(FILE), text).expect("writes");
        let cache = ProofCache::open(dir.path(), true).expect("opens");
        assert!(cache.holds(&good));
        assert_eq!(
            parse(&std::fs::read_to_string(dir.path().join(FILE)).unwrap_or_default()).len(),
            1
        );
    }

    #[test]
    fn keys_depend_on_every_byte_of_the_claim() {
        let a = Smt {
            logic: "QF_LRA",
            script: "(declare-const x Real)\n(assert (> x 1))\n".into(),
        };
        let mut b = a.clone();
        b.script = b.script.replace('1', "2");
        let mut c = a.clone();
        c.logic = "QF_LIA";
        assert_ne!(claim_key(&a), claim_key(&b));
        assert_ne!(claim_key(&a), claim_key(&c));
        assert_eq!(claim_key(&a), claim_key(&a.clone()));
        assert_ne!(lowering_key("MUL", "x"), lowering_key("MUL", "y"));
    }
}
