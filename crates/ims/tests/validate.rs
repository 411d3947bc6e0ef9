//! Table-driven tests of every request rule, at each boundary.

use imsprep_ims::{validate, Finding, ImageRequest, ImageTag, Severity};

/// The system-disk example of the API reference.
const API_EXAMPLE: &str = r#"{
  "name": "ims_test_file",
  "description": "Create an image using a file in the OBS bucket.",
  "image_url": "ims-image:centos70.zvhd2",
  "os_version": "CentOS 7.0 64bit",
  "min_disk": 40,
  "type": "ECS",
  "tags": ["aaa.111", "bbb.333", "ccc.444"]
}"#;

fn example() -> ImageRequest {
    serde_json::from_str(API_EXAMPLE).unwrap_or_default()
}

fn ids(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.code.id()).collect()
}

fn not_info(f: &[Finding]) -> Vec<(&'static str, String)> {
    f.iter()
        .filter(|f| f.severity != Severity::Info)
        .map(|f| (f.code.id(), f.path.clone()))
        .collect()
}

/// Applies `edit` to the example and compares the non-info findings with `want`.
fn case(label: &str, edit: impl FnOnce(&mut ImageRequest), want: &[(&str, &str)]) {
    let mut r = example();
    edit(&mut r);
    let got = not_info(&validate(&r));
    let want: Vec<(&str, String)> = want.iter().map(|(c, p)| (*c, (*p).to_owned())).collect();
    assert_eq!(got, want, "case {label}: {r:?}");
}

#[test]
fn api_example_passes() {
    let r = example();
    assert_eq!(r.name.as_deref(), Some("ims_test_file"));
    assert_eq!(r.tags.len(), 3);
    assert!(validate(&r).is_empty(), "{:?}", validate(&r));
    assert!(imsprep_ims::lint_json(API_EXAMPLE).is_empty());
}

#[test]
fn names() {
    let n = |s: String| move |r: &mut ImageRequest| r.name = Some(s);
    case("empty", n(String::new()), &[("REQ-NAME-LENGTH", "$.name")]);
    case("1", n("a".into()), &[]);
    case("128", n("a".repeat(128)), &[]);
    case("129", n("a".repeat(129)), &[("REQ-NAME-LENGTH", "$.name")]);
    case(
        "128 cjk",
        n("镜".repeat(128)),
        &[("REQ-NAME-CJK", "$.name")],
    );
    case("all allowed", n("Web 01-a_b.c".into()), &[]);
    case(
        "leading space",
        n(" web".into()),
        &[("REQ-NAME-SPACE-EDGE", "$.name")],
    );
    case(
        "trailing space",
        n("web ".into()),
        &[("REQ-NAME-SPACE-EDGE", "$.name")],
    );
    case("slash", n("a/b".into()), &[("REQ-NAME-CHARS", "$.name")]);
    case("accent", n("café".into()), &[("REQ-NAME-CHARS", "$.name")]);
    case("tab", n("a\tb".into()), &[("REQ-NAME-CHARS", "$.name")]);
    case("cjk", n("测试镜像".into()), &[("REQ-NAME-CJK", "$.name")]);
    case(
        "several at once",
        n(format!(" {}!", "a".repeat(130))),
        &[
            ("REQ-NAME-LENGTH", "$.name"),
            ("REQ-NAME-CHARS", "$.name"),
            ("REQ-NAME-SPACE-EDGE", "$.name"),
        ],
    );
}

#[test]
fn space_edge_fix_shows_trimmed_name() {
    let mut r = example();
    r.name = Some("  web ".into());
    let f = validate(&r);
    assert!(f.iter().any(|f| f.fix.contains("\"web\"")), "{f:?}");
}

#[test]
fn descriptions() {
    let d = |s: String| move |r: &mut ImageRequest| r.description = Some(s);
    case("empty", d(String::new()), &[]);
    case("1024", d("x".repeat(1024)), &[]);
    case("1024 cjk", d("描".repeat(1024)), &[]);
    case(
        "1025",
        d("x".repeat(1025)),
        &[("REQ-DESCRIPTION-LENGTH", "$.description")],
    );
    case(
        "cr",
        d("a\rb".into()),
        &[("REQ-DESCRIPTION-CHARS", "$.description")],
    );
    case(
        "lf",
        d("a\nb".into()),
        &[("REQ-DESCRIPTION-CHARS", "$.description")],
    );
    case(
        "angle",
        d("<b>".into()),
        &[("REQ-DESCRIPTION-CHARS", "$.description")],
    );
    case("other punctuation", d("a & b; (c) \"d\"".into()), &[]);
}

