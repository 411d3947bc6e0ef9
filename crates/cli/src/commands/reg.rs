//! `imsprep reg`: one registry key of a Windows guest, its subkeys and
//! values, read from the hive inside the image as the checks read it.

use std::sync::Arc;

use anyhow::Context;
use imsprep_guest::windows::browse::list_key;
use imsprep_guest::ImageGuest;
use serde::Serialize;

use crate::args::RegArgs;
use crate::exit::{BadInput, Outcome};
use crate::output::print_json;

/// What `reg --json` prints.
#[derive(Serialize)]
struct KeyReport {
    hive: String,
    hive_state: String,
    key: String,
    subkeys: Vec<Subkey>,
    values: Vec<Value>,
}

#[derive(Serialize)]
struct Subkey {
    name: String,
    last_write: i64,
}

#[derive(Serialize)]
struct Value {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    data: String,
}

/// Lists the key.
pub fn run(args: RegArgs) -> anyhow::Result<Outcome> {
    super::endpoint::needs_file(&args.image, "reg")?;
    let shown = args.image.display().to_string();
    let report =
        imsprep_probe::inspect(&args.image).with_context(|| format!("inspecting {shown}"))?;
    let disk = imsprep_probe::open_disk(
        &args.image,
        report.format,
        &imsprep_disk::OpenOptions::default(),
    )
    .with_context(|| format!("opening {shown}"))?;
    let guest = ImageGuest::open(Arc::from(disk)).with_context(|| format!("reading {shown}"))?;
    let listing = list_key(&guest, &args.key).map_err(|why| BadInput(format!("{shown}: {why}")))?;
    let out = KeyReport {
        hive: listing.hive_path,
        hive_state: listing.hive_state,
        key: listing.key,
        subkeys: listing
            .subkeys
            .into_iter()
            .map(|(name, last_write)| Subkey { name, last_write })
            .collect(),
        values: listing
            .values
            .into_iter()
            .map(|v| Value {
                name: v.name,
                kind: v.kind,
                data: v.data,
            })
            .collect(),
    };
    if args.json {
        print_json(&out)?;
        return Ok(Outcome::Clean);
    }
    println!("{} (hive {}, {})", out.key, out.hive, out.hive_state);
    for key in &out.subkeys {
        println!("  [{}]", key.name);
    }
    for value in &out.values {
        let name = if value.name.is_empty() {
            "(default)"
        } else {
            &value.name
        };
        let data = value.data.replace('\n', "\n      ");
        println!("  {name} = {} {data}", value.kind);
    }
    Ok(Outcome::Clean)
}
