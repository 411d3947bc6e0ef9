//! `imsprep request`: a quick-import request body built from flags.

use imsprep_ims::{has_errors, validate, Finding, ImageRequest, RequestBuilder};

use super::inspect::inspection;
use super::target::{architecture, firmware, image_type, intent, with_fields};
use crate::args::{RequestArgs, RequestFields, TargetArgs};
use crate::exit::{Outcome, UsageError};

/// Builds, checks and prints the request. The JSON goes to stdout only when
/// it has no errors; findings go to stderr so stdout stays a clean body.
pub fn run(args: RequestArgs) -> anyhow::Result<Outcome> {
    let target = with_fields(&args.target, &args.fields);
    let mut image_findings = Vec::new();
    let mut min_disk = args.min_disk;
    if let Some(image) = &args.image {
        let mut target_intent = intent(&target);
        target_intent.min_disk = args.min_disk;
        target_intent.image_object = args
            .image_url
            .split_once(':')
            .map(|(_, object)| object.to_owned());
        let inspection = inspection(image, &target_intent)?;
        min_disk = min_disk.or(inspection.min_disk);
        image_findings = inspection.findings;
    }
    let min_disk =
        min_disk.ok_or_else(|| UsageError("give --min-disk, or --image to compute it".into()))?;
    let request = build(&args.fields, &target, &args.image_url, min_disk)?;
    let mut all = validate(&request);
    all.extend(image_findings);
    report(&request, &all)
}

/// The request for `fields`, `target` (already through
/// [`with_fields`]), `image_url` and `min_disk`.
pub fn build(
    fields: &RequestFields,
    target: &TargetArgs,
    image_url: &str,
    min_disk: u32,
) -> anyhow::Result<ImageRequest> {
    let mut builder = RequestBuilder::new(&fields.name, image_url, min_disk)
        .image_type(image_type(
            target.image_type.unwrap_or(crate::args::ImageType::Ecs),
        ))
        .architecture(architecture(target.arch));
    if let Some(version) = &fields.os_version {
        builder = builder.os_version(version);
    }
    if let Some(os_type) = &fields.os_type {
        builder = builder.os_type(os_type);
    }
    if let Some(description) = &fields.description {
        builder = builder.description(description);
    }
    if let Some(fw) = target.firmware {
        builder = builder.firmware(firmware(fw));
    }
    if let Some(license) = &fields.license_type {
        builder = builder.license_type(license);
    }
    if let Some(project) = &fields.enterprise_project_id {
        builder = builder.enterprise_project_id(project);
    }
    for tag in &fields.tags {
        builder = builder
            .tag_arg(tag)
            .map_err(|e| UsageError(format!("--tag {tag}: {e}")))?;
    }
    Ok(builder.build())
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
