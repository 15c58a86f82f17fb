//! Errors that stop writing or checking a whole directory. A certificate
//! that fails its check is not an error: it is a [`crate::Failure`] in the
//! report.

use std::path::PathBuf;

/// What went wrong with a certificate directory as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ProofsError {
    /// Reading or writing a file failed.
    #[error("{}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A certificate cannot be written as given.
    #[error("certificate {kind}/{name}: {reason}")]
    InvalidCertificate {
        /// Its kind.
        kind: String,
        /// Its name.
        name: String,
        /// Why not.
        reason: String,
    },
    /// Two certificates of one kind share a name.
    #[error("two certificates of kind {kind} are named `{name}`")]
    DuplicateName {
        /// The kind.
        kind: String,
        /// The name.
        name: String,
    },
    /// `write_dir` refuses to replace something that is not a certificate
    /// directory.
    #[error(
        "{}: exists and is not a certificate directory (no MANIFEST.json); refusing to replace it",
        path.display()
    )]
    NotACertificateDir {
        /// The directory.
        path: PathBuf,
    },
    /// `MANIFEST.json` is missing.
    #[error("{}: no MANIFEST.json: not a certificate directory", dir.display())]
    NoManifest {
        /// The directory.
        dir: PathBuf,
    },
    /// `MANIFEST.json` is not a manifest this checker reads.
    #[error("MANIFEST.json: {0}")]
    Manifest(String),
    /// The cvc5 binary is not there.
    #[error(
        "cvc5 not found (`{}`): install the Debian package `cvc5` (`apt-get install cvc5`) or name the binary with --cvc5 PATH",
        path.display()
    )]
    Cvc5Missing {
        /// The binary asked for.
        path: PathBuf,
    },
    /// The cvc5 binary could not be run.
    #[error("cannot run cvc5 (`{}`): {message}", path.display())]
    Cvc5 {
        /// The binary.
        path: PathBuf,
        /// Why not.
        message: String,
    },
}

impl ProofsError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ProofsError::Io {
            path: path.into(),
            source,
        }
    }
}