#[test]
fn tags() {
    let t = |v: Vec<String>| move |r: &mut ImageRequest| r.tags = v;
    let one = |s: String| t(vec![s]);
    case("none", t(vec![]), &[]);
    case("key 36", one(format!("{}.v", "k".repeat(36))), &[]);
    case(
        "key 37",
        one(format!("{}.v", "k".repeat(37))),
        &[("REQ-TAG-KEY", "$.tags[0]")],
    );
    case(
        "key empty",
        one(".v".into()),
        &[("REQ-TAG-KEY", "$.tags[0]")],
    );
    case("value 43", one(format!("k.{}", "v".repeat(43))), &[]);
    case(
        "value 44",
        one(format!("k.{}", "v".repeat(44))),
        &[("REQ-TAG-VALUE", "$.tags[0]")],
    );
    case("value empty", one("k.".into()), &[]);
    case(
        "no dot",
        one("kv".into()),
        &[("REQ-TAG-FORMAT", "$.tags[0]")],
    );
    case(
        "key chars",
        one("a b.v".into()),
        &[("REQ-TAG-KEY", "$.tags[0]")],
    );
    case(
        "key cjk",
        one("键.v".into()),
        &[("REQ-TAG-KEY", "$.tags[0]")],
    );
    case("key dash underscore", one("a-b_C9.v".into()), &[]);
    case(
        "value second dot",
        one("k.1.2".into()),
        &[("REQ-TAG-VALUE-EXTENDED", "$.tags[0]")],
    );
    case(
        "value cjk",
        one("k.值".into()),
        &[("REQ-TAG-VALUE-EXTENDED", "$.tags[0]")],
    );
    case(
        "value space",
        one("k.a b".into()),
        &[("REQ-TAG-VALUE", "$.tags[0]")],
    );
    case(
        "duplicate",
        t(vec!["a.1".into(), "b.2".into(), "a.3".into()]),
        &[("REQ-TAG-DUPLICATE", "$.tags[2]")],
    );
    case(
        "case differs is not duplicate",
        t(vec!["a.1".into(), "A.1".into()]),
        &[],
    );
}

#[test]
fn image_tags() {
    let it = |v: Vec<(&'static str, &'static str)>| {
        move |r: &mut ImageRequest| {
            r.tags.clear();
            r.image_tags = v
                .into_iter()
                .map(|(k, v)| ImageTag {
                    key: k.into(),
                    value: v.into(),
                })
                .collect();
        }
    };
    case("plain", it(vec![("env", "prod"), ("team", "")]), &[]);
    case(
        "key 37",
        it(vec![("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", "v")]),
        &[("REQ-TAG-KEY", "$.image_tags[0].key")],
    );
    case(
        "value bad",
        it(vec![("k", "a/b")]),
        &[("REQ-TAG-VALUE", "$.image_tags[0].value")],
    );
    case(
        "dup",
        it(vec![("k", "1"), ("k", "2")]),
        &[("REQ-TAG-DUPLICATE", "$.image_tags[1]")],
    );
    case(
        "dup after trim",
        it(vec![("k", "1"), (" k ", "2")]),
        &[("REQ-TAG-DUPLICATE", "$.image_tags[1]")],
    );
    let mut r = example();
    it(vec![(" k", "v ")])(&mut r);
    let f = validate(&r);
    assert_eq!(ids(&f), ["REQ-TAG-TRIMMED", "REQ-TAG-TRIMMED"]);
    assert_eq!(f[0].path, "$.image_tags[0].key");
    assert_eq!(f[1].path, "$.image_tags[0].value");
    assert!(f.iter().all(|f| f.severity == Severity::Info));
}

#[test]
fn tags_and_image_tags_never_both() {
    let mut r = example();
    r.image_tags = vec![ImageTag {
        key: "aaa".into(),
        value: "9".into(),
    }];
    let got = not_info(&validate(&r));
    assert_eq!(
        got,
        vec![
            ("REQ-TAG-DUPLICATE", "$.image_tags[0]".to_owned()),
            ("REQ-TAGS-BOTH", "$.image_tags".to_owned()),
        ]
    );
}

