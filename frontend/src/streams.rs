//! Standard output and standard error in the machine's one output stream.
//!
//! The machine has a single `OUTPUT` channel. tvm's libc frames standard
//! error inside it: the byte [`ESCAPE`] (0xFF) starts a two-byte code —
//! `FF 01` ([`TO_STDERR`]) switches the stream to stderr, `FF 00`
//! ([`TO_STDOUT`]) back to stdout, and `FF FF` is one literal 0xFF byte on
//! the current stream. The stream starts as stdout, and libc writes a switch
//! only when the stream changes, so a program that never writes to stderr
//! nor prints 0xFF produces exactly the bytes it prints. The trace carries
//! the framed bytes (each an `OUTPUT` step); [`split`] takes them apart.

/// Starts a two-byte code.
pub const ESCAPE: u8 = 0xff;
/// After [`ESCAPE`]: what follows goes to stdout.
pub const TO_STDOUT: u8 = 0x00;
/// After [`ESCAPE`]: what follows goes to stderr.
pub const TO_STDERR: u8 = 0x01;

/// A program's output, taken apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Streams {
    /// What it wrote to stdout.
    pub stdout: Vec<u8>,
    /// What it wrote to stderr.
    pub stderr: Vec<u8>,
}

/// Splits framed output into stdout and stderr. A code other than the three
/// (which tvm's libc never writes, but a hand-written program may) is kept
/// as its two bytes on the current stream, and an [`ESCAPE`] ending the
/// output (a run cut short) as one byte.
pub fn split(output: &[u8]) -> Streams {
    let mut streams = Streams::default();
    let mut to_stderr = false;
    let mut bytes = output.iter().copied();
    fn out(s: &mut Streams, to_stderr: bool) -> &mut Vec<u8> {
        if to_stderr {
            &mut s.stderr
        } else {
            &mut s.stdout
        }
    }
    while let Some(b) = bytes.next() {
        if b != ESCAPE {
            out(&mut streams, to_stderr).push(b);
            continue;
        }
        match bytes.next() {
            Some(TO_STDOUT) => to_stderr = false,
            Some(TO_STDERR) => to_stderr = true,
            Some(ESCAPE) => out(&mut streams, to_stderr).push(ESCAPE),
            Some(other) => out(&mut streams, to_stderr).extend([ESCAPE, other]),
            None => out(&mut streams, to_stderr).push(ESCAPE),
        }
    }
    streams
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Frames `parts` as tvm's libc does.
    fn frame(parts: &[(bool, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut to_stderr = false;
        for (err, bytes) in parts {
            if *err != to_stderr {
                out.extend([ESCAPE, if *err { TO_STDERR } else { TO_STDOUT }]);
                to_stderr = *err;
            }
            for &b in bytes {
                if b == ESCAPE {
                    out.push(ESCAPE);
                }
                out.push(b);
            }
        }
        out
    }

    #[test]
    fn plain_output_is_stdout_unchanged() {
        let s = split(b"hello\n");
        assert_eq!(s.stdout, b"hello\n");
        assert!(s.stderr.is_empty());
    }

    #[test]
    fn stray_codes_and_a_trailing_escape_stay_bytes() {
        let s = split(&[1, ESCAPE, 7, 2, ESCAPE]);
        assert_eq!(s.stdout, vec![1, ESCAPE, 7, 2, ESCAPE]);
    }

    proptest! {
        #[test]
        fn framing_round_trips(parts in prop::collection::vec(
            (any::<bool>(), prop::collection::vec(any::<u8>(), 0..20)), 0..10)
        ) {
            let s = split(&frame(&parts));
            let want = |err: bool| -> Vec<u8> {
                parts.iter().filter(|(e, _)| *e == err).flat_map(|(_, b)| b.clone()).collect()
            };
            prop_assert_eq!(s.stdout, want(false));
            prop_assert_eq!(s.stderr, want(true));
        }
    }
}
