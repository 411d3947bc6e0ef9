//! LX-BOOTLOADER / LX-BOOT-ROOTARG: the boot loader configuration and its
//! default entry.
//!
//! Configurations are tried in this order, the first usable one wins:
//! GRUB 2 (`/boot/grub2/grub.cfg`, `/boot/grub/grub.cfg`, then
//! `/boot/efi/EFI/<vendor>/grub.cfg`; a stub that only `configfile`s
//! another file is passed over), with BLS entries when it calls `blscfg`
//! (or when only `/boot/loader/entries` exists); systemd-boot
//! (`loader/loader.conf` and `loader/entries` on the ESP at `/boot/efi`,
//! `/efi` or `/boot`, entry paths relative to the ESP); GRUB legacy
//! (`/boot/grub/menu.lst`, `/boot/grub/grub.conf`); SYSLINUX/EXTLINUX (the
//! file list IMS gives). The default comes from the last `set default=`
//! (ignoring the one-shot `${next_entry}`), with `${saved_entry}` and other
//! variables taken from grubenv. Kernel and initrd paths are looked up
//! both as written and under `/boot` (GRUB paths are relative to the file
//! system GRUB reads, which is `/boot` when it is separate).
//! `/etc/default/grub` is read for what the next `grub2-mkconfig` writes.

pub mod bls;
pub mod grub2;
pub mod legacy;

use crate::evidence::{Evidence, Fact};
use crate::files::{read_text, GuestFiles};
use crate::text::{last_value, shell_assignments, CONFIG_LIMIT};

/// Largest configuration file read (grub.cfg of many kernels stays well
/// below it).
pub const CONFIG_FILE_LIMIT: u64 = 4 << 20;

/// How a default specification resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultChoice {
    /// Index into the entries.
    Index(usize),
    /// Why no entry matches.
    Unresolved(String),
}

/// Which boot loader configuration was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoaderKind {
    /// GRUB 2 `grub.cfg` menu entries.
    Grub2,
    /// GRUB 2 with Boot Loader Specification entries
    /// (`/boot/loader/entries/*.conf`).
    Grub2Bls,
    /// GRUB legacy (`menu.lst` / `grub.conf`).
    GrubLegacy,
    /// SYSLINUX / EXTLINUX.
    Extlinux,
    /// systemd-boot (`loader/entries` on the ESP).
    SystemdBoot,
}

/// One boot entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootEntry {
    /// Title (menuentry title, BLS `title`, label).
    pub title: String,
    /// Entry id (`--id`/`$menuentry_id_option` in GRUB, BLS file stem).
    pub id: Option<String>,
    /// Kernel path as written in the configuration.
    pub kernel: Option<String>,
    /// Initrd paths as written (GRUB allows several).
    pub initrd: Vec<String>,
    /// Kernel command line (variables expanded where known).
    pub cmdline: Option<String>,
    /// Guest path of the kernel, if it exists.
    pub kernel_path: Option<String>,
    /// Guest paths of the initrds that exist, in order.
    pub initrd_paths: Vec<String>,
    /// Config file (and line) the entry was read from.
    pub source: String,
}

impl BootEntry {
    /// Values of a command-line argument (`root` → `["UUID=..."]`), in order.
    pub fn arg(&self, name: &str) -> Vec<String> {
        let Some(cmdline) = &self.cmdline else {
            return Vec::new();
        };
        cmdline_args(cmdline)
            .into_iter()
            .filter(|(k, _)| k == name)
            .filter_map(|(_, v)| v)
            .collect()
    }

    /// True if a bare flag or `name=...` is on the command line.
    pub fn has_arg(&self, name: &str) -> bool {
        self.cmdline
            .as_deref()
            .is_some_and(|c| cmdline_args(c).iter().any(|(k, _)| k == name))
    }
}

/// Split a kernel command line into `(name, value)` pairs, honouring
/// double quotes as the kernel does.
pub fn cmdline_args(cmdline: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_quotes = false;
    let mut words = Vec::new();
    for c in cmdline.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            c if c.is_whitespace() && !in_quotes => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    for w in words {
        match w.split_once('=') {
            Some((k, v)) => out.push((k.to_string(), Some(v.to_string()))),
            None => out.push((w, None)),
        }
    }
    out
}

