//! Runs every bitmap-file case of the hostile corpus (fixtures/hostile,
//! made by make.py there) and asserts the error it must give.

#[path = "../../../fixtures/hostile/cases.rs"]
mod cases;

use cases::{checks, corpus};
use imsprep_scan::read_bitmap;
use serde_json::Value;

/// Runs one check; a mismatch is described.
fn run(file: &str, check: &Value) -> Result<(), String> {
    if check["api"] != "scan.read_bitmap" {
        return Err(format!("{file}: unknown API {}", check["api"]));
    }
    let got = read_bitmap(&corpus().join(file));
    match (got, check["error"].as_str()) {
        (Ok(_), None) => Ok(()),
        (Ok(b), Some(want)) => Err(format!("{file}: read {b:?}, expected {want}")),
        (Err(e), None) => Err(format!("{file}: unexpected error {e}")),
        (Err(e), Some(want)) => {
            let debug = format!("{e:?}");
            let variant = debug.split(|c: char| !c.is_ascii_alphanumeric()).next();
            let message = check["message"].as_str().unwrap_or("");
            if variant != Some(want) || !e.to_string().contains(message) {
                return Err(format!(
                    "{file}: got {e:?} ({e}), expected {want} saying {message:?}"
                ));
            }
            Ok(())
        }
    }
}

#[test]
fn every_bitmap_case_gives_its_error() {
    let all = checks("scan.");
    assert!(all.len() >= 12, "only {} bitmap checks", all.len());
    let failures: Vec<String> = all
        .iter()
        .filter_map(|(file, check)| run(file, check).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
