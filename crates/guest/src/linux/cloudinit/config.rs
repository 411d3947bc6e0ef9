//! Cloud-init configuration: `/etc/cloud/cloud.cfg` then
//! `/etc/cloud/cloud.cfg.d/*.cfg` in name order, merged as cloud-init
//! merges them (mappings merge key by key; lists and scalars are replaced
//! by the later file), with the file that last set each key kept for the
//! evidence. YAML goes through the bounded subset reader in
//! [`crate::linux::network::yaml`]; a file it cannot read is listed as
//! unreadable and left out of the merge.

use std::collections::HashMap;

use super::CloudInitFacts;
use crate::linux::network::yaml::{self, Yaml};
use crate::linux::network::Unreadable;
use crate::linux::services::{join, list_dir, read_config_checked};
use crate::Evidence;
use crate::GuestFiles;

/// A configuration value and the file it was last set in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Dotted key, e.g. `system_info.default_user.lock_passwd`.
    pub key: String,
    /// Value as text (lists joined with `, `).
    pub value: String,
    /// The file that set it.
    pub evidence: Evidence,
}

/// Settings reported when present (LX-CLOUDINIT-CONFIG).
pub const REPORTED_SETTINGS: [&str; 11] = [
    "network.config",
    "datasource.OpenStack.apply_network_config",
    "datasource.OpenStack.metadata_urls",
    "manage_etc_hosts",
    "disable_root",
    "ssh_pwauth",
    "ssh_deletekeys",
    "system_info.default_user.lock_passwd",
    "system_info.default_user.name",
    "system_info.distro",
    "growpart.mode",
];

/// Reads and merges cloud.cfg and cloud.cfg.d/*.cfg.
pub(super) fn read_config_files(g: &dyn GuestFiles, f: &mut CloudInitFacts) {
    let mut files = vec!["/etc/cloud/cloud.cfg".to_string()];
    files.extend(
        list_dir(g, "/etc/cloud/cloud.cfg.d")
            .into_iter()
            .filter(|n| n.ends_with(".cfg"))
            .map(|n| join("/etc/cloud/cloud.cfg.d", &n)),
    );
    // Merged tree, and for each dotted key the file that set it last.
    let mut merged = Yaml::Map(Vec::new());
    let mut origin: HashMap<String, String> = HashMap::new();
    for file in files {
        let text = match read_config_checked(g, &file) {
            Ok(Some(text)) => text,
            Ok(None) => continue,
            Err(e) => {
                f.unreadable.push(Unreadable {
                    path: file,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        f.config_files.push(file.clone());
        if has_block_datasource_list(&text) {
            f.datasource_list_multiline.push(Evidence::file(
                &file,
                "datasource_list: spread over several lines",
            ));
        }
        match yaml::parse(&text) {
            Ok(doc) => {
                record_origins(&doc, "", &file, &mut origin, 0);
                merge(&mut merged, doc, 0);
            }
            Err(e) => f.unreadable.push(Unreadable {
                path: file,
                reason: format!("line {}: {}", e.line, e.reason),
            }),
        }
    }
    let from = |key: &str| origin.get(key).cloned().unwrap_or_default();
    if let Some(list) = merged.get("datasource_list") {
        let names = list.string_list();
        let file = from("datasource_list");
        f.datasource_list = Some((
            names.clone(),
            Evidence::file(file, format!("datasource_list: [{}]", names.join(", "))),
        ));
    }
    for key in REPORTED_SETTINGS {
        let path: Vec<&str> = key.split('.').collect();
        if let Some(v) = merged.path(&path) {
            let value = match v {
                Yaml::Scalar(s) => s.clone(),
                Yaml::List(_) => v.string_list().join(", "),
                Yaml::Map(_) => "(mapping)".to_string(),
                Yaml::Null => String::new(),
            };
            f.settings.push(Setting {
                key: key.to_string(),
                evidence: Evidence::file(from(key), format!("{key}: {value}")),
                value,
            });
        }
    }
    for stage in [
        "cloud_init_modules",
        "cloud_config_modules",
        "cloud_final_modules",
    ] {
        if let Some(Yaml::List(items)) = merged.get(stage) {
            // An item is a name, `[name, frequency]` or `{name: …}`.
            let names = items
                .iter()
                .filter_map(|i| match i {
                    Yaml::Scalar(s) => Some(s.clone()),
                    Yaml::List(l) => l.first().and_then(Yaml::as_str).map(String::from),
                    Yaml::Map(_) => i.get("name").and_then(Yaml::as_str).map(String::from),
                    Yaml::Null => None,
                })
                .collect();
            f.modules.push((stage.to_string(), names));
        }
    }
}

/// `datasource_list:` written so that ds-identify cannot read it: nothing
/// after the colon (a block list follows) or a flow list that is not
/// closed on the same line.
fn has_block_datasource_list(text: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix("datasource_list:").is_some_and(|rest| {
            let rest = rest.split('#').next().unwrap_or("").trim();
            rest.is_empty() || (rest.starts_with('[') && !rest.contains(']'))
        })
    })
}

/// Cloud-init's merge: mappings merge key by key, anything else is
/// replaced. Keys are found through a hash index so a file with many keys
/// merges in linear time; depth is bounded by the parser's limit.
fn merge(into: &mut Yaml, from: Yaml, depth: usize) {
    match (into, from) {
        (Yaml::Map(dst), Yaml::Map(src)) if depth <= yaml::MAX_DEPTH => {
            // Later duplicates win, as `Yaml::get` reads them.
            let mut index: HashMap<String, usize> = dst
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
            for (k, v) in src {
                match index.get(&k).copied() {
                    Some(i) => {
                        if let Some((_, existing)) = dst.get_mut(i) {
                            merge(existing, v, depth + 1);
                        }
                    }
                    None => {
                        index.insert(k.clone(), dst.len());
                        dst.push((k, v));
                    }
                }
            }
        }
        (dst, src) => *dst = src,
    }
}

/// Notes which file set each dotted key (mappings are descended).
fn record_origins(
    doc: &Yaml,
    prefix: &str,
    file: &str,
    out: &mut HashMap<String, String>,
    depth: usize,
) {
    if depth > 4 {
        return;
    }
    for (k, v) in doc.entries() {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        out.insert(key.clone(), file.to_string());
        record_origins(v, &key, file, out, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_replaces_lists_and_merges_maps() {
        let mut a = yaml::parse("datasource_list: [NoCloud, OpenStack]\nsystem_info:\n  distro: ubuntu\n  default_user:\n    name: ubuntu\n").unwrap();
        let b = yaml::parse(
            "datasource_list: [None]\nsystem_info:\n  default_user:\n    lock_passwd: false\n",
        )
        .unwrap();
        merge(&mut a, b, 0);
        assert_eq!(a.get("datasource_list").unwrap().string_list(), ["None"]);
        assert_eq!(
            a.path(&["system_info", "distro"]).and_then(Yaml::as_str),
            Some("ubuntu")
        );
        assert_eq!(
            a.path(&["system_info", "default_user", "name"])
                .and_then(Yaml::as_str),
            Some("ubuntu")
        );
        assert_eq!(
            a.path(&["system_info", "default_user", "lock_passwd"])
                .and_then(Yaml::as_bool),
            Some(false)
        );
    }

    #[test]
    fn lists_ds_identify_cannot_read() {
        assert!(has_block_datasource_list("datasource_list:\n  - None\n"));
        assert!(!has_block_datasource_list("datasource_list: [ None ]\n"));
        assert!(has_block_datasource_list(
            "datasource_list: [ OpenStack,\n  None ]\n"
        ));
    }
}
