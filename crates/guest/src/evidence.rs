//! Evidence and facts: every result carries what was read to reach it.

use std::fmt;

/// Where a piece of evidence was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvidenceKind {
    /// A path inside the guest (after links were resolved, when relevant).
    File,
    /// A path inside an archive (e.g. an initramfs), written `archive!member`.
    Archive,
    /// A registry key and value name.
    Registry,
    /// A disk or volume structure (MBR boot code, a partition, a volume).
    Disk,
}

/// One thing read from the guest and the value found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// What kind of location `location` names.
    pub kind: EvidenceKind,
    /// The guest path, registry key or disk structure read.
    pub location: String,
    /// The value found, as the user would see it when checking by hand
    /// (a line of the file, a field value, "absent", ...).
    pub value: String,
}

impl Evidence {
    /// Evidence read from a guest file.
    pub fn file(path: impl Into<String>, value: impl Into<String>) -> Evidence {
        Evidence {
            kind: EvidenceKind::File,
            location: path.into(),
            value: value.into(),
        }
    }

    /// Evidence that a guest path does not exist.
    pub fn absent(path: impl Into<String>) -> Evidence {
        Evidence::file(path, "absent")
    }

    /// Evidence read from a member of an archive inside the guest.
    pub fn archive(archive: &str, member: &str, value: impl Into<String>) -> Evidence {
        Evidence {
            kind: EvidenceKind::Archive,
            location: format!("{archive}!{member}"),
            value: value.into(),
        }
    }

    /// Evidence read from a registry value.
    pub fn registry(key: impl Into<String>, value: impl Into<String>) -> Evidence {
        Evidence {
            kind: EvidenceKind::Registry,
            location: key.into(),
            value: value.into(),
        }
    }

    /// Evidence read from the disk or a volume's structures.
    pub fn disk(what: impl Into<String>, value: impl Into<String>) -> Evidence {
        Evidence {
            kind: EvidenceKind::Disk,
            location: what.into(),
            value: value.into(),
        }
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.value)
    }
}

/// A fact about the guest with the evidence it rests on.
///
/// Three states: `value` is `Some` (found), `value` is `None` and `unknown`
/// is `None` (determined absent), or `unknown` is `Some(reason)` (could not
/// be decided, e.g. a file could not be read). The evidence is kept in all
/// three states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact<T> {
    /// The value found, if any.
    pub value: Option<T>,
    /// What was read, in the order it was read.
    pub evidence: Vec<Evidence>,
    /// Why the fact could not be decided, when it could not.
    pub unknown: Option<String>,
}

impl<T> Default for Fact<T> {
    fn default() -> Self {
        Fact {
            value: None,
            evidence: Vec::new(),
            unknown: None,
        }
    }
}

impl<T> Fact<T> {
    /// A fact that was found.
    pub fn found(value: T, evidence: Vec<Evidence>) -> Fact<T> {
        Fact {
            value: Some(value),
            evidence,
            unknown: None,
        }
    }

    /// A fact determined to be absent.
    pub fn absent(evidence: Vec<Evidence>) -> Fact<T> {
        Fact {
            value: None,
            evidence,
            unknown: None,
        }
    }

    /// A fact that could not be decided, and why.
    pub fn unknown(reason: impl Into<String>, evidence: Vec<Evidence>) -> Fact<T> {
        Fact {
            value: None,
            evidence,
            unknown: Some(reason.into()),
        }
    }

    /// True when the fact was decided (found or determined absent).
    pub fn is_known(&self) -> bool {
        self.unknown.is_none()
    }

    /// The value, if found.
    pub fn get(&self) -> Option<&T> {
        self.value.as_ref()
    }
}
