//! Runs every probe case of the hostile corpus (fixtures/hostile, made by
//! make.py there): damaged tables and lying headers are reported as facts
//! and anomalies, never as a crash or an error.

#[path = "../../../fixtures/hostile/cases.rs"]
mod cases;

use cases::{checks, corpus};
use imsprep_probe::inspect;
use serde_json::Value;

/// Runs one check; every mismatch is described.
fn run(file: &str, check: &Value) -> Vec<String> {
    if check["api"] != "probe.inspect" {
        return vec![format!("{file}: unknown API {}", check["api"])];
    }
    let report = match inspect(&corpus().join(file)) {
        Ok(r) => r,
        Err(e) => return vec![format!("{file}: probe failed: {e}")],
    };
    let json = serde_json::to_value(&report).unwrap();
    let text = json.to_string();
    let mut failures = Vec::new();
    if let Some(fields) = check["json"].as_object() {
        for (pointer, want) in fields {
            let got = json.pointer(pointer);
            if got != Some(want) {
                failures.push(format!("{file}: {pointer} is {got:?}, expected {want}"));
            }
        }
    }
    for s in check["contains"].as_array().into_iter().flatten() {
        let s = s.as_str().unwrap_or("");
        if !text.contains(s) {
            failures.push(format!("{file}: report lacks {s:?}: {text}"));
        }
    }
    for s in check["absent"].as_array().into_iter().flatten() {
        let s = s.as_str().unwrap_or("");
        if text.contains(s) {
            failures.push(format!("{file}: report has {s:?}: {text}"));
        }
    }
    failures
}

#[test]
fn every_probe_case_is_reported_as_facts() {
    let all = checks("probe.");
    assert!(all.len() >= 10, "only {} probe checks", all.len());
    let failures: Vec<String> = all
        .iter()
        .flat_map(|(file, check)| run(file, check))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
