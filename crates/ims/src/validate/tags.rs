//! `tags` and `image_tags` rules.

use std::collections::btree_map::{BTreeMap, Entry};

use super::text::{describe_chars, is_cjk, is_tag_char};
use crate::finding::{Code, Finding};
use crate::model::ImageTag;
use crate::shown::{is_short, quoted};

/// Longest tag key, in characters.
pub const TAG_KEY_MAX: usize = 36;
/// Longest tag value, in characters.
pub const TAG_VALUE_MAX: usize = 43;

/// The fix for a tag without a `.`: the tag rewritten when it is short enough
/// to copy, the rule otherwise.
fn no_dot_fix(tag: &str) -> String {
    if is_short(tag) {
        format!("Write it as \"{tag}.VALUE\" (or \"{tag}.\" for an empty value).")
    } else {
        "Write it as \"KEY.VALUE\" (or \"KEY.\" for an empty value).".to_owned()
    }
}

/// Checks both tag lists, their keys' uniqueness and that only one list is used.
pub fn check_tags(tags: &[String], image_tags: &[ImageTag], out: &mut Vec<Finding>) {
    // Key -> path of its first use. A map, not a list: a body may hold tens
    // of thousands of tags, and a pairwise search took seconds. Ordered, so
    // every run takes the same branches (see lint.rs).
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    for (i, tag) in tags.iter().enumerate() {
        let path = format!("$.tags[{i}]");
        let Some((key, value)) = tag.split_once('.') else {
            out.push(
                Finding::new(
                    Code::ReqTagFormat,
                    &path,
                    format!("tag {} has no `.` between key and value", quoted(tag)),
                )
                .with_fix(no_dot_fix(tag)),
            );
            continue;
        };
        check_key(key, &path, out);
        check_value(value, &path, out);
        note_key(key, &path, &mut keys, out);
    }
    for (i, t) in image_tags.iter().enumerate() {
        let base = format!("$.image_tags[{i}]");
        let key = t.key.trim();
        let value = t.value.trim();
        if key != t.key {
            out.push(Finding::new(
                Code::ReqTagTrimmed,
                format!("{base}.key"),
                format!("key {} will be stored as {}", quoted(&t.key), quoted(key)),
            ));
        }
        if value != t.value {
            out.push(Finding::new(
                Code::ReqTagTrimmed,
                format!("{base}.value"),
                format!(
                    "value {} will be stored as {}",
                    quoted(&t.value),
                    quoted(value)
                ),
            ));
        }
        check_key(key, &format!("{base}.key"), out);
        check_value(value, &format!("{base}.value"), out);
        note_key(key, &base, &mut keys, out);
    }
    if !tags.is_empty() && !image_tags.is_empty() {
        out.push(Finding::new(
            Code::ReqTagsBoth,
            "$.image_tags",
            "both `tags` and `image_tags` are given",
        ));
    }
}

fn note_key(key: &str, path: &str, keys: &mut BTreeMap<String, String>, out: &mut Vec<Finding>) {
    match keys.entry(key.to_owned()) {
        Entry::Occupied(first) => out.push(Finding::new(
            Code::ReqTagDuplicate,
            path,
            format!("tag key {} is already used at {}", quoted(key), first.get()),
        )),
        Entry::Vacant(slot) => {
            slot.insert(path.to_owned());
        }
    }
}

fn check_key(key: &str, path: &str, out: &mut Vec<Finding>) {
    let len = key.chars().count();
    let mut problems = Vec::new();
    if len == 0 || len > TAG_KEY_MAX {
        problems.push(format!("has {len} characters (1 to {TAG_KEY_MAX} allowed)"));
    }
    problems.extend(disallowed(key.chars().filter(|&c| !is_tag_char(c))));
    push_problems(out, Code::ReqTagKey, path, "tag key", key, &problems);
}

/// The problem of having `bad` characters, if there are any.
fn disallowed(bad: impl Iterator<Item = char>) -> Option<String> {
    let bad: Vec<char> = bad.collect();
    (!bad.is_empty()).then(|| {
        format!(
            "has characters that are not allowed: {}",
            describe_chars(bad)
        )
    })
}

/// One finding listing every problem of a tag key or value, if any.
fn push_problems(
    out: &mut Vec<Finding>,
    code: Code,
    path: &str,
    what: &str,
    text: &str,
    problems: &[String],
) {
    if !problems.is_empty() {
        out.push(Finding::new(
            code,
            path,
            format!("{what} {} {}", quoted(text), problems.join(" and ")),
        ));
    }
}

fn check_value(value: &str, path: &str, out: &mut Vec<Finding>) {
    let len = value.chars().count();
    let mut problems = Vec::new();
    if len > TAG_VALUE_MAX {
        problems.push(format!(
            "has {len} characters (at most {TAG_VALUE_MAX} allowed)"
        ));
    }
    let extended = |c: char| c == '.' || is_cjk(c);
    problems.extend(disallowed(
        value.chars().filter(|&c| !is_tag_char(c) && !extended(c)),
    ));
    push_problems(out, Code::ReqTagValue, path, "tag value", value, &problems);
    let ext: Vec<char> = value.chars().filter(|&c| extended(c)).collect();
    if !ext.is_empty() {
        out.push(Finding::new(
            Code::ReqTagValueExtended,
            path,
            format!("tag value {} has {}", quoted(value), describe_chars(ext)),
        ));
    }
}
