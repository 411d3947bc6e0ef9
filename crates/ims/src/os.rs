//! Known `os_version` strings of Huawei Cloud and Open Telekom Cloud.
//!
//! The lists differ by cloud and by age of the documentation, so an unknown
//! string is a warning with suggestions rather than an error.

use std::sync::OnceLock;

use crate::finding::{Code, Finding};
use crate::shown::quoted;

const HUAWEICLOUD_TSV: &str = include_str!("../data/os_versions_huaweicloud.tsv");
const OTC_TSV: &str = include_str!("../data/os_versions_otc.tsv");

/// A cloud whose OS version list is embedded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cloud {
    /// Huawei Cloud (the Chinese and international sites).
    HuaweiCloud,
    /// Open Telekom Cloud.
    Otc,
}

impl Cloud {
    /// Human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::HuaweiCloud => "Huawei Cloud",
            Cloud::Otc => "Open Telekom Cloud",
        }
    }
}

/// One known OS version string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsEntry {
    /// Family as the lists group it (`Windows`, `CentOS`, `Red Hat`, ...).
    pub family: String,
    /// The exact string for `os_version`.
    pub version: String,
    /// 32 or 64 when the string says so (`32bit`/`64bit`); CoreOS strings do not.
    pub bits: Option<u8>,
    /// Listed by Huawei Cloud.
    pub huaweicloud: bool,
    /// Listed by Open Telekom Cloud.
    pub otc: bool,
}

impl OsEntry {
    /// True for Windows versions.
    pub fn is_windows(&self) -> bool {
        self.family == "Windows"
    }

    /// The clouds that list this string.
    pub fn clouds(&self) -> Vec<Cloud> {
        let mut v = Vec::new();
        if self.huaweicloud {
            v.push(Cloud::HuaweiCloud);
        }
        if self.otc {
            v.push(Cloud::Otc);
        }
        v
    }
}

/// Reads the bitness from a version string's `32bit`/`64bit` word.
pub fn parse_bits(version: &str) -> Option<u8> {
    version.split_whitespace().find_map(|w| {
        if w.eq_ignore_ascii_case("32bit") {
            Some(32)
        } else if w.eq_ignore_ascii_case("64bit") {
            Some(64)
        } else {
            None
        }
    })
}

/// Lower-cases and collapses every kind of white space (the Huawei list has
/// non-breaking spaces in one entry) for loose comparison.
fn loose(s: &str) -> String {
    s.split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Every known OS version, Huawei Cloud's order first, then strings only Open Telekom Cloud lists.
pub fn os_catalogue() -> &'static [OsEntry] {
    static CATALOGUE: OnceLock<Vec<OsEntry>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let mut entries: Vec<OsEntry> = Vec::new();
        for (tsv, cloud) in [(HUAWEICLOUD_TSV, Cloud::HuaweiCloud), (OTC_TSV, Cloud::Otc)] {
            for line in tsv.lines() {
                let Some((family, version)) = line.split_once('\t') else {
                    continue;
                };
                // Non-breaking spaces in the published list are typography,
                // not part of the value the API compares.
                let version: String = version
                    .split(|c: char| c.is_whitespace())
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let family = match family.trim() {
                    "RedHat" => "Red Hat".to_owned(),
                    f => f.to_owned(),
                };
                if version.is_empty() {
                    continue;
                }
                let entry = match entries.iter_mut().find(|e| e.version == version) {
                    Some(e) => e,
                    None => {
                        entries.push(OsEntry {
                            family,
                            bits: parse_bits(&version),
                            version,
                            huaweicloud: false,
                            otc: false,
                        });
                        match entries.last_mut() {
                            Some(e) => e,
                            None => continue,
                        }
                    }
                };
                match cloud {
                    Cloud::HuaweiCloud => entry.huaweicloud = true,
                    Cloud::Otc => entry.otc = true,
                }
            }
        }
        entries
    })
}

/// The entry whose string is exactly `version`.
pub fn lookup_os(version: &str) -> Option<&'static OsEntry> {
    os_catalogue().iter().find(|e| e.version == version)
}

