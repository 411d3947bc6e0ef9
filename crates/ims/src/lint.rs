//! Linting a request file: JSON syntax, unknown fields, JSON types, then every rule.
//!
//! The text is first read as a generic JSON value so that one bad field does
//! not hide the others: a wrong-typed or unknown field is reported and taken
//! out, the rest is deserialized and validated.

// Ordered sets, not hash sets: a hash set's random seed sends each run
// through different probing branches, which fuzzing counted as coverage.
use std::collections::BTreeSet;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::finding::{Code, Finding};
use crate::model::{ImageRequest, REQUEST_FIELDS};
use crate::shown::{is_short, ticked};
use crate::validate::validate;

/// What JSON type a field takes.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    StrArray,
    TagArray,
}

fn kind_of(field: &str) -> Option<Kind> {
    match field {
        "min_disk" => Some(Kind::Int),
        "tags" => Some(Kind::StrArray),
        "image_tags" => Some(Kind::TagArray),
        f if REQUEST_FIELDS.contains(&f) => Some(Kind::Str),
        _ => None,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Every finding about a request file's text.
pub fn lint_json(text: &str) -> Vec<Finding> {
    // Editors on Windows may save a byte-order mark; it is not part of the JSON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return vec![Finding::new(
                Code::JsonSyntax,
                "$",
                format!(
                    "line {}, column {}: {}",
                    e.line(),
                    e.column(),
                    syntax_message(&e)
                ),
            )]
        }
    };
    let Value::Object(map) = value else {
        return vec![Finding::new(
            Code::JsonNotObject,
            "$",
            format!("the body is {}, not an object", type_name(&value)),
        )];
    };
    let order = serde_json::from_str::<TopKeys>(text)
        .map(|k| k.0)
        .unwrap_or_else(|_| map.keys().cloned().collect());
    Linter::default().run(map, &order)
}

/// serde_json's message without its own " at line X column Y" suffix, which
/// the finding already states.
fn syntax_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s.get(..i).unwrap_or(&s).to_owned(),
        None => s,
    }
}

#[derive(Default)]
struct Linter {
    out: Vec<Finding>,
    /// Paths already reported as wrong-typed; later findings there are noise.
    reported: BTreeSet<String>,
    /// Original indexes of the `tags` elements kept.
    tags_index: Vec<usize>,
    /// Original indexes of the `image_tags` elements kept.
    image_tags_index: Vec<usize>,
}

impl Linter {
    fn run(mut self, mut map: Map<String, Value>, order: &[String]) -> Vec<Finding> {
        let mut present = BTreeSet::new();
        for key in order {
            if !present.insert(key.as_str()) {
                self.out.push(Finding::new(
                    Code::JsonDuplicateKey,
                    format!("$.{key}"),
                    format!(
                        "{} appears more than once; the last one counts here",
                        ticked(key)
                    ),
                ));
            }
        }
        let mut clean = Map::new();
        for key in order {
            // A duplicated key's later mentions find it already taken out.
            let Some(v) = map.remove(key) else { continue };
            if let Some(v) = self.field(key, v, &present) {
                clean.insert(key.clone(), v);
            }
        }
        match serde_json::from_value::<ImageRequest>(Value::Object(clean)) {
            Ok(req) => {
                for mut f in validate(&req) {
                    f.path = self.original_path(&f.path);
                    if !self.reported.contains(&f.path) {
                        self.out.push(f);
                    }
                }
            }
            Err(e) => self
                .out
                .push(Finding::new(Code::JsonWrongType, "$", e.to_string())),
        }
        self.out
    }