/// The boot configuration and its default entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootConfig {
    /// Which loader configuration was read.
    pub loader: LoaderKind,
    /// Guest path of the main configuration file.
    pub config_path: String,
    /// All entries, in menu order (submenu entries flattened, after their
    /// submenu's position).
    pub entries: Vec<BootEntry>,
    /// What selects the default (`set default="0"`, `saved_entry=...`,
    /// `default=1`, `DEFAULT linux`).
    pub default_spec: Option<String>,
    /// Index into `entries` of the default entry, when resolved.
    pub default_index: Option<usize>,
    /// File systems GRUB searches for (`search --fs-uuid ... <uuid>`).
    pub grub_search_uuids: Vec<String>,
    /// `GRUB_CMDLINE_LINUX` from `/etc/default/grub`.
    pub grub_cmdline_linux: Option<String>,
    /// `GRUB_CMDLINE_LINUX_DEFAULT` from `/etc/default/grub`.
    pub grub_cmdline_linux_default: Option<String>,
    /// `GRUB_DEFAULT` from `/etc/default/grub`.
    pub grub_default: Option<String>,
    /// Why the default entry could not be resolved, when it could not
    /// (or why the configuration was read only in part).
    pub default_problem: Option<String>,
}

impl BootConfig {
    /// The default entry, when resolved.
    pub fn default_entry(&self) -> Option<&BootEntry> {
        self.entries.get(self.default_index?)
    }
}

/// Read a grubenv block: `key=value` lines, `#` padding ignored.
pub fn parse_grubenv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

struct Ctx<'g> {
    guest: &'g dyn GuestFiles,
    evidence: Vec<Evidence>,
}

impl Ctx<'_> {
    fn read(&mut self, path: &str) -> Option<String> {
        self.read_limited(path, CONFIG_FILE_LIMIT)
    }

    fn read_limited(&mut self, path: &str, limit: u64) -> Option<String> {
        match read_text(self.guest, path, limit) {
            Ok(t) => t,
            Err(e) => {
                self.evidence
                    .push(Evidence::file(path, format!("unreadable: {e}")));
                None
            }
        }
    }

    fn dir(&mut self, path: &str) -> Vec<String> {
        match self.guest.read_dir(path) {
            Ok(Some(entries)) => entries.into_iter().map(|(n, _)| n).collect(),
            _ => Vec::new(),
        }
    }

    /// The guest path of a kernel or initrd path as the loader wrote it.
    fn boot_path(&self, written: &str) -> Option<String> {
        // Strip a GRUB device prefix: "(hd0,msdos1)/vmlinuz", "($root)/x".
        let mut p = written;
        if p.starts_with('(') {
            p = p.find(')').and_then(|i| p.get(i + 1..)).unwrap_or(p);
        }
        if !p.starts_with('/') {
            return None;
        }
        let mut candidates = vec![p.to_string(), format!("/boot{p}")];
        // Btrfs subvolume prefixes ("/@/boot/..."): try from "/boot" on.
        if let Some(i) = p.find("/boot/") {
            candidates.push(p.get(i..).unwrap_or_default().to_string());
        }
        candidates.into_iter().find(|c| {
            matches!(self.guest.metadata(c), Ok(Some(m)) if m.kind == crate::files::FileKind::File)
        })
    }
}

