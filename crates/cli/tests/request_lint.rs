//! `imsprep request` (a body built from flags) and `imsprep lint` (a body
//! checked against the service's rules).

mod common;

use std::fs;

use common::*;

/// The example body of the API reference.
const API_EXAMPLE: &str = r#"{
  "name": "ims_test_file",
  "description": "Create an image using a file in the OBS bucket.",
  "image_url": "ims-image:centos70.zvhd2",
  "os_version": "CentOS 7.0 64bit",
  "min_disk": 40,
  "type": "ECS",
  "tags": ["aaa.111", "bbb.333", "ccc.444"]
}
"#;

#[test]
fn request_fills_min_disk_from_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("data.raw");
    // 1.5 GiB: the disk needs 2 GiB.
    sparse_file(&raw, 3 << 29, &[(0, MIB)], 2);
    let out = imsprep()
        .args(["request", "--name", "data-1", "--os-type", "Linux"])
        .args([
            "--image-url",
            "my-bucket:disks/data.raw",
            "--image",
            s(&raw),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    let body = json(&out.stdout);
    assert_eq!(body["min_disk"], 2);
    assert_eq!(body["name"], "data-1");
    assert_eq!(body["image_url"], "my-bucket:disks/data.raw");
    assert_eq!(body["os_type"], "Linux");
    assert_eq!(body["type"], "DataImage");
    assert!(body.get("os_version").is_none());
    // The RAW needs its bitmap: a warning, on stderr, so stdout stays a body.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("IMAGE-RAW-NEEDS-BITMAP"), "{stderr}");

    // A min_disk below the image's disk is an error, and no body is printed.
    let out = imsprep()
        .args(["request", "--name", "data-1", "--os-type", "Linux"])
        .args(["--image-url", "my-bucket:data.raw", "--image", s(&raw)])
        .args(["--min-disk", "1"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("IMAGE-MIN-DISK-SMALL"), "{stderr}");
}

#[test]
fn request_from_flags_alone() {
    let out = imsprep()
        .args(["request", "--name", "web", "--os-version", OS_VERSION])
        .args(["--image-url", "my-bucket:web.zvhd2", "--min-disk", "40"])
        .args(["--tag", "team=web", "--description", "front end"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    let body = json(&out.stdout);
    assert_eq!(body["min_disk"], 40);
    assert_eq!(body["os_version"], OS_VERSION);
    assert_eq!(body["type"], "ECS");
    assert_eq!(body["description"], "front end");
    // What request prints, lint accepts.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.json");
    fs::write(&file, &out.stdout).unwrap();
    imsprep().args(["lint", s(&file)]).assert().code(0);

    // Neither --min-disk nor --image: a usage error.
    imsprep()
        .args(["request", "--name", "web", "--os-version", OS_VERSION])
        .args(["--image-url", "my-bucket:web.zvhd2"])
        .assert()
        .code(2);
    // A name the service refuses: exit 1, nothing on stdout.
    let out = imsprep()
        .args(["request", "--name", "web<1>", "--os-version", OS_VERSION])
        .args(["--image-url", "my-bucket:web.zvhd2", "--min-disk", "40"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("REQ-NAME-CHARS"));
}

#[test]
fn lint_accepts_the_api_example() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("example.json");
    fs::write(&file, API_EXAMPLE).unwrap();
    let out = imsprep().args(["lint", s(&file)]).output().unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 errors"));
    let out = imsprep()
        .args(["lint", "--json", s(&file)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(json(&out.stdout), serde_json::json!([]));
    // From standard input too.
    imsprep()
        .args(["lint", "-"])
        .write_stdin(API_EXAMPLE)
        .assert()
        .code(0);
}

#[test]
fn lint_reports_wrong_types_and_unknown_fields() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    fs::write(
        &file,
        r#"{"name": "ims_test_file", "image_url": "ims-image:centos70.zvhd2",
            "os_version": "CentOS 7.0 64bit", "min_disk": "40", "min_disk_gb": 40}"#,
    )
    .unwrap();
    let out = imsprep()
        .args(["lint", "--json", s(&file)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    let findings = json(&out.stdout);
    let list = findings.as_array().expect("a JSON array");
    let find = |code: &str| {
        list.iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("{code} missing: {findings}"))
    };
    let wrong_type = find("JSON-WRONG-TYPE");
    assert_eq!(wrong_type["path"], "$.min_disk");
    assert_eq!(wrong_type["severity"], "error");
    let unknown = find("JSON-UNKNOWN-FIELD");
    assert_eq!(unknown["path"], "$.min_disk_gb");
    assert_eq!(unknown["severity"], "error");
    for f in list {
        assert!(f["message"].is_string() && f["fix"].is_string(), "{f}");
    }

    let out = imsprep().args(["lint", s(&file)]).output().unwrap();
    assert_eq!(code(&out), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("JSON-WRONG-TYPE") && text.contains("min_disk_gb"),
        "{text}"
    );

    // Not JSON at all: a finding, not a crash.
    fs::write(&file, "{\"name\": ").unwrap();
    let out = imsprep()
        .args(["lint", "--json", s(&file)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    assert_eq!(codes(&json(&out.stdout)), ["JSON-SYNTAX"]);
}

#[test]
fn lint_checks_the_body_against_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    fs::write(
        &body,
        r#"{"name": "d", "image_url": "my-bucket:d.zvhd2", "os_type": "Linux",
            "type": "DataImage", "min_disk": 1}"#,
    )
    .unwrap();
    // gib-plus-one has a 2 GiB disk: min_disk 1 is too small.
    let out = imsprep()
        .args([
            "lint",
            "--json",
            s(&body),
            "--image",
            s(&fixture("gib-plus-one.zvhd2")),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    assert!(codes(&json(&out.stdout)).contains(&"IMAGE-MIN-DISK-SMALL".to_string()));
    imsprep()
        .args(["lint", s(&body), "--image", s(&fixture("mixed.zvhd2"))])
        .assert()
        .code(0);
}
