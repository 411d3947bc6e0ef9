//! Runs every request-file case of the hostile corpus (fixtures/hostile,
//! made by make.py there) through the linter and asserts its codes.

#[path = "../../../fixtures/hostile/cases.rs"]
mod cases;

use cases::{checks, corpus};
use imsprep_ims::lint_json;

#[test]
fn every_request_case_gives_its_findings() {
    let mut ran = 0;
    let mut failures = Vec::new();
    for (file, check) in checks("ims.lint_json") {
        ran += 1;
        let bytes = std::fs::read(corpus().join(&file)).unwrap();
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
    assert!(ran >= 3, "only {ran} request checks");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
