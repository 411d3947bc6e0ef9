//! Checking a request body against every rule of the API, returning all findings.

mod fields;
mod tags;
mod text;
mod url;

pub use fields::{is_enterprise_project_id, MIN_DISK_MAX};
pub use tags::{TAG_KEY_MAX, TAG_VALUE_MAX};
pub use text::{is_cjk, DESCRIPTION_MAX, NAME_MAX};
pub use url::bucket_name_problems;

use crate::finding::{Code, Finding};
use crate::model::ImageRequest;

/// Every finding about `req`, in field order; an empty list means it passes.
pub fn validate(req: &ImageRequest) -> Vec<Finding> {
    let mut out = Vec::new();
    match &req.name {
        Some(name) => text::check_name(name, &mut out),
        None => out.push(missing("name")),
    }
    if let Some(d) = &req.description {
        text::check_description(d, &mut out);
    }
    match &req.image_url {
        Some(u) => url::check_image_url(u, &mut out),
        None => out.push(missing("image_url")),
    }
    fields::check_type_and_os(req, &mut out);
    match req.min_disk {
        Some(m) => fields::check_min_disk(u64::from(m), &mut out),
        None => out.push(missing("min_disk")),
    }
    fields::check_platform(req, &mut out);
    if let Some(e) = &req.enterprise_project_id {
        fields::check_enterprise_project(e, &mut out);
    }
    tags::check_tags(&req.tags, &req.image_tags, &mut out);
    out
}

fn missing(field: &str) -> Finding {
    Finding::new(
        Code::ReqMissingField,
        format!("$.{field}"),
        format!("`{field}` is required"),
    )
    .with_fix(format!("Add `{field}`."))
}
