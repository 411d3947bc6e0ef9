//! Runs every request-file case of the hostile corpus (fixtures/hostile,
//! made by make.py there) through the linter and asserts its codes.

use std::path::{Path, PathBuf};

use imsprep_ims::lint_json;
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/hostile")
}

#[test]
fn every_request_case_gives_its_findings() {
    let text = std::fs::read_to_string(corpus().join("expected.json")).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut ran = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let file = case["file"].as_str().unwrap();
        for check in case["checks"].as_array().unwrap() {
            if check["api"] != "ims.lint_json" {
                continue;
            }
            ran += 1;
            let bytes = std::fs::read(corpus().join(file)).unwrap();
            // The CLI refuses a file that is not UTF-8 before linting; decoded
            // lossily, invalid bytes become U+FFFD and must still lint cleanly.
            let findings = lint_json(&String::from_utf8_lossy(&bytes));
            let codes: Vec<&str> = findings.iter().map(|f| f.code.id()).collect();
            for want in check["codes"].as_array().unwrap() {
                let want = want.as_str().unwrap();
                if !codes.contains(&want) {
                    failures.push(format!("{file}: no {want} in {codes:?}"));
                }
            }
        }
    }
    assert!(ran >= 3, "only {ran} request checks");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
