//! Running the `cvc5` binary on one SMT certificate file: the file's bytes
//! go to its stdin (the very bytes whose hash was checked), its answers
//! come back one line per `(check-sat)`, and a run longer than the time
//! limit is killed.

use crate::error::ProofsError;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// What one cvc5 run said.
#[derive(Debug)]
pub(crate) struct Run {
    /// `sat`, `unsat` or `unknown`, one per `(check-sat)` answered.
    pub answers: Vec<String>,
    /// Anything else cvc5 printed (an `(error …)`, stderr), after the
    /// answers; empty if nothing.
    pub error: String,
    /// Whether it was killed at the time limit.
    pub timed_out: bool,
    /// Whether it exited with status 0.
    pub success: bool,
}

/// The arguments: SMT-LIB2 from stdin, several `check-sat`s with
/// `push`/`pop` (cvc5 1.0.3 refuses `push` without `--incremental`), and
/// bit-vectors bit-blasted eagerly: with the default lazy bit-blasting,
/// cvc5 1.0.3 does not decide in 300 s the lowering claims (AND's
/// bit-by-bit rebuild of `bvand`) that it decides eagerly in 0.1 s. The
/// option is given for files in `QF_BV` only: cvc5 refuses it elsewhere.
const ARGS: [&str; 4] = ["--lang", "smt2", "--incremental", "-"];

/// Added for a `QF_BV` file (see [`ARGS`]).
const BV_ARGS: [&str; 1] = ["--bitblast=eager"];

/// cvc5's version line, or why it cannot be run.
pub(crate) fn version(cvc5: &Path) -> Result<String, ProofsError> {
    let out = Command::new(cvc5)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ProofsError::Cvc5Missing {
                path: cvc5.to_path_buf(),
            },
            _ => ProofsError::Cvc5 {
                path: cvc5.to_path_buf(),
                message: e.to_string(),
            },
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next().unwrap_or("").trim();
    // `This is cvc5 version 1.0.3` → `cvc5 version 1.0.3`.
    let line = line.strip_prefix("This is ").unwrap_or(line).to_owned();
    if !out.status.success() || !line.contains("cvc5") {
        return Err(ProofsError::Cvc5 {
            path: cvc5.to_path_buf(),
            message: format!("`--version` printed `{line}` (status {})", out.status),
        });
    }
    Ok(line)
}

/// Runs cvc5 on `input`, killing it after `timeout`.
pub(crate) fn run(cvc5: &Path, input: &[u8], timeout: Duration) -> std::io::Result<Run> {
    let bit_vectors = input
        .split(|&b| b == b'\n')
        .any(|line| line.trim_ascii() == b"(set-logic QF_BV)");
    let extra: &[&str] = if bit_vectors { &BV_ARGS } else { &[] };
    let mut child = Command::new(cvc5)
        .args(extra)
        .args(ARGS)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(std::io::Error::other("cvc5's pipes are missing"));
    };
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let result = std::thread::scope(|scope| {
        // A broken pipe (cvc5 stopped at an error) is not our error.
        scope.spawn(move || {
            let _ = stdin.write_all(input);
        });
        let out = scope.spawn(move || {
            let mut buf = Vec::new();
            let _ = stdout.read_to_end(&mut buf);
            let _ = done_tx.send(());
            buf
        });
        let err = scope.spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            buf
        });
        // stdout closes when cvc5 exits (or is killed).
        let timed_out = matches!(
            done_rx.recv_timeout(timeout),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        if timed_out {
            let _ = child.kill();
        }
        let status = child.wait();
        let out = out.join().unwrap_or_default();
        let err = err.join().unwrap_or_default();
        status.map(|status| (out, err, timed_out, status.success()))
    });
    let (out, err, timed_out, success) = result?;
    let (answers, mut error) = split_answers(&String::from_utf8_lossy(&out));
    let err = String::from_utf8_lossy(&err);
    if !err.trim().is_empty() {
        if !error.is_empty() {
            error.push('\n');
        }
        error.push_str(err.trim());
    }
    Ok(Run {
        answers,
        error,
        timed_out,
        success,
    })
}

/// The leading answer lines of cvc5's output, and the rest.
fn split_answers(out: &str) -> (Vec<String>, String) {
    let mut answers = Vec::new();
    let mut lines = out.lines();
    let mut rest = Vec::new();
    for line in lines.by_ref() {
        match line.trim() {
            "" => {}
            a @ ("sat" | "unsat" | "unknown") => answers.push(a.to_owned()),
            other => {
                rest.push(other);
                break;
            }
        }
    }
    rest.extend(lines);
    (answers, rest.join("\n").trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_then_the_rest() {
        let (a, rest) = split_answers("unsat\nsat\n(error \"x\n y\")\nunsat\n");
        assert_eq!(a, ["unsat", "sat"]);
        assert_eq!(rest, "(error \"x\n y\")\nunsat");
        let (a, rest) = split_answers("");
        assert!(a.is_empty() && rest.is_empty());
    }
}
