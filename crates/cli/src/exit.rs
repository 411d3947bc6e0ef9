//! Exit codes, and turning an error into one line on stderr.

use std::io;
use std::process::ExitCode;

use crate::progress::Session;

/// What a command found, when it ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked is fit for fast import.
    Clean,
    /// The image, bitmap or request has errors; they were reported.
    Problems,
}

/// A command line that parsed but asks for something that cannot be done
/// (exit code 2, like clap's own usage errors).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The input itself is unfit (exit code 1), as opposed to a failure to read
/// or write it (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

const SUCCESS: u8 = 0;
const PROBLEMS: u8 = 1;
const USAGE: u8 = 2;
const FAILURE: u8 = 3;
const INTERRUPTED: u8 = 130;

/// Prints the error of a failed command and picks the exit code.
pub fn finish(result: anyhow::Result<Outcome>, session: &Session) -> ExitCode {
    match result {
        Ok(Outcome::Clean) => ExitCode::from(SUCCESS),
        Ok(Outcome::Problems) => ExitCode::from(PROBLEMS),
        Err(_) if session.cancelled() => {
            eprintln!("imsprep: interrupted; no partial output was left");
            ExitCode::from(INTERRUPTED)
        }
        Err(err) => {
            // One line: the context chain, outermost first.
            let chain: Vec<String> = err.chain().map(|cause| cause.to_string()).collect();
            eprintln!("imsprep: error: {}", dedup_chain(&chain).join(": "));
            ExitCode::from(classify(&err))
        }
    }
}

/// Drops a cause whose text the previous layer already quoted in full.
fn dedup_chain(chain: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(chain.len());
    for cause in chain {
        if out
            .last()
            .is_some_and(|prev| prev.ends_with(cause.as_str()))
        {
            continue;
        }
        out.push(cause.clone());
    }
    out
}

fn classify(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return USAGE;
        }
        if cause.is::<BadInput>() {
            return PROBLEMS;
        }
        match cause.downcast_ref::<imsprep_prepare::PrepareError>() {
            Some(imsprep_prepare::PrepareError::Usage(_)) => return USAGE,
            Some(imsprep_prepare::PrepareError::BadImage(_)) => return PROBLEMS,
            // The other kinds carry the library error they wrap as their
            // source, which the next turns of this loop look at.
            _ => {}
        }
        if let Some(scan) = cause.downcast_ref::<imsprep_scan::ScanError>() {
            // Another process writing the image is no fault of the image.
            if matches!(
                scan,
                imsprep_scan::ScanError::Locked { .. } | imsprep_scan::ScanError::Changed { .. }
            ) {
                return FAILURE;
            }
        }
        if let Some(imsprep_zvhd2::Error::SourceChanged { .. }) =
            cause.downcast_ref::<imsprep_zvhd2::Error>()
        {
            return FAILURE;
        }
        if let Some(disk) = cause.downcast_ref::<imsprep_disk::DiskError>() {
            return if disk.is_bad_image() {
                PROBLEMS
            } else {
                FAILURE
            };
        }
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            // A file that ends early or holds nonsense is a bad image, not a
            // failing disk.
            return match io.kind() {
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData => PROBLEMS,
                _ => FAILURE,
            };
        }
    }
    // What is left are the libraries' typed format errors: the input is unfit.
    PROBLEMS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_and_io_errors_get_their_codes() {
        let usage = anyhow::Error::new(UsageError("x".into())).context("ctx");
        assert_eq!(classify(&usage), USAGE);
        let denied = anyhow::Error::new(io::Error::from(io::ErrorKind::PermissionDenied));
        assert_eq!(classify(&denied), FAILURE);
        let short = anyhow::Error::new(io::Error::from(io::ErrorKind::UnexpectedEof));
        assert_eq!(classify(&short), PROBLEMS);
    }

    #[test]
    fn an_image_being_written_is_an_io_failure() {
        let locked = anyhow::Error::new(imsprep_scan::ScanError::Locked {
            path: "a.raw".into(),
        })
        .context("scanning a.raw");
        assert_eq!(classify(&locked), FAILURE);
        let not_a_file =
            anyhow::Error::new(imsprep_scan::ScanError::NotAFile { path: "dir".into() });
        assert_eq!(classify(&not_a_file), PROBLEMS);
    }

    #[test]
    fn repeated_causes_are_printed_once() {
        let chain = vec![
            "reading a: bad footer".to_string(),
            "bad footer".to_string(),
        ];
        assert_eq!(
            dedup_chain(&chain),
            vec!["reading a: bad footer".to_string()]
        );
    }
}
