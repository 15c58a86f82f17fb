//! Writing output files so that a failure never leaves a half-written file:
//! write a temporary file beside the target, then rename it into place.

use anyhow::Context as _;
use std::fs::File;
use std::path::Path;

/// Writes `bytes` to `path` atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_with(path, |file| {
        use std::io::Write as _;
        file.write_all(bytes)
    })
    .with_context(|| format!("writing {}", path.display()))
}

/// Creates a temporary file beside `path`, lets `fill` write it, and renames
/// it to `path` only if `fill` succeeds.
pub fn write_with<T>(
    path: &Path,
    fill: impl FnOnce(&mut File) -> std::io::Result<T>,
) -> anyhow::Result<T> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .context("the output path has no file name")?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = File::create(&tmp).and_then(|mut file| {
        let value = fill(&mut file)?;
        file.sync_all()?;
        Ok(value)
    });
    match result {
        Ok(value) => {
            std::fs::rename(&tmp, path)?;
            Ok(value)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e.into())
        }
    }
}
