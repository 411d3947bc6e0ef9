//! `imsprep verify`: a ZVHD2 file deeply, a RAW against its bitmap, or an
//! upload set against its manifest.

use std::path::Path;

use anyhow::Context;
use imsprep_disk::OpenOptions;
use imsprep_prepare::verify_zvhd2;
use imsprep_probe::open_disk;
use serde::Serialize;

use super::endpoint::{open_input, Input};
use super::{verify_bitmap, verify_manifest};
use crate::args::VerifyArgs;
use crate::exit::{Outcome, UsageError};
use crate::output::print_json;
use crate::progress::Session;

/// Picks the check the flags ask for.
pub fn run(args: VerifyArgs, session: &Session) -> anyhow::Result<Outcome> {
    if let Some(manifest) = &args.manifest {
        return verify_manifest::run(session, manifest, args.json);
    }
    let file = args
        .file
        .as_deref()
        .ok_or_else(|| UsageError("name the file to verify".into()))?;
    let input = open_input(file, "verify", session.cancel_flag())?;
    if let Some(bitmap) = &args.bitmap {
        return verify_bitmap::run(session, input.path(), bitmap, args.json);
    }
    run_zvhd2(session, &input, args.against.as_deref(), args.json)
}

/// One problem as `verify --json` prints it.
#[derive(Serialize)]
struct ProblemLine {
    offset: u64,
    message: String,
}

/// What `verify --json` prints for a ZVHD2 file.
#[derive(Serialize)]
struct Zvhd2Report {
    file: String,
    against: Option<String>,
    sound: bool,
    orig_size: u64,
    curr_size: u64,
    records_checked: u64,
    blocks_compared: u64,
    problems: Vec<ProblemLine>,
    /// Problems found past the listing limit, counted only.
    problems_omitted: u64,
}

fn run_zvhd2(
    session: &Session,
    input: &Input,
    against: Option<&Path>,
    json: bool,
) -> anyhow::Result<Outcome> {
    // The disk compared with may be in any format the disk model reads.
    let against_disk = match against {
        Some(path) => {
            let format = imsprep_probe::inspect(path)
                .with_context(|| format!("inspecting {}", path.display()))?
                .format;
            Some(open_disk(path, format, &OpenOptions::default())?)
        }
        None => None,
    };
    let file = input.path();
    let report = verify_zvhd2(session, file, against_disk.as_deref())
        .with_context(|| format!("verifying {}", input.shown()))?;
    let out = Zvhd2Report {
        file: input.shown().to_string(),
        against: against.map(|p| p.display().to_string()),
        sound: report.is_ok(),
        orig_size: report.footer.orig_size,
        curr_size: report.footer.curr_size,
        records_checked: report.records_checked,
        blocks_compared: report.blocks_compared,
        problems: report
            .problems
            .iter()
            .map(|p| ProblemLine {
                offset: p.offset,
                message: p.to_string(),
            })
            .collect(),
        problems_omitted: report.problems_omitted,
    };
    if json {
        print_json(&out)?;
    } else {
        for problem in &out.problems {
            println!("{}: {}", out.file, problem.message);
        }
        let compared = match &out.against {
            Some(raw) => format!(", {} blocks compared with {raw}", out.blocks_compared),
            None => String::new(),
        };
        let verdict = if out.sound { "sound" } else { "NOT sound" };
        println!(
            "{}: {verdict}: {} records checked{compared}, {} problems",
            out.file,
            out.records_checked,
            out.problems.len() as u64 + out.problems_omitted
        );
        if out.problems_omitted > 0 {
            println!(
                "(the first {} are listed; {} more were counted)",
                out.problems.len(),
                out.problems_omitted
            );
        }
    }
    Ok(if out.sound {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}
