//! Linting request files: typos, wrong JSON types, syntax, and all findings at once.

use imsprep_ims::{lint_json, Finding, Severity};

fn pairs(f: &[Finding]) -> Vec<(&'static str, &str)> {
    f.iter().map(|f| (f.code.id(), f.path.as_str())).collect()
}

fn find<'a>(f: &'a [Finding], code: &str, path: &str) -> &'a Finding {
    f.iter()
        .find(|f| f.code.id() == code && f.path == path)
        .unwrap_or_else(|| panic!("no {code} at {path} in {f:#?}"))
}

const BASE: &str =
    r#""name": "web", "image_url": "bkt:web.zvhd2", "os_version": "CentOS 7.0 64bit""#;

fn body(extra: &str) -> String {
    format!("{{{BASE}, {extra}}}")
}

#[test]
fn clean_file_has_no_findings() {
    assert!(lint_json(&body(r#""min_disk": 40"#)).is_empty());
}

#[test]
fn typo_fields_suggest_the_right_name() {
    let table = [
        (r#""min_disk_gb": 40"#, "$.min_disk_gb", "`min_disk`"),
        (
            r#""min_disk": 40, "osVersion": "x""#,
            "$.osVersion",
            "`os_version`",
        ),
        (
            r#""min_disk": 40, "imageUrl": "x""#,
            "$.imageUrl",
            "`image_url`",
        ),
        (
            r#""min_disk": 40, "firmware": "uefi""#,
            "$.firmware",
            "`hw_firmware_type`",
        ),
        (
            r#""min_disk": 40, "arch": "arm""#,
            "$.arch",
            "`architecture`",
        ),
        (r#""min_disk": 40, "tag": ["a.b"]"#, "$.tag", "`tags`"),
        (
            r#""min_disk": 40, "descripton": "d""#,
            "$.descripton",
            "`description`",
        ),
        (
            r#""min_disk": 40, "project_id": "0""#,
            "$.project_id",
            "`enterprise_project_id`",
        ),
    ];
    for (extra, path, suggestion) in table {
        let f = lint_json(&body(extra));
        let u = find(&f, "JSON-UNKNOWN-FIELD", path);
        assert!(u.fix.contains(suggestion), "{path}: {}", u.fix);
        assert_eq!(u.severity, Severity::Error);
    }
}

#[test]
fn typo_of_required_field_also_reports_it_missing() {
    let f = lint_json(&body(r#""min_disk_gb": 40"#));
    assert_eq!(
        pairs(&f),
        [
            ("JSON-UNKNOWN-FIELD", "$.min_disk_gb"),
            ("REQ-MISSING-FIELD", "$.min_disk")
        ]
    );
}

#[test]
fn unknown_field_without_close_match_lists_fields() {
    let f = lint_json(&body(r#""min_disk": 40, "zzz": 1"#));
    let u = find(&f, "JSON-UNKNOWN-FIELD", "$.zzz");
    assert!(u.fix.contains("image_url"), "{}", u.fix);
}

#[test]
fn megabyte_key_is_compared_by_its_start() {
    let key = format!("minDiskGb{}", "q".repeat(1 << 20));
    let f = lint_json(&body(&format!(r#""min_disk": 40, "{key}": 1"#)));
    let u = find(&f, "JSON-UNKNOWN-FIELD", &format!("$.{key}"));
    assert!(u.fix.contains("`min_disk`"), "{}", u.fix);
    assert!(u.message.contains("(1048585 characters)"), "{}", u.message);
    assert!(u.fix.len() < 300, "{}", u.fix);
}

#[test]
fn typo_next_to_the_real_field() {
    let f = lint_json(&body(r#""min_disk": 40, "min_disk_gb": 40"#));
    let u = find(&f, "JSON-UNKNOWN-FIELD", "$.min_disk_gb");
    assert!(u.fix.contains("already present"), "{}", u.fix);
}

#[test]
fn wrong_types() {
    let table = [
        (r#""min_disk": "40""#, "$.min_disk", Some("40")),
        (r#""min_disk": 40.5"#, "$.min_disk", None),
        (r#""min_disk": true"#, "$.min_disk", None),
        (
            r#""min_disk": 40, "tags": "a.b""#,
            "$.tags",
            Some("[\"a.b\"]"),
        ),
        (r#""min_disk": 40, "tags": {"a": "b"}"#, "$.tags", None),
        (
            r#""min_disk": 40, "image_tags": "a.b""#,
            "$.image_tags",
            None,
        ),
        (
            r#""min_disk": 40, "description": 5"#,
            "$.description",
            Some("\"5\""),
        ),
        (r#""min_disk": 40, "type": ["ECS"]"#, "$.type", None),
    ];
    for (extra, path, fix_has) in table {
        let f = lint_json(&body(extra));
        let w = find(&f, "JSON-WRONG-TYPE", path);
        if let Some(s) = fix_has {
            assert!(w.fix.contains(s), "{path}: {}", w.fix);
        }
        // A wrong-typed field is reported once, not again as missing.
        assert!(
            !f.iter()
                .any(|x| x.path == path && x.code.id() != "JSON-WRONG-TYPE"),
            "{f:#?}"
        );
    }
}

#[test]
fn wrong_typed_required_field_is_not_also_missing() {
    let f = lint_json(
        r#"{"name": 123, "image_url": "bkt:x.zvhd2", "os_version": "CentOS 7.0 64bit", "min_disk": "40"}"#,
    );
    assert_eq!(
        pairs(&f),
        [
            ("JSON-WRONG-TYPE", "$.name"),
            ("JSON-WRONG-TYPE", "$.min_disk")
        ]
    );
}

#[test]
fn min_disk_out_of_integer_range() {
    for (v, shown) in [
        ("-5", "-5"),
        ("5000000000", "5000000000"),
        ("0", "0"),
        ("1025", "1025"),
    ] {
        let f = lint_json(&body(&format!(r#""min_disk": {v}"#)));
        assert_eq!(pairs(&f), [("REQ-MIN-DISK-RANGE", "$.min_disk")], "{v}");
        assert!(f[0].message.contains(shown));
    }
}

#[test]
fn tag_elements_keep_their_file_index() {
    let f = lint_json(&body(
        r#""min_disk": 40, "tags": ["a.b", 5, "c d.x", "a.c"]"#,
    ));
    assert_eq!(
        pairs(&f),
        [
            ("JSON-WRONG-TYPE", "$.tags[1]"),
            ("REQ-TAG-KEY", "$.tags[2]"),
            ("REQ-TAG-DUPLICATE", "$.tags[3]"),
        ]
    );
}

#[test]
fn image_tag_objects() {
    let f = lint_json(&body(
        r#""min_disk": 40, "image_tags": [{"key": "a", "valeu": "b"}, {"value": "x"}, 7, {"key": 1}, {"key": "b c"}]"#,
    ));
    assert_eq!(
        pairs(&f),
        [
            ("JSON-UNKNOWN-FIELD", "$.image_tags[0].valeu"),
            ("REQ-MISSING-FIELD", "$.image_tags[1].key"),
            ("JSON-WRONG-TYPE", "$.image_tags[2]"),
            ("JSON-WRONG-TYPE", "$.image_tags[3].key"),
            ("REQ-TAG-KEY", "$.image_tags[4].key"),
        ]
    );
    assert!(f[0].fix.contains("`value`"));
}

#[test]
fn syntax_error_has_line_and_column() {
    let f = lint_json("{\n  \"name\": \"x\",\n}\n");
    assert_eq!(pairs(&f), [("JSON-SYNTAX", "$")]);
    assert!(
        f[0].message.starts_with("line 3, column 1"),
        "{}",
        f[0].message
    );
    let f = lint_json("");
    assert_eq!(pairs(&f), [("JSON-SYNTAX", "$")]);
    let f = lint_json("{\"name\": \"x\"} trailing");
    assert_eq!(pairs(&f), [("JSON-SYNTAX", "$")]);
}

#[test]
fn byte_order_mark_is_ignored() {
    assert!(lint_json(&format!("\u{feff}{}", body(r#""min_disk": 40"#))).is_empty());
}

#[test]
fn top_level_must_be_an_object() {
    for text in ["[]", "\"x\"", "42", "null"] {
        assert_eq!(
            pairs(&lint_json(text)),
            [("JSON-NOT-OBJECT", "$")],
            "{text}"
        );
    }
}

#[test]
fn nulls_and_duplicates() {
    let f = lint_json(&body(r#""min_disk": 40, "description": null"#));
    assert_eq!(pairs(&f), [("JSON-NULL", "$.description")]);
    assert_eq!(f[0].severity, Severity::Warning);
    let f = lint_json(&body(r#""min_disk": 40, "min_disk": 50"#));
    assert_eq!(pairs(&f), [("JSON-DUPLICATE-KEY", "$.min_disk")]);
}

#[test]
fn everything_reported_in_one_pass() {
    let text = r#"{
        "name": " web",
        "image_url": "Bucket:my image.zvhd2",
        "osVersion": "CentOS 7.0 64bit",
        "min_disk": "40",
        "architecture": "amd64",
        "tags": ["env.prod", "env.test"]
    }"#;
    let f = lint_json(text);
    assert_eq!(
        pairs(&f),
        [
            ("JSON-UNKNOWN-FIELD", "$.osVersion"),
            ("JSON-WRONG-TYPE", "$.min_disk"),
            ("REQ-NAME-SPACE-EDGE", "$.name"),
            ("REQ-BUCKET-NAME", "$.image_url"),
            ("REQ-OBJECT-SPACE", "$.image_url"),
            ("REQ-OS-VERSION-MISSING", "$.os_version"),
            ("REQ-ARCHITECTURE", "$.architecture"),
            ("REQ-TAG-DUPLICATE", "$.tags[1]"),
        ]
    );
}

#[test]
fn data_image_file() {
    let f = lint_json(
        r#"{"name": "data", "image_url": "bkt:data.raw", "min_disk": 100, "type": "DataImage", "os_type": "Linux"}"#,
    );
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn never_panics_on_odd_input() {
    for text in [
        "{\"tags\": [[], {}, null]}",
        "{\"image_tags\": [null, [], {\"key\": null}]}",
        "{\"min_disk\": 1e400}",
        "{\"min_disk\": -0}",
        "{\"\": 1}",
        "{\"name\": \"\\u0000\"}",
    ] {
        let _ = lint_json(text);
    }
}

#[test]
fn tens_of_thousands_of_tags_still_find_the_duplicate() {
    let mut tags: Vec<String> = (0..50_000).map(|i| format!("\"k{i}.v\"")).collect();
    tags.push("\"k7.x\"".to_owned());
    let f = lint_json(&body(&format!(
        r#""min_disk": 40, "tags": [{}]"#,
        tags.join(",")
    )));
    let d = find(&f, "REQ-TAG-DUPLICATE", "$.tags[50000]");
    assert!(d.message.contains("$.tags[7]"), "{}", d.message);
    assert_eq!(f.len(), 1, "{f:#?}");
}

#[test]
fn ten_thousand_unknown_keys_each_get_their_fix() {
    let keys: Vec<String> = (0..10_000).map(|i| format!("\"min_disk{i}\": 1")).collect();
    let f = lint_json(&body(&format!(r#""min_disk": 40, {}"#, keys.join(","))));
    assert_eq!(f.len(), 10_000);
    let u = find(&f, "JSON-UNKNOWN-FIELD", "$.min_disk9999");
    assert!(u.fix.contains("already present"), "{}", u.fix);
}

#[test]
fn fixes_copy_a_value_only_when_it_is_short() {
    let long = "k".repeat(100_000);
    let f = lint_json(&body(&format!(
        r#""min_disk": 40, "tags": ["{long}", "env"]"#
    )));
    let long_fix = &find(&f, "REQ-TAG-FORMAT", "$.tags[0]").fix;
    assert!(long_fix.contains("\"KEY.VALUE\""), "{long_fix}");
    assert!(long_fix.len() < 200, "{long_fix}");
    let short_fix = &find(&f, "REQ-TAG-FORMAT", "$.tags[1]").fix;
    assert!(short_fix.contains("\"env.VALUE\""), "{short_fix}");

    let f = lint_json(&format!(
        r#"{{"name": "web", "image_url": "bkt/{long}", "os_version": "CentOS 7.0 64bit", "min_disk": 40, "tags": "{long}.v"}}"#
    ));
    let url_fix = &find(&f, "REQ-IMAGE-URL-FORMAT", "$.image_url").fix;
    assert!(url_fix.len() < 200, "{url_fix}");
    let tags_fix = &find(&f, "JSON-WRONG-TYPE", "$.tags").fix;
    assert!(tags_fix.len() < 200, "{tags_fix}");
    let f = lint_json(&body(r#""min_disk": 40, "tags": "env.prod""#));
    let tags_fix = &find(&f, "JSON-WRONG-TYPE", "$.tags").fix;
    assert!(tags_fix.contains(r#"["env.prod"]"#), "{tags_fix}");
}