/// Expand variables in initrd paths; a variable that expands to nothing
/// (`$tuned_initrd` without tuned) or is unknown is not a path.
fn expand_paths(paths: &[String], env: &[(String, String)]) -> Vec<String> {
    paths
        .iter()
        .flat_map(|p| {
            bls::expand(p, env)
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.starts_with('$'))
        .collect()
}

fn resolve_paths(ctx: &Ctx<'_>, entries: &mut [BootEntry]) {
    for e in entries.iter_mut() {
        e.kernel_path = e.kernel.as_deref().and_then(|k| ctx.boot_path(k));
        e.initrd_paths = e.initrd.iter().filter_map(|i| ctx.boot_path(i)).collect();
    }
}

/// Find and parse the boot loader configuration.
pub fn inspect(guest: &dyn GuestFiles) -> Fact<BootConfig> {
    let mut ctx = Ctx {
        guest,
        evidence: Vec::new(),
    };

    // What the next grub-mkconfig will write.
    let mut defaults_file = (None, None, None);
    if let Ok(Some(text)) = read_text(guest, "/etc/default/grub", CONFIG_LIMIT) {
        let pairs = shell_assignments(&text);
        let get = |k: &str| last_value(&pairs, k).map(str::to_string);
        defaults_file = (
            get("GRUB_CMDLINE_LINUX"),
            get("GRUB_CMDLINE_LINUX_DEFAULT"),
            get("GRUB_DEFAULT"),
        );
        for key in [
            "GRUB_CMDLINE_LINUX",
            "GRUB_CMDLINE_LINUX_DEFAULT",
            "GRUB_DEFAULT",
        ] {
            if let Some(v) = last_value(&pairs, key) {
                ctx.evidence.push(Evidence::file(
                    "/etc/default/grub",
                    format!("{key}=\"{v}\""),
                ));
            }
        }
    }

    // grubenv: saved_entry, kernelopts.
    let mut env: Vec<(String, String)> = Vec::new();
    let mut env_paths = vec![
        "/boot/grub2/grubenv".to_string(),
        "/boot/grub/grubenv".to_string(),
    ];
    let efi_dirs = ctx.dir("/boot/efi/EFI");
    for d in &efi_dirs {
        env_paths.push(format!("/boot/efi/EFI/{d}/grubenv"));
    }
    for p in &env_paths {
        if let Some(text) = ctx.read(p) {
            env = parse_grubenv(&text);
            for (k, v) in &env {
                if k == "saved_entry" || k == "kernelopts" || k == "next_entry" {
                    ctx.evidence
                        .push(Evidence::file(p.clone(), format!("{k}={v}")));
                }
            }
            break;
        }
    }

    let mut cfg_paths = vec![
        "/boot/grub2/grub.cfg".to_string(),
        "/boot/grub/grub.cfg".to_string(),
    ];
    for d in &efi_dirs {
        if !d.eq_ignore_ascii_case("boot") {
            cfg_paths.push(format!("/boot/efi/EFI/{d}/grub.cfg"));
        }
    }
    for d in &efi_dirs {
        if d.eq_ignore_ascii_case("boot") {
            cfg_paths.push(format!("/boot/efi/EFI/{d}/grub.cfg"));
        }
    }

    let mut result: Option<BootConfig> = None;
    for path in &cfg_paths {
        let Some(text) = ctx.read(path) else {
            continue;
        };
        let cfg = grub2::parse(&text, path);
        if cfg.entries.is_empty() && !cfg.blscfg {
            ctx.evidence.push(Evidence::file(
                path.clone(),
                match cfg.configfiles.first() {
                    Some(t) => format!("no menu entries; configfile {t}"),
                    None => "no menu entries".to_string(),
                },
            ));
            if let Some(why) = &cfg.stopped {
                ctx.evidence.push(Evidence::file(path.clone(), why.clone()));
            }
            continue;
        }
        result = Some(from_grub2(&mut ctx, path, cfg, &env));
        break;
    }
    if result.is_none() {
        result = systemd_boot(&mut ctx, &env);
    }
    if result.is_none() && !ctx.dir("/boot/loader/entries").is_empty() {
        let cfg = grub2::Grub2Config {
            blscfg: true,
            ..grub2::Grub2Config::default()
        };
        result = Some(from_grub2(&mut ctx, "/boot/loader/entries", cfg, &env));
    }
    if result.is_none() {
        for path in ["/boot/grub/menu.lst", "/boot/grub/grub.conf"] {
            if let Some(text) = ctx.read(path) {
                let (entries, default) = legacy::parse_grub_legacy(&text, path);
                ctx.evidence.push(Evidence::file(
                    path,
                    format!(
                        "{} entries, default={}",
                        entries.len(),
                        default.as_deref().unwrap_or("(unset)")
                    ),
                ));
                let spec = default.clone().unwrap_or_else(|| "0".into());
                let (index, problem) = match spec.parse::<usize>() {
                    Ok(n) if n < entries.len() => (Some(n), None),
                    // "default saved" without a readable saved file: first entry.
                    Err(_) if spec == "saved" && !entries.is_empty() => (Some(0), None),
                    _ => (None, Some(format!("default {spec:?} matches no entry"))),
                };
                result = Some(config(
                    LoaderKind::GrubLegacy,
                    path,
                    entries,
                    default,
                    index,
                    problem,
                ));
                break;
            }
        }
    }
    if result.is_none() {
        for path in [
            "/boot/extlinux/extlinux.conf",
            "/boot/syslinux/extlinux.conf",
            "/extlinux.conf",
            "/boot/syslinux/syslinux.cfg",
            "/syslinux/syslinux.cfg",
            "/syslinux.cfg",
            "/boot/extlinux.conf",
        ] {
            if let Some(text) = ctx.read(path) {
                let (entries, default) = legacy::parse_extlinux(&text, path);
                ctx.evidence.push(Evidence::file(
                    path,
                    format!(
                        "{} entries, default {}",
                        entries.len(),
                        default.as_deref().unwrap_or("(unset)")
                    ),
                ));
                let (index, problem) = match &default {
                    Some(d) => match entries
                        .iter()
                        .position(|e| e.id.as_deref() == Some(d.as_str()))
                    {
                        Some(i) => (Some(i), None),
                        None => (None, Some(format!("DEFAULT {d:?} matches no LABEL"))),
                    },
                    None if !entries.is_empty() => (Some(0), None),
                    None => (None, Some("no LABEL entries".to_string())),
                };
                result = Some(config(
                    LoaderKind::Extlinux,
                    path,
                    entries,
                    default,
                    index,
                    problem,
                ));
                break;
            }
        }
    }

    let Some(mut boot) = result else {
        for p in cfg_paths.iter().take(2) {
            ctx.evidence.push(Evidence::absent(p.clone()));
        }
        ctx.evidence.push(Evidence::absent("/boot/grub/menu.lst"));
        ctx.evidence
            .push(Evidence::absent("/boot/extlinux/extlinux.conf"));
        return Fact::absent(ctx.evidence);
    };
    boot.grub_cmdline_linux = defaults_file.0;
    boot.grub_cmdline_linux_default = defaults_file.1;
    boot.grub_default = defaults_file.2;
    if boot.loader == LoaderKind::SystemdBoot {
        // Entry paths are relative to the ESP that holds loader.conf.
        let esp = boot
            .config_path
            .trim_end_matches("/loader/loader.conf")
            .to_string();
        for e in &mut boot.entries {
            let at_esp = |p: &str| {
                let full = format!("{esp}{p}");
                ctx.guest.exists(&full).then_some(full)
            };
            e.kernel_path = e.kernel.as_deref().and_then(at_esp);
            e.initrd_paths = e.initrd.iter().filter_map(|i| at_esp(i)).collect();
        }
    } else {
        resolve_paths(&ctx, &mut boot.entries);
    }
    if let Some(e) = boot.default_entry() {
        ctx.evidence.push(Evidence::file(
            e.source.clone(),
            format!(
                "default entry {:?}: kernel {} ({}), initrd {} ({}), cmdline {:?}",
                e.title,
                e.kernel.as_deref().unwrap_or("(none)"),
                if e.kernel_path.is_some() {
                    "present"
                } else {
                    "missing"
                },
                if e.initrd.is_empty() {
                    "(none)".to_string()
                } else {
                    e.initrd.join(" ")
                },
                if e.initrd.is_empty() || e.initrd_paths.len() < e.initrd.len() {
                    "missing"
                } else {
                    "present"
                },
                e.cmdline.as_deref().unwrap_or("")
            ),
        ));
    }
    Fact::found(boot, ctx.evidence)
}

/// Match a systemd-boot `default` glob (`*` and `?`) against an entry id.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point: linear in practice.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).unwrap_or_default().iter().all(|c| *c == '*')
}