/// Writes `7.0` as `7` so that "CentOS 7 64bit" finds "CentOS 7.0 64bit" first.
fn drop_zero_minor(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            w.strip_suffix(".0")
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                .unwrap_or(w)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// How much of a value the similarity scores look at. Edit distance costs
/// the product of the two lengths, so a megabyte-long value compared with
/// every catalogue entry took seconds; the longest known string has 51
/// characters, and a long value that starts like one still meets it.
const MAX_COMPARED_CHARS: usize = 96;

/// Up to `n` known strings closest to `version` (case-insensitive), best first.
pub fn suggest_os_versions(version: &str, n: usize) -> Vec<&'static str> {
    let want: String = loose(version).chars().take(MAX_COMPARED_CHARS).collect();
    let want_exact = drop_zero_minor(&want);
    let mut scored: Vec<(f64, usize, &'static str)> = os_catalogue()
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let have = loose(&e.version);
            let score = if drop_zero_minor(&have) == want_exact {
                1.0
            } else {
                let lev = strsim::normalized_damerau_levenshtein(&want, &have);
                let jw = strsim::jaro_winkler(&want, &have);
                lev.max(jw - 0.15)
            };
            (score, i, e.version.as_str())
        })
        .filter(|(score, _, _)| *score >= 0.5)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(n).map(|(_, _, v)| v).collect()
}

/// True when `version` names a Windows system (known entry, or by its first word).
pub fn is_windows_version(version: &str) -> bool {
    match lookup_os(version) {
        Some(e) => e.is_windows(),
        None => loose(version).starts_with("windows"),
    }
}

/// Findings about an `os_version` value: unknown, spelling, 32-bit, Windows notes.
pub fn check_os_version(version: &str, path: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let entry = match lookup_os(version) {
        Some(e) => {
            if !(e.huaweicloud && e.otc) {
                out.push(one_cloud(e, path));
            }
            Some(e)
        }
        None => {
            let want = loose(version);
            let same: Vec<&OsEntry> = os_catalogue()
                .iter()
                .filter(|e| loose(&e.version) == want)
                .collect();
            if let Some(first) = same.first() {
                let spellings: Vec<String> = same
                    .iter()
                    .map(|e| format!("\"{}\" ({})", e.version, cloud_list(e)))
                    .collect();
                out.push(
                    Finding::new(
                        Code::OsVersionCase,
                        path,
                        format!(
                            "{} differs from a known string only in case or spacing",
                            quoted(version)
                        ),
                    )
                    .with_fix(format!("Write it exactly as {}.", spellings.join(" or "))),
                );
                Some(*first)
            } else {
                let suggestions = suggest_os_versions(version, 3);
                let fix = if suggestions.is_empty() {
                    "No known string is close; check the target cloud's list of OS versions."
                        .to_owned()
                } else {
                    let quoted: Vec<String> =
                        suggestions.iter().map(|s| format!("\"{s}\"")).collect();
                    format!("Did you mean {}?", quoted.join(", "))
                };
                out.push(
                    Finding::new(
                        Code::OsVersionUnknown,
                        path,
                        format!("{} is not a known os_version string", quoted(version)),
                    )
                    .with_fix(fix),
                );
                None
            }
        }
    };
    let bits = entry.and_then(|e| e.bits).or_else(|| parse_bits(version));
    if bits == Some(32) {
        out.push(Finding::new(
            Code::Os32Bit,
            path,
            format!("{} is a 32-bit system", quoted(version)),
        ));
    }
    let windows = entry.map_or_else(|| is_windows_version(version), |e| e.is_windows());
    if windows {
        out.push(Finding::new(
            Code::OsWindows,
            path,
            format!("{} is a Windows system", quoted(version)),
        ));
    }
    out
}

fn cloud_list(e: &OsEntry) -> String {
    e.clouds()
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(" and ")
}

