//! LX-INITRD-HOSTONLY: settings of the initramfs generator.
//!
//! dracut: `/etc/dracut.conf`, then the `*.conf` files of
//! `/usr/lib/dracut/dracut.conf.d` and `/etc/dracut.conf.d` in name order (a
//! file in `/etc` replaces the one of the same name in `/usr/lib`), as
//! dracut sources them; `+=` appends, `=` replaces. initramfs-tools:
//! `MODULES=` in `/etc/initramfs-tools/initramfs.conf` and its `conf.d`,
//! and the names in `/etc/initramfs-tools/modules`. SUSE:
//! `INITRD_MODULES` in `/etc/sysconfig/kernel`.
use crate::evidence::{Evidence, Fact};
use crate::files::{read_text, GuestFiles};
use crate::text::{last_value, shell_assignments, CONFIG_LIMIT};

/// Most configuration files read from one `.d` directory.
const MAX_CONF_FILES: usize = 512;

/// Initramfs generator settings found in the guest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitrdGenerator {
    /// dracut is configured (`/etc/dracut.conf` or `/etc/dracut.conf.d`).
    pub dracut: bool,
    /// Last `hostonly=` value (`yes`/`no`), if set.
    pub dracut_hostonly: Option<String>,
    /// Last `hostonly_cmdline=` value, if set.
    pub dracut_hostonly_cmdline: Option<String>,
    /// Modules named by `add_drivers`/`force_drivers` (+= accumulates).
    pub dracut_add_drivers: Vec<String>,
    /// Modules named by `omit_drivers`.
    pub dracut_omit_drivers: Vec<String>,
    /// initramfs-tools is configured (`/etc/initramfs-tools`).
    pub initramfs_tools: bool,
    /// `MODULES=` of `/etc/initramfs-tools/initramfs.conf` (and conf.d).
    pub initramfs_tools_modules: Option<String>,
    /// Module names listed in `/etc/initramfs-tools/modules`.
    pub initramfs_tools_module_list: Vec<String>,
    /// SUSE `/etc/sysconfig/kernel` `INITRD_MODULES`.
    pub suse_initrd_modules: Option<String>,
}

fn conf_files(guest: &dyn GuestFiles, dirs: &[&str], suffix: &str) -> Vec<String> {
    let mut by_name: Vec<(String, String)> = Vec::new();
    for dir in dirs {
        let Ok(Some(entries)) = guest.read_dir(dir) else {
            continue;
        };
        for (name, _) in entries.into_iter().take(MAX_CONF_FILES) {
            if !name.ends_with(suffix) {
                continue;
            }
            let path = format!("{dir}/{name}");
            match by_name.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = path,
                None => by_name.push((name, path)),
            }
        }
    }
    by_name.sort();
    by_name.into_iter().map(|(_, p)| p).collect()
}

fn words(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split_whitespace().map(|w| w.replace('-', "_"))
}

/// Read the generator settings.
pub fn inspect(guest: &dyn GuestFiles) -> Fact<InitrdGenerator> {
    let mut evidence = Vec::new();
    let mut g = InitrdGenerator::default();
    let read = |path: &str, evidence: &mut Vec<Evidence>| match read_text(guest, path, CONFIG_LIMIT)
    {
        Ok(t) => t,
        Err(e) => {
            evidence.push(Evidence::file(path, format!("unreadable: {e}")));
            None
        }
    };

    let mut dracut_files = vec!["/etc/dracut.conf".to_string()];
    dracut_files.extend(conf_files(
        guest,
        &["/usr/lib/dracut/dracut.conf.d", "/etc/dracut.conf.d"],
        ".conf",
    ));
    for path in &dracut_files {
        let Some(text) = read(path, &mut evidence) else {
            continue;
        };
        g.dracut = true;
        for (key, value) in shell_assignments(&text) {
            let shown = format!("{key}=\"{value}\"");
            match key.as_str() {
                "hostonly" => g.dracut_hostonly = Some(value),
                "hostonly_cmdline" => g.dracut_hostonly_cmdline = Some(value),
                "add_drivers" | "force_drivers" => g.dracut_add_drivers = words(&value).collect(),
                "add_drivers+" | "force_drivers+" => g.dracut_add_drivers.extend(words(&value)),
                "omit_drivers" => g.dracut_omit_drivers = words(&value).collect(),
                "omit_drivers+" => g.dracut_omit_drivers.extend(words(&value)),
                _ => continue,
            }
            evidence.push(Evidence::file(path.clone(), shown));
        }
    }
    if !g.dracut && (guest.exists("/usr/bin/dracut") || guest.exists("/usr/sbin/dracut")) {
        g.dracut = true;
        evidence.push(Evidence::file(
            "/usr/bin/dracut",
            "present, no configuration file",
        ));
    }

    let mut itools = vec!["/etc/initramfs-tools/initramfs.conf".to_string()];
    itools.extend(conf_files(guest, &["/etc/initramfs-tools/conf.d"], ""));
    for path in &itools {
        let Some(text) = read(path, &mut evidence) else {
            continue;
        };
        g.initramfs_tools = true;
        if let Some(v) = last_value(&shell_assignments(&text), "MODULES") {
            evidence.push(Evidence::file(path.clone(), format!("MODULES={v}")));
            g.initramfs_tools_modules = Some(v.to_string());
        }
    }
    if let Some(text) = read("/etc/initramfs-tools/modules", &mut evidence) {
        g.initramfs_tools = true;
        g.initramfs_tools_module_list = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_whitespace().next())
            .map(|m| m.replace('-', "_"))
            .collect();
        evidence.push(Evidence::file(
            "/etc/initramfs-tools/modules",
            if g.initramfs_tools_module_list.is_empty() {
                "no modules listed".to_string()
            } else {
                g.initramfs_tools_module_list.join(" ")
            },
        ));
    }
    if let Some(text) = read("/etc/sysconfig/kernel", &mut evidence) {
        if let Some(v) = last_value(&shell_assignments(&text), "INITRD_MODULES") {
            evidence.push(Evidence::file(
                "/etc/sysconfig/kernel",
                format!("INITRD_MODULES=\"{v}\""),
            ));
            g.suse_initrd_modules = Some(v.to_string());
        }
    }
    if !g.dracut && !g.initramfs_tools && g.suse_initrd_modules.is_none() {
        evidence.push(Evidence::absent("/etc/dracut.conf"));
        evidence.push(Evidence::absent("/etc/initramfs-tools/initramfs.conf"));
        return Fact::absent(evidence);
    }
    Fact::found(g, evidence)
}