/// systemd-boot: `loader/loader.conf` and `loader/entries/*.conf` on the
/// ESP (mounted at `/boot/efi`, `/efi` or `/boot`).
fn systemd_boot(ctx: &mut Ctx<'_>, env: &[(String, String)]) -> Option<BootConfig> {
    for esp in ["/boot/efi", "/efi", "/boot"] {
        let conf_path = format!("{esp}/loader/loader.conf");
        let Some(conf) = ctx.read(&conf_path) else {
            continue;
        };
        let default = conf.lines().find_map(|l| {
            let l = l.trim();
            l.strip_prefix("default")
                .filter(|r| r.starts_with(char::is_whitespace))
                .map(|r| r.trim().to_string())
        });
        ctx.evidence.push(Evidence::file(
            conf_path.clone(),
            format!("default {}", default.as_deref().unwrap_or("(unset)")),
        ));
        let dir = format!("{esp}/loader/entries");
        let mut names = ctx.dir(&dir);
        names.retain(|n| n.ends_with(".conf"));
        names.sort();
        names.truncate(bls::MAX_FILES);
        let mut found = Vec::new();
        for name in names {
            let p = format!("{dir}/{name}");
            if let Some(text) = ctx.read_limited(&p, bls::FILE_LIMIT) {
                let (mut e, version) = bls::parse_entry(&text, name.trim_end_matches(".conf"), &p);
                e.cmdline = e.cmdline.map(|c| bls::expand(&c, env));
                e.initrd = expand_paths(&e.initrd, env);
                found.push((e, version));
            }
        }
        bls::sort_newest_first(&mut found);
        let entries: Vec<BootEntry> = found.into_iter().map(|(e, _)| e).collect();
        let (index, problem) = match default.as_deref() {
            None | Some("@saved") | Some("@default") => {
                (if entries.is_empty() { None } else { Some(0) }, None)
            }
            Some(pattern) => {
                let pattern = pattern.trim_end_matches(".conf");
                match entries
                    .iter()
                    .position(|e| e.id.as_deref().is_some_and(|id| glob_match(pattern, id)))
                {
                    Some(i) => (Some(i), None),
                    None => (None, Some(format!("default {pattern:?} matches no entry"))),
                }
            }
        };
        return Some(config(
            LoaderKind::SystemdBoot,
            &conf_path,
            entries,
            default,
            index,
            problem,
        ));
    }
    None
}

