//! Hives written by hivex (`hivexsh -w`): every value type, deep keys, a
//! key with 1,000 subkeys, Unicode names, case-insensitive lookup and a
//! SYSTEM-like layout. The inputs given to hivexsh are the reference; the
//! subkey order is checked against hivexsh's own `ls`.

mod common;

use imsprep_regf::{walk_all, Hive, HiveState, RegfError, ValueData, ValueType};

/// "hex:<type>:" argument for a UTF-16LE encoding of `s`.
fn utf16_hex(s: &str) -> String {
    s.encode_utf16()
        .flat_map(u16::to_le_bytes)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// hivexml's dump of a hive.
fn hivexml(dir: &std::path::Path, hive: &[u8]) -> String {
    let path = dir.join("xml-hive");
    std::fs::write(&path, hive).unwrap();
    let out = std::process::Command::new("hivexml")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Seconds since 1970 of an ISO 8601 UTC time "YYYY-MM-DDTHH:MM:SSZ".
fn iso_to_unix(s: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from civil (proleptic Gregorian).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

fn big_pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn every_value_type() {
    let dir = tempfile::tempdir().unwrap();
    let big = big_pattern(40_000);
    let script = format!(
        "add Types\ncd Types\nsetval 15\n\
         @\nstring:default value\n\
         none\nnone\n\
         sz\nstring:Hello, world\n\
         expand\nexpandstring:%SystemRoot%\\System32\\drivers\\viostor.sys\n\
         bin\nhex:3:de,ad,be,ef,01\n\
         dw\ndword:0x12345678\n\
         dwbe\nhex:5:12,34,56,78\n\
         link\nhex:6:{link}\n\
         multi\nhex:7:{multi}\n\
         res\nhex:8:01,02,03\n\
         full\nhex:9:04,05\n\
         req\nhex:10:06\n\
         qw\nhex:11:ef,cd,ab,89,67,45,23,01\n\
         odd\nhex:17185:aa,bb\n\
         short\nhex:3:01,02\n",
        link = utf16_hex("\\Registry\\Machine\\System\\ControlSet001"),
        multi = utf16_hex("SCSI miniport\0Boot Bus Extender\0\0"),
    );
    let bytes = common::build(dir.path(), &script);
    let bytes = common::hivex_set_value(dir.path(), &bytes, "Types", "big", 3, &big);
    let hive = Hive::open(bytes).unwrap();
    assert_eq!(hive.state(), HiveState::Clean);
    let key = hive.key("Types").unwrap().unwrap();
    assert_eq!(key.value_count(), 16);
    let v = |name: &str| hive.value(&key, name).unwrap().unwrap();

    assert_eq!(v("").as_string().unwrap(), "default value");
    assert_eq!(v("none").value_type(), ValueType::NONE);
    assert_eq!(v("none").decoded().unwrap(), ValueData::None(vec![]));
    assert_eq!(v("sz").as_string().unwrap(), "Hello, world");
    assert_eq!(
        v("expand").decoded().unwrap(),
        ValueData::ExpandString("%SystemRoot%\\System32\\drivers\\viostor.sys".into())
    );
    assert_eq!(
        v("bin").decoded().unwrap(),
        ValueData::Binary(vec![0xde, 0xad, 0xbe, 0xef, 0x01])
    );
    assert_eq!(v("dw").as_dword().unwrap(), 0x1234_5678);
    assert_eq!(v("dwbe").value_type(), ValueType::DWORD_BIG_ENDIAN);
    assert_eq!(v("dwbe").as_dword().unwrap(), 0x1234_5678);
    assert_eq!(
        v("link").decoded().unwrap(),
        ValueData::Link("\\Registry\\Machine\\System\\ControlSet001".into())
    );
    assert_eq!(
        v("multi").as_multi_string().unwrap(),
        vec!["SCSI miniport".to_string(), "Boot Bus Extender".to_string()]
    );
    assert_eq!(
        v("res").decoded().unwrap(),
        ValueData::Raw(ValueType::RESOURCE_LIST, vec![1, 2, 3])
    );
    assert_eq!(
        v("full").decoded().unwrap(),
        ValueData::Raw(ValueType::FULL_RESOURCE_DESCRIPTOR, vec![4, 5])
    );
    assert_eq!(
        v("req").decoded().unwrap(),
        ValueData::Raw(ValueType::RESOURCE_REQUIREMENTS_LIST, vec![6])
    );
    assert_eq!(v("qw").as_qword().unwrap(), 0x0123_4567_89ab_cdef);
    assert_eq!(v("dw").as_qword().unwrap(), 0x1234_5678, "a DWORD widens");
    assert_eq!(
        v("odd").decoded().unwrap(),
        ValueData::Raw(ValueType(17185), vec![0xaa, 0xbb])
    );
    assert_eq!(v("big").data_len(), 40_000);
    assert_eq!(v("big").data().unwrap().as_ref(), big.as_slice());
    assert_eq!(v("short").data().unwrap().as_ref(), &[1, 2]);

    // Asking for the wrong type is a typed error naming the value.
    match v("sz").as_dword() {
        Err(RegfError::WrongType {
            name,
            expected,
            found,
        }) => {
            assert_eq!(name, "sz");
            assert_eq!(expected, "REG_DWORD");
            assert_eq!(found, ValueType::SZ);
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    assert!(hive.value(&key, "absent").unwrap().is_none());

    let stats = walk_all(&hive).unwrap();
    assert_eq!(stats.keys, 2);
    assert_eq!(stats.values, 16);
}

#[test]
fn strings_agree_with_hivexget() {
    let dir = tempfile::tempdir().unwrap();
    let script = "add Svc\ncd Svc\nsetval 2\nImagePath\nexpandstring:\\SystemRoot\\System32\\drivers\\netkvm.sys\nStart\ndword:3\n";
    let bytes = common::build(dir.path(), script);
    let path = dir.path().join("get-hive");
    std::fs::write(&path, &bytes).unwrap();
    let out = std::process::Command::new("hivexget")
        .arg(&path)
        .arg("Svc")
        .arg("ImagePath")
        .output()
        .unwrap();
    assert!(out.status.success());
    let expected = String::from_utf8(out.stdout).unwrap();
    let hive = Hive::open(bytes).unwrap();
    let key = hive.key("svc").unwrap().unwrap();
    let image = hive.value(&key, "imagepath").unwrap().unwrap();
    assert_eq!(image.as_string().unwrap(), expected.trim_end_matches('\n'));
}

#[test]
fn deep_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut script = String::new();
    let mut path = Vec::new();
    for i in 0..80 {
        script += &format!("add Level{i}\ncd Level{i}\n");
        path.push(format!("level{i}"));
    }
    script += "setval 1\nDepth\ndword:80\n";
    let hive = Hive::open(common::build(dir.path(), &script)).unwrap();
    let deepest = hive.key(&path.join("\\")).unwrap().unwrap();
    assert_eq!(deepest.name(), "Level79");
    assert_eq!(
        hive.value(&deepest, "depth")
            .unwrap()
            .unwrap()
            .as_dword()
            .unwrap(),
        80
    );
    // Leading, trailing and doubled backslashes are ignored.
    let again = hive
        .key(&format!("\\{}\\", path.join("\\\\")))
        .unwrap()
        .unwrap();
    assert_eq!(again.offset(), deepest.offset());
    assert!(hive
        .key(&format!("{}\\Level80", path.join("\\")))
        .unwrap()
        .is_none());
    assert_eq!(walk_all(&hive).unwrap().keys, 81);
}

#[test]
fn thousand_subkeys_in_hivex_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut script = String::from("add Many\ncd Many\n");
    // Added in reverse so that the stored (sorted) order differs from
    // the insertion order.
    for i in (0..1000).rev() {
        script += &format!("add Sub{i:04}\n");
    }
    script += "cd Sub0500\nsetval 1\nmark\nstring:five hundred\n";
    let bytes = common::build(dir.path(), &script);
    let listing = common::hivexsh_query(dir.path(), &bytes, "cd Many\nls\n");
    let expected: Vec<&str> = listing.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(expected.len(), 1000);

    let hive = Hive::open(bytes).unwrap();
    let many = hive.key("MANY").unwrap().unwrap();
    assert_eq!(many.subkey_count(), 1000);
    let names: Vec<String> = hive
        .subkeys(&many)
        .unwrap()
        .iter()
        .map(|k| k.name().to_string())
        .collect();
    assert_eq!(names, expected);
    let sub = hive.key("many\\SUB0500").unwrap().unwrap();
    assert_eq!(
        hive.value(&sub, "MARK")
            .unwrap()
            .unwrap()
            .as_string()
            .unwrap(),
        "five hundred"
    );
    assert!(hive.key("many\\sub1000").unwrap().is_none());
}

#[test]
fn unicode_names_and_case_insensitive_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let script =
        "add Ünïcödé Ключ\nadd 日本語\ncd 日本語\nsetval 2\nNäme\nstring:latin\n値\ndword:7\n";
    let hive = Hive::open(common::build(dir.path(), script)).unwrap();
    let root = hive.root().unwrap();
    let names: Vec<String> = hive
        .subkeys(&root)
        .unwrap()
        .iter()
        .map(|k| k.name().to_string())
        .collect();
    assert!(names.contains(&"Ünïcödé Ключ".to_string()), "{names:?}");
    assert!(names.contains(&"日本語".to_string()), "{names:?}");
    assert!(hive.key("üNÏCÖDÉ кЛЮЧ").unwrap().is_some());
    let jp = hive.key("日本語").unwrap().unwrap();
    assert_eq!(
        hive.value(&jp, "NÄME")
            .unwrap()
            .unwrap()
            .as_string()
            .unwrap(),
        "latin"
    );
    assert_eq!(
        hive.value(&jp, "値").unwrap().unwrap().as_dword().unwrap(),
        7
    );
}

#[test]
fn system_like_layout() {
    let dir = tempfile::tempdir().unwrap();
    let pending = utf16_hex("\\??\\C:\\old.sys\0\0\0");
    let script = format!(
        "add Select\ncd Select\nsetval 4\nCurrent\ndword:1\nDefault\ndword:1\nLastKnownGood\ndword:2\nFailed\ndword:0\n\
         cd \\ \nadd ControlSet001\ncd ControlSet001\nadd Services\ncd Services\nadd viostor\ncd viostor\n\
         setval 5\nStart\ndword:0\nType\ndword:1\nImagePath\nexpandstring:System32\\drivers\\viostor.sys\n\
         Group\nstring:SCSI miniport\nErrorControl\ndword:1\n\
         cd \\ \ncd ControlSet001\nadd Control\ncd Control\nadd Session Manager\ncd Session Manager\n\
         setval 1\nPendingFileRenameOperations\nhex:7:{pending}\n\
         cd \\ \ncd ControlSet001\\Control\nadd CriticalDeviceDatabase\ncd CriticalDeviceDatabase\n\
         add pci#ven_1af4&dev_1001\ncd pci#ven_1af4&dev_1001\n\
         setval 2\nService\nstring:viostor\nClassGUID\nstring:{{4D36E97B-E325-11CE-BFC1-08002BE10318}}\n\
         cd \\ \nadd DriverDatabase\ncd DriverDatabase\nadd DriverPackages\ncd DriverPackages\n\
         add viostor.inf_amd64_c51a8b1d2f1e0a37\nadd netkvm.inf_amd64_0d3b0ae1c1b2d0e4\n"
    );
    let bytes = common::build(dir.path(), &script);
    let hive = Hive::open(bytes.clone()).unwrap();

    let select = hive.key("Select").unwrap().unwrap();
    let current = hive
        .value(&select, "Current")
        .unwrap()
        .unwrap()
        .as_dword()
        .unwrap();
    let set = format!("ControlSet{current:03}");
    assert_eq!(set, "ControlSet001");

    let viostor = hive
        .key(&format!("{set}\\services\\VIOSTOR"))
        .unwrap()
        .unwrap();
    let get = |name: &str| hive.value(&viostor, name).unwrap().unwrap();
    assert_eq!(get("Start").as_dword().unwrap(), 0);
    assert_eq!(get("Type").as_dword().unwrap(), 1);
    assert_eq!(
        get("ImagePath").as_string().unwrap(),
        "System32\\drivers\\viostor.sys"
    );
    assert_eq!(get("Group").as_string().unwrap(), "SCSI miniport");

    let pending = hive
        .key(&format!("{set}\\Control\\Session Manager"))
        .unwrap()
        .unwrap();
    assert_eq!(
        hive.value(&pending, "PendingFileRenameOperations")
            .unwrap()
            .unwrap()
            .as_multi_string()
            .unwrap(),
        vec!["\\??\\C:\\old.sys".to_string()]
    );

    let cddb = hive
        .key(&format!(
            "{set}\\Control\\CriticalDeviceDatabase\\PCI#VEN_1AF4&DEV_1001"
        ))
        .unwrap()
        .unwrap();
    assert_eq!(
        hive.value(&cddb, "service")
            .unwrap()
            .unwrap()
            .as_string()
            .unwrap(),
        "viostor"
    );

    let packages = hive.key("DriverDatabase\\DriverPackages").unwrap().unwrap();
    let names: Vec<String> = hive
        .subkeys(&packages)
        .unwrap()
        .iter()
        .map(|k| k.name().to_string())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("viostor.inf_amd64_")));
    assert!(names.iter().any(|n| n.starts_with("netkvm.inf_amd64_")));

    // Last-write times agree with hivexml's; keys share the root's
    // security descriptor.
    let xml = hivexml(dir.path(), &bytes);
    let at = xml.find("<node name=\"viostor\">").unwrap();
    let mtime = &xml[at..].split("<mtime>").nth(1).unwrap()[..20];
    assert_eq!(
        viostor.last_write().unix_seconds(),
        iso_to_unix(mtime),
        "{mtime}"
    );
    assert_eq!(
        hive.security_descriptor(&viostor).unwrap().unwrap().len(),
        20
    );
    assert!(hive.class_name(&viostor).unwrap().is_none());
}

#[test]
fn opens_from_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = common::build(dir.path(), "add A\n");
    let hive = Hive::read_from(std::io::Cursor::new(bytes)).unwrap();
    assert!(hive.key("a").unwrap().is_some());
    assert_eq!(hive.root().unwrap().name(), "ROOT");
    assert_eq!(hive.base_block().minor_version, 5);
}

#[test]
fn hive_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Hive>();
}
