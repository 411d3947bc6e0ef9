//! GRUB 2 `grub.cfg`: menu entries, submenus, `set default=`, `search
//! --fs-uuid`, `blscfg` and `configfile`.
//!
//! This is not a GRUB script interpreter: it reads the statements that
//! `grub2-mkconfig` writes (and the hand-written forms of the same
//! statements) line by line, quote-aware, with the block structure tracked
//! on an explicit stack bounded to [`MAX_DEPTH`] levels, so hostile nesting
//! stops the parse instead of the process.

use super::{BootEntry, DefaultChoice};

/// Deepest block nesting accepted (grub-mkconfig writes 3 or 4 levels).
pub const MAX_DEPTH: usize = 64;

/// Most menu entries kept.
pub const MAX_ENTRIES: usize = 4096;

/// A menu item: an entry or a submenu holding more items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Index into [`Grub2Config::entries`].
    Entry(usize),
    /// A submenu.
    Submenu {
        /// Title.
        title: String,
        /// Id, if given.
        id: Option<String>,
        /// Items inside.
        items: Vec<Item>,
    },
}

/// What a `grub.cfg` says.
#[derive(Debug, Clone, Default)]
pub struct Grub2Config {
    /// Entries in file order (submenu entries included).
    pub entries: Vec<BootEntry>,
    /// Top-level menu structure.
    pub items: Vec<Item>,
    /// `set default=` values in file order (line, value).
    pub defaults: Vec<(usize, String)>,
    /// UUIDs named by `search --fs-uuid`.
    pub search_uuids: Vec<String>,
    /// `blscfg` is called: entries come from `/boot/loader/entries`.
    pub blscfg: bool,
    /// `configfile` targets.
    pub configfiles: Vec<String>,
    /// Why the parse stopped early, if it did.
    pub stopped: Option<String>,
}

/// Split a GRUB line into words: quotes removed, `\` escapes kept simple,
/// `#` comments dropped, `;` ends a word.
pub fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                has = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    has = true;
                }
            }
            (None, '#') if !has && cur.is_empty() => break,
            (None, c) if c.is_whitespace() || c == ';' => {
                if has || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has || !cur.is_empty() {
        out.push(cur);
    }
    out
}

enum Block {
    Entry(usize),
    Submenu {
        title: String,
        id: Option<String>,
        items: Vec<Item>,
    },
    Other,
}

fn title_and_id(w: &[String]) -> (String, Option<String>) {
    let title = w.get(1).cloned().unwrap_or_default();
    let mut id = None;
    let mut i = 2;
    while let Some(word) = w.get(i) {
        if word == "$menuentry_id_option" || word == "--id" {
            id = w.get(i + 1).cloned();
            i += 1;
        } else if let Some(v) = word.strip_prefix("--id=") {
            id = Some(v.to_string());
        }
        i += 1;
    }
    (title, id)
}