fn one_cloud(e: &OsEntry, path: &str) -> Finding {
    let other = if e.huaweicloud {
        Cloud::Otc
    } else {
        Cloud::HuaweiCloud
    };
    let want = loose(&e.version);
    let other_spelling = os_catalogue().iter().find(|o| {
        o.version != e.version
            && loose(&o.version) == want
            && (if other == Cloud::Otc {
                o.otc
            } else {
                o.huaweicloud
            })
    });
    let f = Finding::new(
        Code::OsVersionOneCloud,
        path,
        format!("\"{}\" is listed by {} only", e.version, cloud_list(e)),
    );
    match other_spelling {
        Some(o) => f.with_fix(format!(
            "{} spells it \"{}\"; use that spelling for {}.",
            other.name(),
            o.version,
            other.name()
        )),
        None => f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(v: &[Finding]) -> Vec<&'static str> {
        v.iter().map(|f| f.code.id()).collect()
    }

    #[test]
    fn catalogue_merges_both_lists() {
        let c = os_catalogue();
        // Both lists, each string once: more than the longer list holds,
        // fewer than both together.
        assert!(c.len() > 280 && c.len() < 484, "{}", c.len());
        for refreshed in [
            "Debian GNU/Linux 12.0.0 64bit",
            "Ubuntu 24.04 server 64bit",
            "Red Hat Enterprise Linux 9.1 64bit",
            "openEuler 22.03 64bit",
            "Windows Server 2022 Standard 64bit",
        ] {
            assert!(lookup_os(refreshed).is_some(), "{refreshed}");
        }
        let centos = lookup_os("CentOS 7.0 64bit");
        assert!(centos.is_some_and(|e| e.huaweicloud && e.otc && e.bits == Some(64)));
        assert!(lookup_os("CoreOS 1068.10.0")
            .is_some_and(|e| e.otc && !e.huaweicloud && e.bits.is_none()));
        assert!(lookup_os("NeoKylin 7.4 64bit").is_some_and(|e| e.huaweicloud && !e.otc));
        // The non-breaking spaces of the Huawei list are normalized, so both lists meet.
        assert!(lookup_os("Windows Server 2008 R2 WEB 64bit")
            .is_some_and(|e| e.huaweicloud && e.otc && e.is_windows()));
        assert!(c.iter().all(|e| e.family != "RedHat"));
        assert!(c.iter().all(|e| !e.version.contains('\u{a0}')));
    }

    #[test]
    fn known_both_clouds_no_findings() {
        assert!(check_os_version("CentOS 7.0 64bit", "$.os_version").is_empty());
        assert!(check_os_version("EulerOS 2.9 64bit", "$.os_version").len() <= 1);
    }

    #[test]
    fn unknown_suggests_closest() {
        let f = check_os_version("CentOS 7 64bit", "$.os_version");
        assert_eq!(codes(&f), ["OS-VERSION-UNKNOWN"]);
        assert!(f[0].fix.contains("\"CentOS 7.0 64bit\""), "{}", f[0].fix);
        let f = check_os_version("Ubuntu 18.04 64bit", "$.os_version");
        assert!(
            f[0].fix.contains("Ubuntu 18.04 server 64bit"),
            "{}",
            f[0].fix
        );
        let f = check_os_version("zzzzzzzzzzzzzzzzzzzzzzzzzz", "$.os_version");
        assert_eq!(codes(&f), ["OS-VERSION-UNKNOWN"]);
        assert!(f[0].fix.contains("No known string"));
    }

    #[test]
    fn megabyte_value_is_compared_by_its_start() {
        let long = format!("Ubuntu 18.04 server 64bit{}", "x".repeat(1 << 20));
        let f = check_os_version(&long, "$.os_version");
        assert_eq!(codes(&f), ["OS-VERSION-UNKNOWN"]);
        assert!(
            f[0].fix.contains("Ubuntu 18.04 server 64bit"),
            "{}",
            f[0].fix
        );
        // The message quotes the value's start and length, not a megabyte.
        assert!(
            f[0].message.contains("(1048601 characters)"),
            "{}",
            f[0].message
        );
        assert!(f[0].message.len() < 200);
    }

    #[test]
    fn case_only_difference_names_exact_spelling() {
        let f = check_os_version("centos 7.0 64BIT", "$.os_version");
        assert_eq!(codes(&f), ["OS-VERSION-CASE"]);
        assert!(f[0].fix.contains("\"CentOS 7.0 64bit\""));
        let f = check_os_version("CentOS  7.0 64bit", "$.os_version");
        assert_eq!(codes(&f), ["OS-VERSION-CASE"]);
    }

    #[test]
    fn per_cloud_spelling() {
        let f = check_os_version("Ubuntu 16.04.2 server 64bit", "$.os_version");
        assert_eq!(codes(&f), ["OS-VERSION-ONE-CLOUD"]);
        assert!(
            f[0].fix.contains("\"Ubuntu 16.04.2 Server 64bit\""),
            "{}",
            f[0].fix
        );
    }

    #[test]
    fn bits_and_windows() {
        let f = check_os_version("CentOS 6.5 32bit", "$.os_version");
        assert_eq!(codes(&f), ["OS-32BIT"]);
        let f = check_os_version("Windows Server 2016 Standard 64bit", "$.os_version");
        assert_eq!(codes(&f), ["OS-WINDOWS"]);
        let f = check_os_version("Windows 7 Professional 32bit", "$.os_version");
        assert_eq!(
            codes(&f),
            ["OS-VERSION-ONE-CLOUD", "OS-32BIT", "OS-WINDOWS"]
        );
        let f = check_os_version("Windows 3.1 32bit", "$.os_version");
        assert_eq!(codes(&f), ["OS-VERSION-UNKNOWN", "OS-32BIT", "OS-WINDOWS"]);
        assert_eq!(parse_bits("Foo 64BIT"), Some(64));
        assert_eq!(parse_bits("CoreOS 1.2"), None);
    }
}
