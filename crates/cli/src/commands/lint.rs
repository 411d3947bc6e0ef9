//! `imsprep lint`: check a request body against the service's rules.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use imsprep_ims::{has_errors, lint_json, ImageRequest, Intent};

use super::findings;
use super::inspect::inspection;
use crate::args::LintArgs;
use crate::exit::{BadInput, Outcome};
use crate::output::print_json;

/// Lints the file, and checks it against an image when one is given.
pub fn run(args: LintArgs) -> anyhow::Result<Outcome> {
    let text = read_request(&args.request)?;
    let mut all = lint_json(&text);
    if let Some(image) = &args.image {
        // A body too broken to parse still gets the image checks, with the
        // defaults it would have.
        let intent = serde_json::from_str::<ImageRequest>(&text)
            .map(|request| Intent::from_request(&request))
            .unwrap_or_default();
        all.extend(inspection(image, &intent)?.findings);
    }
    if args.json {
        print_json(&all)?;
    } else {
        findings::print(&all);
        println!("{}: {}", args.request.display(), findings::tally(&all));
    }
    Ok(if has_errors(&all) {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

/// Request bodies are a few hundred bytes; anything past this is not one.
const MAX_REQUEST_BYTES: u64 = 1 << 20;

fn read_request(path: &Path) -> anyhow::Result<String> {
    let what = if path == Path::new("-") {
        "standard input".to_string()
    } else {
        path.display().to_string()
    };
    let reader: Box<dyn Read> = if path == Path::new("-") {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path).with_context(|| format!("reading {what}"))?)
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_REQUEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {what}"))?;
    if bytes.len() as u64 > MAX_REQUEST_BYTES {
        return Err(BadInput(format!("{what}: larger than 1 MiB, not a request body")).into());
    }
    String::from_utf8(bytes).map_err(|e| {
        BadInput(format!(
            "{what}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
        .into()
    })
}
