//! Re-checking a certificate directory: the manifest, every file's hash,
//! no file missing or extra, every SMT file through cvc5 (in parallel,
//! with a time limit per file), every explanation through
//! [`crate::check_explanation`].

use crate::certificate::{Expect, is_path_word};
use crate::egg_file;
use crate::error::ProofsError;
use crate::explanation::{ExplanationError, check_explanation};
use crate::layout::{MANIFEST, egg_path, smt_path};
use crate::manifest::{FileEntry, Manifest, sha256_hex};
use crate::{smt_check, smt_file};
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The default time limit for one SMT file.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How to check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The cvc5 binary (default `cvc5`, looked up on `PATH`).
    pub cvc5: PathBuf,
    /// Files checked in parallel (default 2; 0 counts as 1).
    pub jobs: usize,
    /// The time limit for one SMT file; cvc5 is killed after it.
    pub timeout: Duration,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            cvc5: PathBuf::from("cvc5"),
            jobs: 2,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The outcome of [`check_dir`].
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// The directory checked.
    pub dir: PathBuf,
    /// The model digest the manifest records.
    pub model_digest: String,
    /// cvc5's version line, if an SMT file was checked.
    pub cvc5_version: Option<String>,
    /// One report per file, in manifest order, then files the manifest
    /// does not list.
    pub files: Vec<FileReport>,
    /// Wall-clock seconds for the whole check.
    pub seconds: f64,
}

impl CheckReport {
    /// Whether every file checked.
    pub fn ok(&self) -> bool {
        self.files.iter().all(|f| f.verdict.is_ok())
    }

    /// The files that failed.
    pub fn failed(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(|f| !f.verdict.is_ok())
    }

    /// Obligations in all files (as the manifest lists them).
    pub fn obligations(&self) -> usize {
        self.files.iter().map(|f| f.obligations).sum()
    }

    /// Obligations in the files that checked.
    pub fn obligations_ok(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.verdict.is_ok())
            .map(|f| f.obligations)
            .sum()
    }
}

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// SMT claims.
    Smt,
    /// E-graph explanations.
    Explanations,
    /// A file the manifest does not list.
    Unlisted,
}

/// The check of one file.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// Relative to the directory, `/`-separated.
    pub path: String,
    /// The certificates' kind (empty for an unlisted file).
    pub kind: String,
    /// The certificates' group (empty for an unlisted file).
    pub group: String,
    /// What it holds.
    pub format: FileFormat,
    /// How many obligations the manifest lists for it.
    pub obligations: usize,
    /// Whether it checked.
    pub verdict: Verdict,
    /// Seconds spent on it.
    pub seconds: f64,
}

/// Whether a file checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Every obligation in it re-checked.
    Ok,
    /// It did not; why.
    Failed {
        /// The reason.
        #[serde(flatten)]
        failure: Failure,
    },
}

impl Verdict {
    /// Whether it checked.
    pub fn is_ok(&self) -> bool {
        matches!(self, Verdict::Ok)
    }

    /// The failure, if any.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Verdict::Ok => None,
            Verdict::Failed { failure } => Some(failure),
        }
    }
}

/// Why a file failed its check.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "failure", rename_all = "snake_case")]
pub enum Failure {
    /// The manifest lists it, the directory does not have it.
    Missing,
    /// The directory has it, the manifest does not list it.
    Unlisted,
    /// Its bytes do not have the recorded SHA-256.
    HashMismatch {
        /// The manifest's.
        expected: String,
        /// The file's.
        actual: String,
    },
    /// Its manifest entry or its contents are malformed.
    Malformed {
        /// What is wrong.
        message: String,
    },
    /// cvc5 answered one claim otherwise than expected.
    WrongAnswer {
        /// The claim's name.
        obligation: String,
        /// The expected answer.
        expected: Expect,
        /// cvc5's answer.
        actual: String,
    },
    /// cvc5 stopped with an error (at `obligation`, if before the end).
    Cvc5Error {
        /// The first claim left unanswered, if any.
        obligation: Option<String>,
        /// cvc5's output.
        message: String,
    },
    /// cvc5 was killed at the time limit.
    Timeout {
        /// The first claim left unanswered.
        obligation: Option<String>,
        /// The limit in seconds.
        seconds: f64,
    },
    /// An explanation does not re-check.
    Explanation {
        /// The explanation's name.
        name: String,
        /// Why.
        #[serde(serialize_with = "as_text")]
        error: ExplanationError,
    },
}