#[test]
fn type_and_os_combinations() {
    let s = |v: &str| Some(v.to_owned());
    let cv = s("CentOS 7.0 64bit");
    #[allow(clippy::type_complexity)]
    let table: Vec<(Option<String>, Option<String>, Option<String>, Vec<&str>)> = vec![
        (None, cv.clone(), None, vec![]),
        (s("ECS"), cv.clone(), None, vec![]),
        (s("BMS"), cv.clone(), None, vec![]),
        (s("ECS"), None, None, vec!["REQ-OS-VERSION-MISSING"]),
        (None, None, None, vec!["REQ-OS-VERSION-MISSING"]),
        (s("BMS"), s(" "), None, vec!["REQ-OS-VERSION-MISSING"]),
        (
            s("ECS"),
            cv.clone(),
            s("Linux"),
            vec!["REQ-OS-TYPE-ON-SYSTEM"],
        ),
        (
            None,
            None,
            s("Linux"),
            vec!["REQ-OS-VERSION-MISSING", "REQ-OS-TYPE-ON-SYSTEM"],
        ),
        (s("DataImage"), None, s("Linux"), vec![]),
        (s("DataImage"), None, s("Windows"), vec![]),
        (
            s("DataImage"),
            cv.clone(),
            s("Linux"),
            vec!["REQ-OS-VERSION-ON-DATA"],
        ),
        (
            s("DataImage"),
            cv.clone(),
            None,
            vec!["REQ-OS-VERSION-ON-DATA", "REQ-OS-TYPE-MISSING"],
        ),
        (s("DataImage"), None, None, vec!["REQ-OS-TYPE-MISSING"]),
        (s("DataImage"), None, s("linux"), vec!["REQ-OS-TYPE"]),
        (s("DataImage"), None, s("Solaris"), vec!["REQ-OS-TYPE"]),
        (s("ecs"), cv.clone(), None, vec!["REQ-TYPE"]),
        (s("IMS"), cv.clone(), None, vec!["REQ-TYPE"]),
    ];
    for (ty, ov, ot, want) in table {
        let mut r = example();
        r.image_type = ty.clone();
        r.os_version = ov.clone();
        r.os_type = ot.clone();
        let got: Vec<&str> = validate(&r)
            .iter()
            .filter(|f| f.is_error())
            .map(|f| f.code.id())
            .collect();
        assert_eq!(got, want, "type {ty:?} os_version {ov:?} os_type {ot:?}");
    }
}

#[test]
fn os_version_missing_maps_to_img_0159() {
    let mut r = example();
    r.os_version = None;
    let f = validate(&r);
    assert_eq!(f[0].code.service_code(), Some("IMG.0159"));
    assert_eq!(f[0].path, "$.os_version");
}

#[test]
fn enum_spelling_fixes() {
    let mut r = example();
    r.image_type = Some("dataimage".into());
    r.architecture = Some("aarch64".into());
    r.hw_firmware_type = Some("UEFI".into());
    let f = validate(&r);
    let fix = |code: &str| {
        f.iter()
            .find(|f| f.code.id() == code)
            .map(|f| f.fix.clone())
            .unwrap_or_default()
    };
    assert!(fix("REQ-TYPE").contains("\"DataImage\""));
    assert!(fix("REQ-ARCHITECTURE").contains("\"arm\""));
    assert!(fix("REQ-FIRMWARE").contains("\"uefi\""));
    let arch = f.iter().find(|f| f.code.id() == "REQ-ARCHITECTURE");
    assert_eq!(arch.and_then(|f| f.code.service_code()), Some("IMG.0212"));
}

#[test]
fn architecture_and_firmware() {
    let set = |a: Option<&'static str>, fw: Option<&'static str>| {
        move |r: &mut ImageRequest| {
            r.architecture = a.map(str::to_owned);
            r.hw_firmware_type = fw.map(str::to_owned);
        }
    };
    case("defaults", set(None, None), &[]);
    case("x86 bios", set(Some("x86"), Some("bios")), &[]);
    case("x86 uefi", set(Some("x86"), Some("uefi")), &[]);
    case("arm", set(Some("arm"), None), &[]);
    case("arm uefi", set(Some("arm"), Some("uefi")), &[]);
    case(
        "arm bios",
        set(Some("arm"), Some("bios")),
        &[("REQ-ARM-BIOS", "$.hw_firmware_type")],
    );
    case(
        "x86_64",
        set(Some("x86_64"), None),
        &[("REQ-ARCHITECTURE", "$.architecture")],
    );
    case(
        "efi",
        set(None, Some("efi")),
        &[("REQ-FIRMWARE", "$.hw_firmware_type")],
    );
}

