//! `imsprep request`: a quick-import request body built from flags.

use anyhow::Context;
use imsprep_ims::{has_errors, validate, Finding, ImageRequest};
use imsprep_prepare::{add_guest_checks, RequestSpec};

use super::inspect::inspection;
use super::target::{architecture, cloud, firmware, image_type, intent, with_fields};
use crate::args::{RequestArgs, RequestFields, TargetArgs};
use crate::exit::{Outcome, UsageError};

/// Builds, checks and prints the request. The JSON goes to stdout only when
/// it has no errors; findings go to stderr so stdout stays a clean body.
pub fn run(args: RequestArgs) -> anyhow::Result<Outcome> {
    let target = with_fields(&args.target, &args.fields);
    let mut image_findings = Vec::new();
    let mut min_disk = args.min_disk;
    let mut guest = None;
    if let Some(image) = &args.image {
        let mut target_intent = intent(&target);
        target_intent.min_disk = args.min_disk;
        target_intent.image_object = args
            .image_url
            .split_once(':')
            .map(|(_, object)| object.to_owned());
        let mut inspection = inspection(image, &target_intent)?;
        let declared = spec(&args.fields, &args.target);
        add_guest_checks(
            &mut inspection,
            image,
            &target_intent,
            declared.os_version.as_deref(),
            declared.architecture,
        )
        .with_context(|| format!("inspecting the guest in {}", image.display()))?;
        min_disk = min_disk.or(inspection.min_disk);
        image_findings = inspection.findings;
        guest = inspection.guest;
    }
    let min_disk =
        min_disk.ok_or_else(|| UsageError("give --min-disk, or --image to compute it".into()))?;
    // What the guest is fills in what the flags left out.
    let mut spec = spec(&args.fields, &args.target);
    if let Some(guest) = &guest {
        if spec.os_version.is_none() && spec.os_type.is_none() {
            spec.os_version = guest.os_version.clone();
        }
        if spec.architecture.is_none() {
            spec.architecture = match guest.architecture.as_deref() {
                Some("arm") => Some(imsprep_ims::Architecture::Arm),
                Some("x86") => Some(imsprep_ims::Architecture::X86),
                _ => None,
            };
        }
    }
    let request = spec.build(&args.image_url, min_disk)?;
    let mut all = validate(&request);
    all.extend(image_findings);
    report(&request, &all)
}

/// The request's fields as the pipeline takes them, from the flags.
pub fn spec(fields: &RequestFields, target: &TargetArgs) -> RequestSpec {
    let target = with_fields(target, fields);
    RequestSpec {
        name: fields.name.clone(),
        os_version: fields.os_version.clone(),
        os_type: fields.os_type.clone(),
        description: fields.description.clone(),
        tags: fields.tags.clone(),
        enterprise_project_id: fields.enterprise_project_id.clone(),
        license_type: fields.license_type.clone(),
        image_type: target.image_type.map(image_type),
        architecture: target.arch.map(architecture),
        firmware: target.firmware.map(firmware),
        cloud: target.cloud.map(cloud),
    }
}

fn report(request: &ImageRequest, all: &[Finding]) -> anyhow::Result<Outcome> {
    if has_errors(all) {
        eprintln!("the request has errors; nothing printed:");
        print_findings_to_stderr(all);
        return Ok(Outcome::Problems);
    }
    if !all.is_empty() {
        print_findings_to_stderr(all);
    }
    println!("{}", request.to_json_pretty());
    Ok(Outcome::Clean)
}

fn print_findings_to_stderr(all: &[Finding]) {
    for finding in all {
        eprintln!("{finding}");
        if !finding.fix.is_empty() {
            eprintln!("  fix: {}", finding.fix);
        }
    }
}
