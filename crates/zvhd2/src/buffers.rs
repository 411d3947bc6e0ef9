//! Reusable buffers for the conversion pipelines.

use std::sync::Mutex;

/// Buffers of one size, handed out and given back. A pipeline holds a
/// bounded number in flight, so the pool never grows past that; reusing
/// them spares the allocator returning memory to the system and the page
/// faults of touching it again, which cost as much as the copy itself for
/// multi-megabyte chunks.
#[derive(Debug)]
pub(crate) struct BufferPool {
    size: usize,
    free: Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    /// A pool of `size`-byte buffers.
    pub fn new(size: usize) -> Self {
        BufferPool {
            size,
            free: Mutex::new(Vec::new()),
        }
    }

    /// A buffer of the pool's size (a pool of size 0 hands out empty
    /// buffers that keep their capacity). Its bytes are whatever the last
    /// user left (zeros when new): callers overwrite what they use.
    pub fn take(&self) -> Vec<u8> {
        let mut buf = self
            .free
            .lock()
            .ok()
            .and_then(|mut free| free.pop())
            .unwrap_or_default();
        buf.resize(self.size, 0);
        buf
    }

    /// Gives a buffer back for reuse.
    pub fn give(&self, buf: Vec<u8>) {
        if let Ok(mut free) = self.free.lock() {
            free.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_back_buffer_is_handed_out_again_at_full_size() {
        let pool = BufferPool::new(64);
        let mut a = pool.take();
        assert_eq!(a.len(), 64);
        a.truncate(10);
        a[0] = 7;
        let ptr = a.as_ptr();
        pool.give(a);
        let b = pool.take();
        assert_eq!(b.len(), 64);
        assert_eq!(b.as_ptr(), ptr);
        assert_eq!(b[0], 7);
    }
}
