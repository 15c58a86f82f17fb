//! Writing a certificate directory, deterministically and atomically.

use crate::certificate::{Body, Certificate, is_path_word, name_problem};
use crate::egg_file::{self, Entry};
use crate::error::ProofsError;
use crate::layout::{MANIFEST, egg_path, smt_path};
use crate::manifest::{FORMAT, FileEntry, Manifest, Obligation, VERSION, sha256_hex};
use crate::{smt_file, smtlib};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What [`write_dir`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteSummary {
    /// Certificate files (besides `MANIFEST.json`).
    pub files: usize,
    /// SMT claims.
    pub smt_claims: usize,
    /// E-graph explanations.
    pub explanations: usize,
    /// Total bytes, `MANIFEST.json` included.
    pub bytes: u64,
}

/// Writes `certs` as the certificate directory `dir`: `MANIFEST.json`, one
/// `smt/<kind>/<group>.smt2` per kind and group of SMT claims (split as
/// `<group>.<logic>.smt2` when the group mixes logics) and one
/// `egg/<kind>/<group>.txt` per kind and group of explanations.
///
/// The same certificates, in any order, give a byte-identical directory.
/// The directory is built beside `dir` and renamed into place when
/// complete; an existing `dir` is replaced only if it is empty or holds a
/// `MANIFEST.json`.
pub fn write_dir(
    dir: &Path,
    model_digest: &str,
    certs: &[Certificate],
) -> Result<WriteSummary, ProofsError> {
    let (files, manifest, summary) = render(model_digest, certs)?;
    let mut summary = summary;
    let manifest_text = manifest.to_text();
    summary.bytes =
        files.iter().map(|(_, t)| t.len() as u64).sum::<u64>() + manifest_text.len() as u64;
    install(dir, &files, &manifest_text)?;
    Ok(summary)
}

type Rendered = (Vec<(String, String)>, Manifest, WriteSummary);

/// Every file's path and text, sorted by path, and the manifest.
fn render(model_digest: &str, certs: &[Certificate]) -> Result<Rendered, ProofsError> {
    let invalid = |c: &Certificate, reason: String| ProofsError::InvalidCertificate {
        kind: c.kind.clone(),
        name: c.name.clone(),
        reason,
    };
    let mut seen = BTreeSet::new();
    // (kind, group) → SMT claims by logic, and explanations; both by name.
    type SmtByLogic<'a> = BTreeMap<&'a str, BTreeMap<&'a str, &'a Certificate>>;
    let mut smt: BTreeMap<(&str, &str), SmtByLogic<'_>> = BTreeMap::new();
    let mut egg: BTreeMap<(&str, &str), BTreeMap<&str, &Certificate>> = BTreeMap::new();
    for c in certs {
        if !is_path_word(&c.kind) {
            return Err(invalid(
                c,
                "the kind must be letters, digits, `_` or `-`".into(),
            ));
        }
        if !is_path_word(&c.group) {
            return Err(invalid(
                c,
                format!("group `{}`: must be letters, digits, `_` or `-`", c.group),
            ));
        }
        if let Some(problem) = name_problem(&c.name) {
            return Err(invalid(c, format!("the name {problem}")));
        }
        if !seen.insert((c.kind.as_str(), c.name.as_str())) {
            return Err(ProofsError::DuplicateName {
                kind: c.kind.clone(),
                name: c.name.clone(),
            });
        }
        let key = (c.kind.as_str(), c.group.as_str());
        match &c.body {
            Body::Smt { logic, script, .. } => {
                if !is_path_word(logic) {
                    return Err(invalid(
                        c,
                        format!("logic `{logic}`: must be letters, digits, `_` or `-`"),
                    ));
                }
                smtlib::validate_script(script).map_err(|e| invalid(c, format!("script: {e}")))?;
                smt.entry(key)
                    .or_default()
                    .entry(logic.as_str())
                    .or_default()
                    .insert(c.name.as_str(), c);
            }
            Body::Explanation { lhs, rhs, steps } => {
                if lhs.trim().is_empty()
                    || rhs.trim().is_empty()
                    || steps.iter().any(|s| s.trim().is_empty())
                {
                    return Err(invalid(c, "an empty term".into()));
                }
                egg.entry(key).or_default().insert(c.name.as_str(), c);
            }
        }
    }
    let mut files: Vec<(String, String)> = Vec::new();
    let mut entries: Vec<FileEntry> = Vec::new();
    let mut summary = WriteSummary {
        files: 0,
        smt_claims: 0,
        explanations: 0,
        bytes: 0,
    };
    for ((kind, group), by_logic) in &smt {
        let split = by_logic.len() > 1;
        for (logic, claims) in by_logic {
            let path = smt_path(kind, group, split.then_some(*logic));
            let mut blocks = Vec::new();
            let mut obligations = Vec::new();
            for (name, c) in claims {
                if let Body::Smt { script, expect, .. } = &c.body {
                    blocks.push((*name, script.as_str()));
                    obligations.push(Obligation {
                        name: (*name).to_owned(),
                        expect: *expect,
                    });
                }
            }
            let text = smt_file::render(kind, group, logic, &blocks);
            summary.smt_claims += obligations.len();
            entries.push(FileEntry::Smt {
                path: path.clone(),
                kind: (*kind).to_owned(),
                group: (*group).to_owned(),
                logic: (*logic).to_owned(),
                sha256: sha256_hex(text.as_bytes()),
                obligations,
            });
            files.push((path, text));
        }
    }
    for ((kind, group), explanations) in &egg {
        let path = egg_path(kind, group);
        let list: Vec<Entry> = explanations
            .iter()
            .filter_map(|(name, c)| match &c.body {
                Body::Explanation { lhs, rhs, steps } => Some(Entry {
                    name: (*name).to_owned(),
                    lhs: lhs.clone(),
                    rhs: rhs.clone(),
                    steps: steps.clone(),
                }),
                Body::Smt { .. } => None,
            })
            .collect();
        let text = egg_file::render(kind, group, &list);
        summary.explanations += list.len();
        entries.push(FileEntry::Explanations {
            path: path.clone(),
            kind: (*kind).to_owned(),
            group: (*group).to_owned(),
            sha256: sha256_hex(text.as_bytes()),
            names: list.into_iter().map(|e| e.name).collect(),
        });
        files.push((path, text));
    }
    files.sort();
    entries.sort_by(|a, b| a.path().cmp(b.path()));
    summary.files = files.len();
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: VERSION,
        model_digest: model_digest.to_owned(),
        files: entries,
    };
    Ok((files, manifest, summary))
}