#[test]
fn license_type() {
    let set = |ty: Option<&'static str>,
               ov: Option<&'static str>,
               ot: Option<&'static str>,
               l: &'static str| {
        move |r: &mut ImageRequest| {
            r.image_type = ty.map(str::to_owned);
            r.os_version = ov.map(str::to_owned);
            r.os_type = ot.map(str::to_owned);
            r.license_type = Some(l.to_owned());
        }
    };
    let win = Some("Windows Server 2016 Standard 64bit");
    case("windows byol", set(None, win, None, "byol"), &[]);
    case("windows platform", set(None, win, None, "platform"), &[]);
    case(
        "windows data",
        set(Some("DataImage"), None, Some("Windows"), "byol"),
        &[],
    );
    case(
        "unknown windows",
        set(
            None,
            Some("Windows Server 2025 Datacenter 64bit"),
            None,
            "byol",
        ),
        &[("OS-VERSION-UNKNOWN", "$.os_version")],
    );
    case(
        "linux",
        set(None, Some("CentOS 7.0 64bit"), None, "byol"),
        &[("REQ-LICENSE-NOT-WINDOWS", "$.license_type")],
    );
    case(
        "linux data",
        set(Some("DataImage"), None, Some("Linux"), "platform"),
        &[("REQ-LICENSE-NOT-WINDOWS", "$.license_type")],
    );
    case(
        "spelling",
        set(None, win, None, "BYOL"),
        &[("REQ-LICENSE-TYPE", "$.license_type")],
    );
}

#[test]
fn image_urls() {
    let u = |s: String| move |r: &mut ImageRequest| r.image_url = Some(s);
    let url_err = [("REQ-IMAGE-URL-FORMAT", "$.image_url")];
    let bucket_err = [("REQ-BUCKET-NAME", "$.image_url")];
    case("bucket 3", u("abc:x.zvhd2".into()), &[]);
    case("bucket 2", u("ab:x.zvhd2".into()), &bucket_err);
    case("bucket 63", u(format!("{}:x.zvhd2", "b".repeat(63))), &[]);
    case(
        "bucket 64",
        u(format!("{}:x.zvhd2", "b".repeat(64))),
        &bucket_err,
    );
    case("ip", u("192.168.1.1:x.zvhd2".into()), &bucket_err);
    case("dotted digits not ip", u("192.168.1:x.zvhd2".into()), &[]);
    case("upper", u("Bucket:x.zvhd2".into()), &bucket_err);
    case("underscore", u("my_bucket:x.zvhd2".into()), &bucket_err);
    case("starts dash", u("-abc:x.zvhd2".into()), &bucket_err);
    case("ends dot", u("abc.:x.zvhd2".into()), &bucket_err);
    case("double dot", u("a..b:x.zvhd2".into()), &bucket_err);
    case("dot dash", u("a.-b:x.zvhd2".into()), &bucket_err);
    case("dash dot", u("a-.b:x.zvhd2".into()), &bucket_err);
    case("dots and dashes", u("my-bucket.v2:x.zvhd2".into()), &[]);
    case("no colon", u("bucket/x.zvhd2".into()), &url_err);
    case("scheme", u("obs://bucket/x.zvhd2".into()), &url_err);
    case("empty bucket", u(":x.zvhd2".into()), &url_err);
    case("empty object", u("bucket:".into()), &url_err);
    case("folder", u("bucket:dir/".into()), &url_err);
    case("folders", u("bucket:a/b/x.RAW".into()), &[]);
    case(
        "space in file",
        u("bucket:my image.zvhd2".into()),
        &[("REQ-OBJECT-SPACE", "$.image_url")],
    );
    case(
        "space in folder",
        u("bucket:my dir/x.zvhd2".into()),
        &[("REQ-OBJECT-SPACE", "$.image_url")],
    );
    case(
        "qcow2 object",
        u("bucket:x.qcow2".into()),
        &[("REQ-OBJECT-EXTENSION", "$.image_url")],
    );
}

#[test]
fn image_url_fixes() {
    let mut r = example();
    r.image_url = Some("obs://bucket/dir/x.zvhd2".into());
    let f = validate(&r);
    assert!(f[0].fix.contains("\"bucket:dir/x.zvhd2\""), "{}", f[0].fix);
    r.image_url = Some("bucket:my dir/x.zvhd2".into());
    let f = validate(&r);
    assert_eq!(f[0].code.service_code(), Some("IMG.0175"));
    assert!(f[0].message.contains("\"my dir\""));
    r.image_url = Some("192.168.1.1:x.zvhd2".into());
    assert!(validate(&r)[0].message.contains("IP address"));
}

