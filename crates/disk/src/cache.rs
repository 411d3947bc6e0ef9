//! A bounded cache of metadata tables (qcow2 L2 tables, VMDK grain tables,
//! VHDX BAT pages) shared by the threads reading one image.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Tables keyed by their offset in the file, holding at most a fixed number
/// of bytes; the least recently used table goes first.
///
/// A 1 TiB qcow2 with 64 KiB clusters has 2 GiB of L2 tables at most, so a
/// backend never keeps them all: a conversion walks the disk in order and
/// needs only the few tables around its position, and a lookup that misses
/// costs one read of one table.
#[derive(Debug)]
pub struct TableCache<T> {
    inner: Mutex<Inner<T>>,
    capacity_bytes: usize,
}

#[derive(Debug)]
struct Inner<T> {
    tables: HashMap<u64, (Arc<T>, u64, usize)>,
    bytes: usize,
    clock: u64,
}

impl<T> TableCache<T> {
    /// A cache holding at most `capacity_bytes` of tables (at least one).
    pub fn new(capacity_bytes: usize) -> Self {
        TableCache {
            inner: Mutex::new(Inner {
                tables: HashMap::new(),
                bytes: 0,
                clock: 0,
            }),
            capacity_bytes,
        }
    }

    /// The table at `key`, loading it with `load` (which also returns its
    /// size in bytes) when it is not cached. Loads run outside the lock, so
    /// two threads may load the same table once each.
    pub fn get_or_load<E>(
        &self,
        key: u64,
        load: impl FnOnce() -> Result<(T, usize), E>,
    ) -> Result<Arc<T>, E> {
        if let Some(table) = self.lookup(key) {
            return Ok(table);
        }
        let (table, bytes) = load()?;
        let table = Arc::new(table);
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        if let Some(old) = inner.tables.insert(key, (Arc::clone(&table), now, bytes)) {
            inner.bytes -= old.2;
        }
        inner.bytes += bytes;
        while inner.bytes > self.capacity_bytes && inner.tables.len() > 1 {
            let oldest = inner
                .tables
                .iter()
                .filter(|(k, _)| **k != key)
                .min_by_key(|(_, v)| v.1)
                .map(|(k, _)| *k);
            match oldest.and_then(|k| inner.tables.remove(&k)) {
                Some(evicted) => inner.bytes -= evicted.2,
                None => break,
            }
        }
        Ok(table)
    }

    fn lookup(&self, key: u64) -> Option<Arc<T>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner.tables.get_mut(&key)?;
        entry.1 = now;
        Some(Arc::clone(&entry.0))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<T>> {
        // A panic while holding the lock leaves the map consistent (every
        // update is a single insert or remove), so a poisoned lock is used.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_at_most_its_capacity_and_drops_the_least_recent() {
        let cache = TableCache::new(3 * 100);
        for key in 0..3u64 {
            let t = cache.get_or_load::<()>(key, || Ok((key, 100))).unwrap();
            assert_eq!(*t, key);
        }
        // Touch 0, so 1 is the least recently used.
        cache.get_or_load::<()>(0, || panic!("cached")).unwrap();
        cache.get_or_load::<()>(3, || Ok((3, 100))).unwrap();
        let mut loaded = false;
        cache
            .get_or_load::<()>(1, || {
                loaded = true;
                Ok((1, 100))
            })
            .unwrap();
        assert!(loaded, "table 1 should have been evicted");
        assert!(cache.lock().bytes <= 300);
    }
}
