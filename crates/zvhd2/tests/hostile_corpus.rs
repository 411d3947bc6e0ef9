//! Runs every ZVHD2 case of the hostile corpus (fixtures/hostile, made by
//! make.py there) and asserts the error or verifier problem it must give.

#[path = "../../../fixtures/hostile/cases.rs"]
mod cases;

use std::path::Path;

use cases::{checks, corpus};
use imsprep_zvhd2::{verify, Control, Error, Reader, VerifyOptions};
use serde_json::Value;

/// The variant name of a value's Debug form (`BadCookie { .. }` → `BadCookie`).
fn variant(debug: &str) -> &str {
    debug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or("")
}

/// Checks an outcome against the expected one; a mismatch is described.
fn expect_error(file: &str, check: &Value, got: Result<(), Error>) -> Result<(), String> {
    let want = check["error"].as_str();
    let message = check["message"].as_str().unwrap_or("");
    match (got, want) {
        (Ok(()), None) => Ok(()),
        (Ok(()), Some(want)) => Err(format!("{file}: succeeded, expected {want}")),
        (Err(e), None) => Err(format!("{file}: {check}: unexpected error {e}")),
        (Err(e), Some(want)) => {
            let debug = format!("{e:?}");
            if variant(&debug) != want || !e.to_string().contains(message) {
                return Err(format!(
                    "{file}: got {e:?} ({e}), expected {want} saying {message:?}"
                ));
            }
            Ok(())
        }
    }
}

fn read_block(path: &Path, block: u32) -> Result<(), Error> {
    let r = Reader::open(path)?;
    let mut buf = vec![0u8; r.footer().block_size as usize];
    r.read_block(block, &mut buf)
}

/// Runs one check; a mismatch is described.
fn run(file: &str, check: &Value) -> Result<(), String> {
    let path = corpus().join(file);
    match check["api"].as_str().unwrap_or("") {
        "zvhd2.open" => expect_error(file, check, Reader::open(&path).map(|_| ())),
        "zvhd2.read_block" => {
            let block = check["block"].as_u64().and_then(|b| u32::try_from(b).ok());
            expect_error(file, check, read_block(&path, block.unwrap_or(u32::MAX)))
        }
        "zvhd2.verify" => {
            let report = verify(&path, &VerifyOptions::default(), &Control::default())
                .map_err(|e| format!("{file}: verify failed: {e}"))?;
            if check["ok"].as_bool() == Some(true) {
                return match report.is_ok() {
                    true => Ok(()),
                    false => Err(format!("{file}: {:?}", report.problems)),
                };
            }
            let kind = check["problem"].as_str().unwrap_or("");
            let message = check["message"].as_str().unwrap_or("");
            let found = report.problems.iter().any(|p| {
                variant(&format!("{:?}", p.kind)) == kind && p.to_string().contains(message)
            });
            match found {
                true => Ok(()),
                false => Err(format!(
                    "{file}: no {kind} problem saying {message:?} in {:?}",
                    report
                        .problems
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                )),
            }
        }
        other => Err(format!("{file}: unknown API {other}")),
    }
}

#[test]
fn every_zvhd2_case_gives_its_error() {
    let all = checks("zvhd2.");
    assert!(all.len() >= 40, "only {} ZVHD2 checks", all.len());
    let failures: Vec<String> = all
        .iter()
        .filter_map(|(file, check)| run(file, check).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