#[test]
fn min_disk() {
    let m = |v: u32| move |r: &mut ImageRequest| r.min_disk = Some(v);
    case("0", m(0), &[("REQ-MIN-DISK-RANGE", "$.min_disk")]);
    case("1", m(1), &[]);
    case("1024", m(1024), &[]);
    case("1025", m(1025), &[("REQ-MIN-DISK-RANGE", "$.min_disk")]);
    case("max", m(u32::MAX), &[("REQ-MIN-DISK-RANGE", "$.min_disk")]);
}

#[test]
fn enterprise_project() {
    let e = |s: &'static str| move |r: &mut ImageRequest| r.enterprise_project_id = Some(s.into());
    let err = [("REQ-ENTERPRISE-PROJECT", "$.enterprise_project_id")];
    case("0", e("0"), &[]);
    case("uuid", e("0d4d5b3c-6d7a-4f59-9a1e-2f3c4b5a6d7e"), &[]);
    case("upper uuid", e("0D4D5B3C-6D7A-4F59-9A1E-2F3C4B5A6D7E"), &[]);
    case("no dashes", e("0d4d5b3c6d7a4f599a1e2f3c4b5a6d7e"), &err);
    case("short", e("0d4d5b3c-6d7a-4f59-9a1e-2f3c4b5a6d7"), &err);
    case("not hex", e("0d4d5b3c-6d7a-4f59-9a1e-2f3c4b5a6dzz"), &err);
    case("default", e("default"), &err);
    case("empty", e(""), &err);
}

#[test]
fn empty_request_lists_every_missing_field() {
    let f = validate(&ImageRequest::default());
    let got: Vec<(&str, &str)> = f.iter().map(|f| (f.code.id(), f.path.as_str())).collect();
    assert_eq!(
        got,
        [
            ("REQ-MISSING-FIELD", "$.name"),
            ("REQ-MISSING-FIELD", "$.image_url"),
            ("REQ-OS-VERSION-MISSING", "$.os_version"),
            ("REQ-MISSING-FIELD", "$.min_disk"),
        ]
    );
}

#[test]
fn all_findings_at_once() {
    let r = ImageRequest {
        name: Some(" bad/name".into()),
        description: Some("<x>".into()),
        image_url: Some("Bad Bucket:my file.qcow2".into()),
        os_version: Some("CentOS 6.5 32bit".into()),
        os_type: Some("Linux".into()),
        min_disk: Some(0),
        image_type: Some("ECS".into()),
        architecture: Some("arm".into()),
        hw_firmware_type: Some("bios".into()),
        license_type: Some("byol".into()),
        enterprise_project_id: Some("x".into()),
        tags: vec!["nodot".into()],
        image_tags: vec![ImageTag {
            key: "k".into(),
            value: "v".into(),
        }],
    };
    let got = ids(&validate(&r));
    for want in [
        "REQ-NAME-CHARS",
        "REQ-NAME-SPACE-EDGE",
        "REQ-DESCRIPTION-CHARS",
        "REQ-BUCKET-NAME",
        "REQ-OBJECT-SPACE",
        "REQ-OBJECT-EXTENSION",
        "OS-32BIT",
        "REQ-OS-TYPE-ON-SYSTEM",
        "REQ-MIN-DISK-RANGE",
        "REQ-ARM-BIOS",
        "REQ-LICENSE-NOT-WINDOWS",
        "REQ-ENTERPRISE-PROJECT",
        "REQ-TAG-FORMAT",
        "REQ-TAGS-BOTH",
    ] {
        assert!(got.contains(&want), "{want} missing from {got:?}");
    }
}

#[test]
fn os_version_findings_come_through_validate() {
    let mut r = example();
    r.os_version = Some("centos 7.0 64bit".into());
    let f = validate(&r);
    assert_eq!(ids(&f), ["OS-VERSION-CASE"]);
    assert!(f[0].fix.contains("\"CentOS 7.0 64bit\""));
    r.os_version = Some("Windows Server 2019 Datacenter 64bit".into());
    let f = validate(&r);
    assert!(ids(&f).contains(&"OS-WINDOWS"));
}
