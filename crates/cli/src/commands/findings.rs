//! Findings, printed for people: one line each and its fix below.

use imsprep_ims::{Finding, Severity};

/// Prints `findings` on stdout, errors first; says so when there are none.
pub fn print(findings: &[Finding]) {
    print_to(&mut std::io::stdout().lock(), findings);
}

/// Prints `findings` on stderr, for commands whose stdout carries data.
pub fn eprint(findings: &[Finding]) {
    print_to(&mut std::io::stderr().lock(), findings);
}

/// Prints `findings` to `out`, errors first; says so when there are none.
/// A closed output (a pipe whose reader left) is not worth an error here.
fn print_to(out: &mut dyn std::io::Write, findings: &[Finding]) {
    if findings.is_empty() {
        let _ = writeln!(out, "no findings");
        return;
    }
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for finding in sorted {
        let service = finding
            .code
            .service_code()
            .map(|code| format!(" (service error {code})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<7} {} {}: {}{service}",
            severity_word(finding.severity),
            finding.code.id(),
            finding.path,
            finding.message
        );
        if !finding.fix.is_empty() {
            let _ = writeln!(out, "        fix: {}", finding.fix);
        }
    }
}

/// A one-line tally such as "1 error, 2 warnings".
pub fn tally(findings: &[Finding]) -> String {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let part = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        part(count(Severity::Error), "error"),
        part(count(Severity::Warning), "warning")
    )
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}
