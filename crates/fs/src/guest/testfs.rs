//! A file system in memory for the guest view's unit tests: paths to
//! directories, files and links, with the no-follow rules of
//! [`FileSystem`].

use std::collections::BTreeMap;

use crate::error::FsError;
use crate::filesystem::{DirEntry, FileKind, FileSystem, FsInfo, FsKind, Metadata, Timestamp};

#[derive(Debug, Clone)]
enum Node {
    Dir,
    File(Vec<u8>),
    Link(Vec<u8>),
}

/// An in-memory tree.
#[derive(Debug)]
pub struct MemFs {
    name: String,
    nodes: BTreeMap<Vec<u8>, Node>,
    info: FsInfo,
}

impl MemFs {
    /// A tree called `name` (`/dev/vda1`) from `(path, content)` pairs:
    /// content `"/"` makes a directory, `"-> target"` a link, anything
    /// else a file. Parent directories are made.
    pub fn new(name: &str, uuid: &str, items: &[(&str, &str)]) -> MemFs {
        let mut nodes = BTreeMap::new();
        nodes.insert(b"/".to_vec(), Node::Dir);
        for (path, content) in items {
            let mut at = 0;
            while let Some(i) = path[at + 1..].find('/') {
                at += i + 1;
                nodes.insert(path.as_bytes()[..at].to_vec(), Node::Dir);
            }
            let node = if *content == "/" {
                Node::Dir
            } else if let Some(t) = content.strip_prefix("-> ") {
                Node::Link(t.as_bytes().to_vec())
            } else {
                Node::File(content.as_bytes().to_vec())
            };
            nodes.insert(path.as_bytes().to_vec(), node);
        }
        MemFs {
            name: name.to_owned(),
            nodes,
            info: FsInfo {
                kind: FsKind::Ext4,
                label: None,
                uuid: Some(uuid.to_owned()),
                size: 1 << 20,
                block_size: 4096,
                state: Vec::new(),
            },
        }
    }

    fn node(&self, path: &[u8]) -> Result<&Node, FsError> {
        let parts = crate::path::components(&self.name, path)?;
        for n in 1..parts.len() {
            let prefix = crate::path::prefix(&parts, n);
            match self.nodes.get(&prefix) {
                Some(Node::Dir) => {}
                Some(Node::Link(_)) => {
                    return Err(FsError::SymlinkInPath {
                        volume: self.name.clone(),
                        fs: "ext4",
                        path: prefix,
                    })
                }
                Some(Node::File(_)) => {
                    return Err(FsError::NotADirectory {
                        volume: self.name.clone(),
                        fs: "ext4",
                        path: prefix,
                    })
                }
                None => break,
            }
        }
        let full = crate::path::prefix(&parts, parts.len());
        self.nodes.get(&full).ok_or(FsError::NotFound {
            volume: self.name.clone(),
            fs: "ext4",
            path: full,
        })
    }
}

fn kind(node: &Node) -> FileKind {
    match node {
        Node::Dir => FileKind::Dir,
        Node::File(_) => FileKind::File,
        Node::Link(_) => FileKind::Symlink,
    }
}

impl FileSystem for MemFs {
    fn info(&self) -> &FsInfo {
        &self.info
    }

    fn metadata(&self, path: &[u8]) -> Result<Metadata, FsError> {
        let node = self.node(path)?;
        Ok(Metadata {
            kind: kind(node),
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: match node {
                Node::Dir => 0,
                Node::File(b) | Node::Link(b) => b.len() as u64,
            },
            mtime: Timestamp::default(),
            nlink: 1,
            inode: 1,
            note: None,
        })
    }

    fn read_dir(&self, path: &[u8]) -> Result<Vec<DirEntry>, FsError> {
        let Node::Dir = self.node(path)? else {
            return Err(FsError::wrong_kind(
                &self.name,
                "ext4",
                path,
                "directory",
                FileKind::File,
            ));
        };
        let mut base = path.to_vec();
        if base.last() != Some(&b'/') {
            base.push(b'/');
        }
        Ok(self
            .nodes
            .iter()
            .filter_map(|(p, n)| {
                let rest = p.strip_prefix(base.as_slice())?;
                (!rest.is_empty() && !rest.contains(&b'/')).then(|| DirEntry {
                    name: rest.to_vec(),
                    kind: kind(n),
                    inode: 1,
                })
            })
            .collect())
    }

    fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, FsError> {
        match self.node(path)? {
            Node::Link(t) => Ok(t.clone()),
            n => Err(FsError::wrong_kind(
                &self.name,
                "ext4",
                path,
                "symbolic link",
                kind(n),
            )),
        }
    }

    fn read_at(&self, path: &[u8], offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        match self.node(path)? {
            Node::File(b) => {
                let start = (offset as usize).min(b.len());
                let n = (b.len() - start).min(buf.len());
                buf[..n].copy_from_slice(&b[start..start + n]);
                Ok(n)
            }
            n => Err(FsError::wrong_kind(
                &self.name,
                "ext4",
                path,
                "regular file",
                kind(n),
            )),
        }
    }
}
