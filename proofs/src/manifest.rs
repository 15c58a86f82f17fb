//! `MANIFEST.json`: what a certificate directory holds, file by file, with
//! each file's SHA-256 and the obligations it holds in order.

use crate::certificate::Expect;
use crate::error::ProofsError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `format` field of every manifest.
pub const FORMAT: &str = "tvm-certificates";
/// The manifest version this crate writes and reads.
pub const VERSION: u32 = 1;

/// The manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The digest of the model the certificates are about.
    pub model_digest: String,
    /// Every certificate file, sorted by path.
    pub files: Vec<FileEntry>,
}

/// One certificate file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FileEntry {
    /// SMT claims, checked by cvc5.
    Smt {
        /// Relative to the directory, `/`-separated.
        path: String,
        /// The certificates' kind.
        kind: String,
        /// The certificates' group.
        group: String,
        /// The file's `set-logic`.
        logic: String,
        /// Lower-case hex SHA-256 of the file's bytes.
        sha256: String,
        /// The claims in file order.
        obligations: Vec<Obligation>,
    },
    /// E-graph explanations, checked by [`crate::check_explanation`].
    Explanations {
        /// Relative to the directory, `/`-separated.
        path: String,
        /// The certificates' kind.
        kind: String,
        /// The certificates' group.
        group: String,
        /// Lower-case hex SHA-256 of the file's bytes.
        sha256: String,
        /// The explanations' names in file order.
        names: Vec<String>,
    },
}

/// One SMT claim of a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Obligation {
    /// The certificate's name.
    pub name: String,
    /// The answer that makes it hold.
    pub expect: Expect,
}

impl FileEntry {
    /// The file's path.
    pub fn path(&self) -> &str {
        match self {
            FileEntry::Smt { path, .. } | FileEntry::Explanations { path, .. } => path,
        }
    }

    /// The certificates' kind.
    pub fn kind(&self) -> &str {
        match self {
            FileEntry::Smt { kind, .. } | FileEntry::Explanations { kind, .. } => kind,
        }
    }

    /// The certificates' group.
    pub fn group(&self) -> &str {
        match self {
            FileEntry::Smt { group, .. } | FileEntry::Explanations { group, .. } => group,
        }
    }

    /// The recorded SHA-256.
    pub fn sha256(&self) -> &str {
        match self {
            FileEntry::Smt { sha256, .. } | FileEntry::Explanations { sha256, .. } => sha256,
        }
    }

    /// The certificates' names in file order.
    pub fn names(&self) -> Vec<&str> {
        match self {
            FileEntry::Smt { obligations, .. } => {
                obligations.iter().map(|o| o.name.as_str()).collect()
            }
            FileEntry::Explanations { names, .. } => names.iter().map(String::as_str).collect(),
        }
    }
}

impl Manifest {
    /// The manifest's text: pretty JSON and a final newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a manifest, telling a wrong format or version apart from
    /// malformed JSON.
    pub fn from_text(text: &str) -> Result<Manifest, ProofsError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| ProofsError::Manifest(format!("not JSON: {e}")))?;
        let format = value.get("format").and_then(|f| f.as_str());
        if format != Some(FORMAT) {
            return Err(ProofsError::Manifest(format!(
                "format is {}, expected \"{FORMAT}\"",
                value
                    .get("format")
                    .map_or_else(|| "missing".to_owned(), |f| f.to_string())
            )));
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => {
                return Err(ProofsError::Manifest(format!(
                    "version {v} is not supported (this checker reads version {VERSION})"
                )));
            }
            None => return Err(ProofsError::Manifest("no version".to_owned())),
        }
        serde_json::from_value(value).map_err(|e| ProofsError::Manifest(e.to_string()))
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn round_trip_and_rejections() {
        let m = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            model_digest: "d".into(),
            files: vec![
                FileEntry::Smt {
                    path: "smt/a/b.smt2".into(),
                    kind: "a".into(),
                    group: "b".into(),
                    logic: "QF_LRA".into(),
                    sha256: "00".into(),
                    obligations: vec![Obligation {
                        name: "n".into(),
                        expect: Expect::Unsat,
                    }],
                },
                FileEntry::Explanations {
                    path: "egg/a/b.txt".into(),
                    kind: "a".into(),
                    group: "b".into(),
                    sha256: "00".into(),
                    names: vec!["m".into()],
                },
            ],
        };
        let text = m.to_text();
        assert!(text.contains("\"type\": \"smt\""));
        assert_eq!(Manifest::from_text(&text).unwrap(), m);
        let v2 = text.replace("\"version\": 1", "\"version\": 2");
        assert!(
            Manifest::from_text(&v2)
                .unwrap_err()
                .to_string()
                .contains("version 2")
        );
        let extra = text.replace("\"model_digest\"", "\"extra\": 1, \"model_digest\"");
        assert!(Manifest::from_text(&extra).is_err());
        let bad_expect = text.replace("\"unsat\"", "\"maybe\"");
        assert!(Manifest::from_text(&bad_expect).is_err());
        assert!(Manifest::from_text("{").is_err());
    }
}