fn as_text<S: serde::Serializer>(e: &ExplanationError, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(e)
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Missing => {
                f.write_str("missing: listed in MANIFEST.json but not in the directory")
            }
            Failure::Unlisted => f.write_str("stray file: not listed in MANIFEST.json"),
            Failure::HashMismatch { expected, actual } => {
                write!(
                    f,
                    "SHA-256 mismatch: MANIFEST.json says {expected}, the file is {actual}"
                )
            }
            Failure::Malformed { message } => write!(f, "malformed: {message}"),
            Failure::WrongAnswer {
                obligation,
                expected,
                actual,
            } => write!(
                f,
                "`{obligation}`: cvc5 answered {actual}, expected {expected}"
            ),
            Failure::Cvc5Error {
                obligation: Some(o),
                message,
            } => write!(f, "cvc5 stopped at `{o}`: {message}"),
            Failure::Cvc5Error {
                obligation: None,
                message,
            } => write!(f, "cvc5 failed: {message}"),
            Failure::Timeout {
                obligation,
                seconds,
            } => {
                write!(f, "cvc5 timed out after {seconds} s")?;
                match obligation {
                    Some(o) => write!(f, " at `{o}`"),
                    None => Ok(()),
                }
            }
            Failure::Explanation { name, error } => write!(f, "explanation `{name}`: {error}"),
        }
    }
}

/// Re-checks the certificate directory `dir`.
pub fn check_dir(dir: &Path, options: &CheckOptions) -> Result<CheckReport, ProofsError> {
    check_dir_with(dir, options, &|_, _, _| {})
}