fn config(
    loader: LoaderKind,
    path: &str,
    entries: Vec<BootEntry>,
    default_spec: Option<String>,
    default_index: Option<usize>,
    default_problem: Option<String>,
) -> BootConfig {
    BootConfig {
        loader,
        config_path: path.to_string(),
        entries,
        default_spec,
        default_index,
        grub_search_uuids: Vec::new(),
        grub_cmdline_linux: None,
        grub_cmdline_linux_default: None,
        grub_default: None,
        default_problem,
    }
}

/// Build the configuration from a parsed grub.cfg (and BLS entries when it
/// calls `blscfg`).
fn from_grub2(
    ctx: &mut Ctx<'_>,
    path: &str,
    cfg: grub2::Grub2Config,
    env: &[(String, String)],
) -> BootConfig {
    // The last `set default=` that is not the one-shot next_entry.
    let written = cfg
        .defaults
        .iter()
        .rev()
        .find(|(_, v)| !v.contains("next_entry"))
        .cloned();
    if let Some((line, v)) = &written {
        ctx.evidence.push(Evidence::file(
            format!("{path}:{line}"),
            format!("set default=\"{v}\""),
        ));
    }
    let mut spec = written
        .as_ref()
        .map(|(_, v)| bls::expand(v, env))
        .unwrap_or_default();
    if spec.is_empty() || spec.contains('$') {
        // An empty saved_entry boots the first entry.
        spec = "0".to_string();
    }
    let mut problem = cfg.stopped.clone();
    let (loader, entries, index) = if cfg.blscfg {
        let mut found = Vec::new();
        let mut names = ctx.dir("/boot/loader/entries");
        names.retain(|n| n.ends_with(".conf"));
        names.sort();
        if names.len() > bls::MAX_FILES {
            problem = Some(format!(
                "more than {} BLS entries; the rest not read",
                bls::MAX_FILES
            ));
            names.truncate(bls::MAX_FILES);
        }
        for name in names {
            let p = format!("/boot/loader/entries/{name}");
            if let Some(text) = ctx.read_limited(&p, bls::FILE_LIMIT) {
                let id = name.trim_end_matches(".conf");
                let (mut e, version) = bls::parse_entry(&text, id, &p);
                e.cmdline = e.cmdline.map(|c| bls::expand(&c, env));
                e.initrd = expand_paths(&e.initrd, env);
                found.push((e, version));
            }
        }
        bls::sort_newest_first(&mut found);
        let entries: Vec<BootEntry> = found.into_iter().map(|(e, _)| e).collect();
        ctx.evidence.push(Evidence::file(
            "/boot/loader/entries",
            format!(
                "{} BLS entries (newest first: {})",
                entries.len(),
                entries
                    .iter()
                    .filter_map(|e| e.id.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
        let index = match spec.parse::<usize>() {
            Ok(n) if n < entries.len() => Some(n),
            Ok(_) => None,
            Err(_) => entries
                .iter()
                .position(|e| e.id.as_deref() == Some(spec.as_str()) || e.title == spec),
        };
        if index.is_none() && problem.is_none() {
            problem = Some(format!("default {spec:?} matches no BLS entry"));
        }
        (LoaderKind::Grub2Bls, entries, index)
    } else {
        ctx.evidence.push(Evidence::file(
            path,
            format!("{} menu entries", cfg.entries.len()),
        ));
        let mut entries = cfg.entries.clone();
        for e in &mut entries {
            e.cmdline = e.cmdline.take().map(|c| bls::expand(&c, env));
            e.initrd = expand_paths(&e.initrd, env);
        }
        let index = match grub2::resolve_default(&cfg, &spec, &entries) {
            DefaultChoice::Index(i) => Some(i),
            DefaultChoice::Unresolved(why) => {
                problem.get_or_insert(why);
                None
            }
        };
        (LoaderKind::Grub2, entries, index)
    };
    let mut boot = config(loader, path, entries, Some(spec), index, problem);
    boot.grub_search_uuids = cfg.search_uuids;
    boot
}