/// Parse a `grub.cfg` read from `path`.
pub fn parse(text: &str, path: &str) -> Grub2Config {
    let mut cfg = Grub2Config::default();
    let mut stack: Vec<Block> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let w = words(raw);
        let Some(first) = w.first().map(String::as_str) else {
            continue;
        };
        let opens = w
            .last()
            .is_some_and(|l| l == "{" || (l.ends_with('{') && l.len() > 1));
        let current_entry = stack.iter().rev().find_map(|b| match b {
            Block::Entry(i) => Some(*i),
            _ => None,
        });
        match first {
            "menuentry" if opens => {
                if cfg.entries.len() >= MAX_ENTRIES {
                    cfg.stopped = Some(format!("more than {MAX_ENTRIES} menu entries"));
                    break;
                }
                let (title, id) = title_and_id(&w);
                cfg.entries.push(BootEntry {
                    title,
                    id,
                    source: format!("{path}:{line_no}"),
                    ..BootEntry::default()
                });
                stack.push(Block::Entry(cfg.entries.len() - 1));
            }
            "submenu" if opens => {
                let (title, id) = title_and_id(&w);
                stack.push(Block::Submenu {
                    title,
                    id,
                    items: Vec::new(),
                });
            }
            "linux" | "linux16" | "linuxefi" | "kernel" => {
                if let Some(e) = current_entry.and_then(|i| cfg.entries.get_mut(i)) {
                    e.kernel = w.get(1).cloned();
                    e.cmdline = Some(w.get(2..).unwrap_or_default().join(" "));
                }
            }
            "initrd" | "initrd16" | "initrdefi" => {
                if let Some(e) = current_entry.and_then(|i| cfg.entries.get_mut(i)) {
                    e.initrd = w.get(1..).unwrap_or_default().to_vec();
                }
            }
            "set" => {
                if let Some(v) = w.get(1).and_then(|a| a.strip_prefix("default=")) {
                    cfg.defaults.push((line_no, v.to_string()));
                }
            }
            "search" | "search.fs_uuid" => {
                let is_uuid =
                    first == "search.fs_uuid" || w.iter().any(|a| a == "--fs-uuid" || a == "-u");
                if is_uuid {
                    let value = w.iter().skip(1).rfind(|a| !a.starts_with('-') && *a != "{");
                    if let Some(u) = value {
                        if !cfg.search_uuids.contains(u) {
                            cfg.search_uuids.push(u.clone());
                        }
                    }
                }
            }
            "blscfg" => cfg.blscfg = true,
            "configfile" => {
                if let Some(t) = w.get(1) {
                    cfg.configfiles.push(t.clone());
                }
            }
            _ => {}
        }
        // Block structure: closing braces pop, an opening brace that was not
        // a menu entry or submenu pushes an anonymous block.
        if !matches!(first, "menuentry" | "submenu") || !opens {
            for word in &w {
                if word == "}" {
                    close(&mut stack, &mut cfg.items);
                } else if word.ends_with('{') {
                    stack.push(Block::Other);
                }
            }
        }
        if stack.len() > MAX_DEPTH {
            cfg.stopped = Some(format!(
                "{path}:{line_no}: blocks nested deeper than {MAX_DEPTH} levels"
            ));
            break;
        }
    }
    // Unclosed blocks still contribute their entries.
    while !stack.is_empty() {
        close(&mut stack, &mut cfg.items);
    }
    cfg
}

fn close(stack: &mut Vec<Block>, top: &mut Vec<Item>) {
    let Some(block) = stack.pop() else {
        return;
    };
    let item = match block {
        Block::Entry(i) => Item::Entry(i),
        Block::Submenu { title, id, items } => Item::Submenu { title, id, items },
        Block::Other => return,
    };
    let parent = stack.iter_mut().rev().find_map(|b| match b {
        Block::Submenu { items, .. } => Some(items),
        _ => None,
    });
    match parent {
        Some(items) => items.push(item),
        None => top.push(item),
    }
}

/// Resolve a GRUB default (`0`, `1>2`, an id, a title, `a>b`) to an entry.
pub fn resolve_default(cfg: &Grub2Config, spec: &str, entries: &[BootEntry]) -> DefaultChoice {
    let mut items = &cfg.items;
    let parts: Vec<&str> = spec.split('>').collect();
    for (depth, part) in parts.iter().enumerate() {
        let last = depth + 1 == parts.len();
        let found = if let Ok(n) = part.trim().parse::<usize>() {
            items.get(n)
        } else {
            items.iter().find(|it| match it {
                Item::Entry(i) => entries
                    .get(*i)
                    .is_some_and(|e| e.id.as_deref() == Some(part) || e.title == *part),
                Item::Submenu { title, id, .. } => id.as_deref() == Some(part) || title == part,
            })
        };
        match found {
            Some(Item::Entry(i)) if last => return DefaultChoice::Index(*i),
            Some(Item::Submenu { items: inner, .. }) if !last => items = inner,
            Some(Item::Submenu { items: inner, .. }) => {
                // A submenu as the default boots its first entry.
                return match inner.first() {
                    Some(Item::Entry(i)) => DefaultChoice::Index(*i),
                    _ => DefaultChoice::Unresolved(format!("default {spec:?} names a submenu")),
                };
            }
            _ => {
                return DefaultChoice::Unresolved(format!("default {spec:?} matches no menu entry"))
            }
        }
    }
    DefaultChoice::Unresolved(format!("default {spec:?} matches no menu entry"))
}