/// [`check_dir`], calling `progress(report, done, total)` as each file
/// finishes (from worker threads, one call at a time).
pub fn check_dir_with(
    dir: &Path,
    options: &CheckOptions,
    progress: &(dyn Fn(&FileReport, usize, usize) + Sync),
) -> Result<CheckReport, ProofsError> {
    let start = Instant::now();
    let manifest_path = dir.join(MANIFEST);
    if !dir.is_dir() {
        return Err(ProofsError::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        ));
    }
    let text = match std::fs::read(&manifest_path) {
        Ok(bytes) => {
            String::from_utf8(bytes).map_err(|_| ProofsError::Manifest("not UTF-8".to_owned()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ProofsError::NoManifest {
                dir: dir.to_path_buf(),
            });
        }
        Err(e) => return Err(ProofsError::io(manifest_path, e)),
    };
    let manifest = Manifest::from_text(&text)?;
    let listed: HashSet<&str> = manifest.files.iter().map(FileEntry::path).collect();
    let problems = entry_problems(&manifest);
    let cvc5_version = if manifest
        .files
        .iter()
        .any(|f| matches!(f, FileEntry::Smt { .. }))
    {
        Some(smt_check::version(&options.cvc5)?)
    } else {
        None
    };
    let unlisted: Vec<String> = files_under(dir)?
        .into_iter()
        .filter(|p| p != MANIFEST && !listed.contains(p.as_str()))
        .collect();

    let total = manifest.files.len() + unlisted.len();
    let done = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<FileReport>>> = Mutex::new(vec![None; manifest.files.len()]);
    let report_lock = Mutex::new(());
    let finish = |report: &FileReport| {
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = report_lock.lock();
        progress(report, n, total);
    };
    let jobs = options.jobs.clamp(1, manifest.files.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(entry) = manifest.files.get(i) else {
                        break;
                    };
                    let report = check_file(dir, entry, problems[i].as_deref(), options);
                    finish(&report);
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(report);
                    }
                }
            });
        }
    });
    let mut files: Vec<FileReport> = slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    for path in unlisted {
        let report = FileReport {
            path,
            kind: String::new(),
            group: String::new(),
            format: FileFormat::Unlisted,
            obligations: 0,
            verdict: Verdict::Failed {
                failure: Failure::Unlisted,
            },
            seconds: 0.0,
        };
        finish(&report);
        files.push(report);
    }
    Ok(CheckReport {
        dir: dir.to_path_buf(),
        model_digest: manifest.model_digest,
        cvc5_version,
        files,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Problems of each manifest entry visible without reading the file: a
/// path that is not where its kind and group go, a path listed twice, a
/// name used twice within a kind.
fn entry_problems(manifest: &Manifest) -> Vec<Option<String>> {
    let mut paths = HashSet::new();
    let mut names: HashSet<(&str, &str)> = HashSet::new();
    manifest
        .files
        .iter()
        .map(|entry| {
            let (kind, group) = (entry.kind(), entry.group());
            if !is_path_word(kind) || !is_path_word(group) {
                return Some(format!(
                    "kind `{kind}` or group `{group}` is not a plain word"
                ));
            }
            let path_ok = match entry {
                FileEntry::Smt { path, logic, .. } => {
                    is_path_word(logic)
                        && (*path == smt_path(kind, group, None)
                            || *path == smt_path(kind, group, Some(logic)))
                }
                FileEntry::Explanations { path, .. } => *path == egg_path(kind, group),
            };
            if !path_ok {
                return Some(format!(
                    "path `{}` is not where kind `{kind}`, group `{group}` goes",
                    entry.path()
                ));
            }
            if !paths.insert(entry.path()) {
                return Some("listed twice in MANIFEST.json".to_owned());
            }
            for name in entry.names() {
                if !names.insert((kind, name)) {
                    return Some(format!("the name `{name}` appears twice in kind {kind}"));
                }
            }
            None
        })
        .collect()
}

/// Every file under `dir`, relative and `/`-separated, sorted. Symbolic
/// links are listed, never followed.
fn files_under(dir: &Path) -> Result<Vec<String>, ProofsError> {
    let mut out = BTreeSet::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, rel)) = pending.pop() {
        let entries = std::fs::read_dir(&path).map_err(|e| ProofsError::io(&path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| ProofsError::io(&path, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let file_type = entry
                .file_type()
                .map_err(|e| ProofsError::io(entry.path(), e))?;
            if file_type.is_dir() {
                pending.push((entry.path(), child));
            } else {
                out.insert(child);
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Checks one listed file.
fn check_file(
    dir: &Path,
    entry: &FileEntry,
    problem: Option<&str>,
    options: &CheckOptions,
) -> FileReport {
    let start = Instant::now();
    let failure = match problem {
        Some(message) => Some(Failure::Malformed {
            message: message.to_owned(),
        }),
        None => check_contents(dir, entry, options).err(),
    };
    FileReport {
        path: entry.path().to_owned(),
        kind: entry.kind().to_owned(),
        group: entry.group().to_owned(),
        format: match entry {
            FileEntry::Smt { .. } => FileFormat::Smt,
            FileEntry::Explanations { .. } => FileFormat::Explanations,
        },
        obligations: entry.names().len(),
        verdict: match failure {
            None => Verdict::Ok,
            Some(failure) => Verdict::Failed { failure },
        },
        seconds: start.elapsed().as_secs_f64(),
    }
}

fn malformed(message: impl Into<String>) -> Failure {
    Failure::Malformed {
        message: message.into(),
    }
}

/// Reads a listed file, checks its hash and re-checks its contents.
fn check_contents(dir: &Path, entry: &FileEntry, options: &CheckOptions) -> Result<(), Failure> {
    let path = dir.join(entry.path());
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Err(malformed("not a regular file")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Failure::Missing),
        Err(e) => return Err(malformed(format!("cannot read it: {e}"))),
    }
    let bytes = std::fs::read(&path).map_err(|e| malformed(format!("cannot read it: {e}")))?;
    let actual = sha256_hex(&bytes);
    if actual != entry.sha256() {
        return Err(Failure::HashMismatch {
            expected: entry.sha256().to_owned(),
            actual,
        });
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed("not UTF-8"))?;
    let names = entry.names();
    match entry {
        FileEntry::Smt {
            logic, obligations, ..
        } => {
            let found = smt_file::block_names(text, logic).map_err(malformed)?;
            same_names(&found, &names)?;
            let run = smt_check::run(&options.cvc5, &bytes, options.timeout).map_err(|e| {
                Failure::Cvc5Error {
                    obligation: None,
                    message: format!("cannot run cvc5: {e}"),
                }
            })?;
            for (i, o) in obligations.iter().enumerate() {
                match run.answers.get(i) {
                    Some(a) if a == o.expect.as_str() => {}
                    Some(a) => {
                        return Err(Failure::WrongAnswer {
                            obligation: o.name.clone(),
                            expected: o.expect,
                            actual: a.clone(),
                        });
                    }
                    None if run.timed_out => {
                        return Err(Failure::Timeout {
                            obligation: Some(o.name.clone()),
                            seconds: options.timeout.as_secs_f64(),
                        });
                    }
                    None => {
                        return Err(Failure::Cvc5Error {
                            obligation: Some(o.name.clone()),
                            message: if run.error.is_empty() {
                                "no answer".to_owned()
                            } else {
                                run.error
                            },
                        });
                    }
                }
            }
            if run.answers.len() > obligations.len() {
                return Err(Failure::Cvc5Error {
                    obligation: None,
                    message: format!(
                        "{} answers for {} claims",
                        run.answers.len(),
                        obligations.len()
                    ),
                });
            }
            if run.timed_out {
                return Err(Failure::Timeout {
                    obligation: None,
                    seconds: options.timeout.as_secs_f64(),
                });
            }
            if !run.success || !run.error.is_empty() {
                return Err(Failure::Cvc5Error {
                    obligation: None,
                    message: if run.error.is_empty() {
                        "cvc5 exited with an error status".to_owned()
                    } else {
                        run.error
                    },
                });
            }
            Ok(())
        }
        FileEntry::Explanations { .. } => {
            let entries = egg_file::parse(text).map_err(malformed)?;
            let found: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
            same_names(&found, &names)?;
            for e in &entries {
                check_explanation(&e.lhs, &e.rhs, &e.steps).map_err(|error| {
                    Failure::Explanation {
                        name: e.name.clone(),
                        error,
                    }
                })?;
            }
            Ok(())
        }
    }
}

/// The file's certificate names must be the manifest's, in order.
fn same_names(found: &[String], listed: &[&str]) -> Result<(), Failure> {
    if found.len() != listed.len() {
        return Err(malformed(format!(
            "the file holds {} certificates, MANIFEST.json lists {}",
            found.len(),
            listed.len()
        )));
    }
    for (f, l) in found.iter().zip(listed) {
        if f != l {
            return Err(malformed(format!(
                "the file holds `{f}` where MANIFEST.json lists `{l}`"
            )));
        }
    }
    Ok(())
}