/// Writes the files into a fresh directory beside `dir`, then renames it
/// over `dir`.
fn install(dir: &Path, files: &[(String, String)], manifest: &str) -> Result<(), ProofsError> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            ProofsError::io(
                dir,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the path has no directory name",
                ),
            )
        })?;
    if dir.exists() {
        let replaceable = dir.join(MANIFEST).is_file()
            || fs::read_dir(dir)
                .map_err(|e| ProofsError::io(dir, e))?
                .next()
                .is_none();
        if !replaceable {
            return Err(ProofsError::NotACertificateDir {
                path: dir.to_path_buf(),
            });
        }
    }
    fs::create_dir_all(&parent).map_err(|e| ProofsError::io(&parent, e))?;
    let unique = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let tmp = parent.join(format!(".{base}.tmp-{unique}"));
    let filled = fill(&tmp, files, manifest);
    if let Err(e) = filled {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dir.exists() {
        let old = parent.join(format!(".{base}.old-{unique}"));
        if let Err(e) = fs::rename(dir, &old) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(ProofsError::io(dir, e));
        }
        if let Err(e) = fs::rename(&tmp, dir) {
            // Put the old directory back.
            let _ = fs::rename(&old, dir);
            let _ = fs::remove_dir_all(&tmp);
            return Err(ProofsError::io(dir, e));
        }
        fs::remove_dir_all(&old).map_err(|e| ProofsError::io(&old, e))?;
    } else if let Err(e) = fs::rename(&tmp, dir) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(ProofsError::io(dir, e));
    }
    Ok(())
}

/// Writes every file and the manifest under `root` (created here).
fn fill(root: &Path, files: &[(String, String)], manifest: &str) -> Result<(), ProofsError> {
    fs::create_dir(root).map_err(|e| ProofsError::io(root, e))?;
    let write = |path: &Path, text: &str| -> Result<(), ProofsError> {
        if let Some(p) = path.parent() {
            fs::create_dir_all(p).map_err(|e| ProofsError::io(p, e))?;
        }
        let mut file = fs::File::create(path).map_err(|e| ProofsError::io(path, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| ProofsError::io(path, e))
    };
    for (rel, text) in files {
        write(&root.join(rel), text)?;
    }
    write(&root.join(MANIFEST), manifest)
}
