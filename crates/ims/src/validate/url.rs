//! `image_url` rules: `bucket:object`, bucket naming, object names.

use crate::finding::{Code, Finding};
use crate::shown::{is_short, quoted};

/// Shortest and longest bucket name.
pub const BUCKET_LEN: std::ops::RangeInclusive<usize> = 3..=63;

/// Why a bucket name breaks the naming rules; empty when it is fine.
pub fn bucket_name_problems(bucket: &str) -> Vec<String> {
    let mut p = Vec::new();
    let len = bucket.chars().count();
    if !BUCKET_LEN.contains(&len) {
        p.push(format!("has {len} characters (3 to 63 allowed)"));
    }
    let bad: Vec<char> = bucket
        .chars()
        .filter(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'))
        .collect();
    if !bad.is_empty() {
        p.push(format!(
            "has characters other than lowercase letters, digits, `-` and `.`: {}",
            super::text::describe_chars(bad)
        ));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if len > 0 && !(edge_ok(bucket.chars().next()) && edge_ok(bucket.chars().last())) {
        p.push("does not start and end with a lowercase letter or digit".to_owned());
    }
    if bucket.contains("..") {
        p.push("has `..`".to_owned());
    }
    if bucket.contains(".-") || bucket.contains("-.") {
        p.push("has `.` next to `-`".to_owned());
    }
    if looks_like_ipv4(bucket) {
        p.push("looks like an IP address".to_owned());
    }
    p
}

/// Four dot-separated groups of 1 to 3 digits, as the naming rule forbids.
fn looks_like_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks `image_url`.
pub fn check_image_url(url: &str, out: &mut Vec<Finding>) {
    let path = "$.image_url";
    let lower = url.to_ascii_lowercase();
    for scheme in ["obs://", "s3://", "https://", "http://"] {
        if lower.starts_with(scheme) {
            out.push(
                Finding::new(
                    Code::ReqImageUrlFormat,
                    path,
                    format!("{} is a URL; the API wants `bucket:object`", quoted(url)),
                )
                .with_fix(url_fix(url.get(scheme.len()..).unwrap_or(""))),
            );
            return;
        }
    }
    let Some((bucket, object)) = url.split_once(':') else {
        out.push(
            Finding::new(
                Code::ReqImageUrlFormat,
                path,
                format!("{} has no `:` between bucket and object", quoted(url)),
            )
            .with_fix(url_fix(url)),
        );
        return;
    };
    if bucket.is_empty() || object.is_empty() || object.ends_with('/') {
        let what = if bucket.is_empty() {
            "the bucket is empty"
        } else if object.is_empty() {
            "the object is empty"
        } else {
            "the object is a folder (ends with `/`)"
        };
        out.push(Finding::new(
            Code::ReqImageUrlFormat,
            path,
            format!("in {} {what}", quoted(url)),
        ));
    }
    if !bucket.is_empty() {
        let problems = bucket_name_problems(bucket);
        if !problems.is_empty() {
            out.push(Finding::new(
                Code::ReqBucketName,
                path,
                format!("bucket {} {}", quoted(bucket), problems.join("; ")),
            ));
        }
    }
    check_object(object, out);
}

/// A corrected `bucket:object` from a `bucket/object` style text.
fn url_fix(rest: &str) -> String {
    match rest.split_once('/') {
        Some((b, o)) if !b.is_empty() && !o.is_empty() && is_short(rest) => {
            format!("Write it as \"{b}:{o}\".")
        }
        _ => Code::ReqImageUrlFormat.fix().to_owned(),
    }
}

fn check_object(object: &str, out: &mut Vec<Finding>) {
    let path = "$.image_url";
    if object.is_empty() {
        return;
    }
    let spaced: Vec<&str> = object.split('/').filter(|s| s.contains(' ')).collect();
    if !spaced.is_empty() {
        let names: Vec<String> = spaced.iter().map(|s| quoted(s).to_string()).collect();
        out.push(Finding::new(
            Code::ReqObjectSpace,
            path,
            format!(
                "object {} has spaces in {}",
                quoted(object),
                names.join(", ")
            ),
        ));
    }
    let lower = object.to_ascii_lowercase();
    let image_ext = lower.ends_with(".raw") || lower.ends_with(".zvhd2");
    if !(object.ends_with('/') || image_ext) {
        out.push(Finding::new(
            Code::ReqObjectExtension,
            path,
            format!("object {} does not end in .raw or .zvhd2", quoted(object)),
        ));
    }
}