    /// Checks one top-level field; returns the value to keep, if any.
    fn field(&mut self, key: &str, v: Value, present: &BTreeSet<&str>) -> Option<Value> {
        let path = format!("$.{key}");
        let Some(kind) = kind_of(key) else {
            self.unknown(&path, key, REQUEST_FIELDS, present);
            return None;
        };
        if v.is_null() {
            self.out.push(Finding::new(
                Code::JsonNull,
                &path,
                format!("{} is null", ticked(key)),
            ));
            return None;
        }
        match kind {
            Kind::Str => {
                if v.is_string() {
                    return Some(v);
                }
                let fix = match &v {
                    Value::Number(n) => format!("Quote it: \"{n}\"."),
                    _ => "Write it as a JSON string.".to_owned(),
                };
                self.wrong(&path, "a string", &v, fix);
                None
            }
            Kind::Int => self.int(&path, v),
            Kind::StrArray => {
                let Value::Array(items) = v else {
                    let fix = match &v {
                        Value::String(s) if is_short(s) => {
                            format!("Write it as an array: [\"{s}\"].")
                        }
                        _ => "Write it as an array of \"key.value\" strings.".to_owned(),
                    };
                    self.wrong(&path, "an array of strings", &v, fix);
                    return None;
                };
                let mut keep = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    if item.is_string() {
                        keep.push(item);
                        self.tags_index.push(i);
                    } else {
                        self.wrong(
                            &format!("{path}[{i}]"),
                            "a string",
                            &item,
                            "Write the tag as a \"key.value\" string.".to_owned(),
                        );
                    }
                }
                Some(Value::Array(keep))
            }
            Kind::TagArray => {
                let Value::Array(items) = v else {
                    self.wrong(
                        &path,
                        "an array of objects",
                        &v,
                        "Write it as [{\"key\": ..., \"value\": ...}].".to_owned(),
                    );
                    return None;
                };
                let mut keep = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    if let Some(t) = self.image_tag(&format!("{path}[{i}]"), item) {
                        keep.push(t);
                        self.image_tags_index.push(i);
                    }
                }
                Some(Value::Array(keep))
            }
        }
    }

    fn int(&mut self, path: &str, v: Value) -> Option<Value> {
        let range = |me: &mut Self, shown: String| {
            me.out.push(Finding::new(
                Code::ReqMinDiskRange,
                path,
                format!("min_disk is {shown}; it must be 1 to 1024"),
            ));
            me.reported.insert(path.to_owned());
            None
        };
        match &v {
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    if u32::try_from(u).is_ok() {
                        return Some(v);
                    }
                    return range(self, u.to_string());
                }
                if let Some(i) = n.as_i64() {
                    return range(self, i.to_string());
                }
                self.wrong(
                    path,
                    "an integer",
                    &v,
                    "Give a whole number of GiB, e.g. 40.".to_owned(),
                );
                None
            }
            Value::String(s) => {
                let fix = match s.trim().parse::<u64>() {
                    Ok(n) => format!("Write it without quotes: {n}."),
                    Err(_) => "Give a whole number of GiB without quotes, e.g. 40.".to_owned(),
                };
                self.wrong(path, "an integer", &v, fix);
                None
            }
            _ => {
                self.wrong(
                    path,
                    "an integer",
                    &v,
                    "Give a whole number of GiB, e.g. 40.".to_owned(),
                );
                None
            }
        }
    }

    /// Checks one `image_tags` element; returns it when it can be validated further.
    fn image_tag(&mut self, path: &str, item: Value) -> Option<Value> {
        let Value::Object(mut obj) = item else {
            self.wrong(
                path,
                "an object",
                &item,
                "Write the tag as {\"key\": ..., \"value\": ...}.".to_owned(),
            );
            return None;
        };
        let names: Vec<String> = obj.keys().cloned().collect();
        let present: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        for k in &names {
            if k != "key" && k != "value" {
                self.unknown(&format!("{path}.{k}"), k, &["key", "value"], &present);
                obj.remove(k);
            }
        }
        let mut ok = true;
        for field in ["key", "value"] {
            let fpath = format!("{path}.{field}");
            match obj.get(field) {
                Some(Value::String(_)) => {}
                None if field == "value" => {}
                None => {
                    self.out.push(
                        Finding::new(Code::ReqMissingField, &fpath, "the tag has no `key`")
                            .with_fix("Add `key`."),
                    );
                    ok = false;
                }
                Some(other) => {
                    let other = other.clone();
                    self.wrong(
                        &fpath,
                        "a string",
                        &other,
                        "Write it as a JSON string.".to_owned(),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(Value::Object(obj))
    }

    fn wrong(&mut self, path: &str, want: &str, got: &Value, fix: String) {
        self.out.push(
            Finding::new(
                Code::JsonWrongType,
                path,
                format!("expected {want}, found {}", type_name(got)),
            )
            .with_fix(fix),
        );
        self.reported.insert(path.to_owned());
    }

    /// `present` is a set because a body may hold tens of thousands of
    /// unknown keys, each checked against it.
    fn unknown(&mut self, path: &str, key: &str, known: &[&str], present: &BTreeSet<&str>) {
        let msg = format!("{} is not a field of the request", ticked(key));
        let f = Finding::new(Code::JsonUnknownField, path, msg);
        let f = match closest_field(key, known) {
            Some(s) if present.contains(s) => f.with_fix(format!(
                "Did you mean `{s}`? It is already present; remove {}.",
                ticked(key)
            )),
            Some(s) => f.with_fix(format!(
                "Did you mean `{s}`? Rename {} to `{s}`.",
                ticked(key)
            )),
            None => f.with_fix(format!(
                "Remove {}; the request's fields are: {}.",
                ticked(key),
                known.join(", ")
            )),
        };
        self.out.push(f);
    }

    /// Maps a path of the cleaned request back to the file's element indexes.
    fn original_path(&self, path: &str) -> String {
        for (prefix, index) in [
            ("$.tags[", &self.tags_index),
            ("$.image_tags[", &self.image_tags_index),
        ] {
            if let Some(rest) = path.strip_prefix(prefix) {
                if let Some((n, tail)) = rest.split_once(']') {
                    if let Some(orig) = n.parse::<usize>().ok().and_then(|n| index.get(n)) {
                        return format!("{prefix}{orig}]{tail}");
                    }
                }
            }
        }
        path.to_owned()
    }
}

/// Folds case and separators so `osVersion`, `os-version` and `os_version` meet.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// How much of an unknown key is compared with the known field names.
const MAX_COMPARED_KEY_CHARS: usize = 64;

/// The known field most like `key`, if any is close enough.
pub fn closest_field<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    // Field names are short; comparing only the start of a long key keeps the
    // quadratic edit distance cheap whatever the file holds.
    let k: String = fold(key).chars().take(MAX_COMPARED_KEY_CHARS).collect();
    let mut best: Option<(f64, &'a str)> = None;
    for &cand in known {
        let c = fold(cand);
        let score = if k == c {
            1.0
        } else if (k.len() >= 4 && c.contains(&k)) || (c.len() >= 4 && k.contains(&c)) {
            0.9
        } else {
            strsim::jaro_winkler(&k, &c).max(strsim::normalized_damerau_levenshtein(&k, &c))
        };
        if score >= 0.75 && best.map_or(true, |(b, _)| score > b) {
            best = Some((score, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// The top-level keys in file order, duplicates included (a generic JSON
/// value keeps only the last of duplicated keys).
struct TopKeys(Vec<String>);

impl<'de> Deserialize<'de> for TopKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<TopKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, IgnoredAny)) = m.next_entry::<String, IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(TopKeys(keys))
            }
        }
        d.deserialize_map(V)
    }
}
