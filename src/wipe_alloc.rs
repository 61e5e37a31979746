//! The heap allocator of the `sesame` binary: the system's, except that every buffer is
//! zeroed before it is given back.
//!
//! `Secret` zeroes its own bytes on drop, but a value passes through buffers sesame does
//! not own before it becomes one: the YAML parser's scalars (a `default:`), a `Vec`
//! that grew and left its old copy behind, a `String` built while escaping. Freed
//! without wiping, those copies stay readable in the supervisor's memory for the whole
//! life of the command (`--init`), or in a core dump. Wiping here closes that class
//! at its one common point rather than buffer by buffer.
//!
//! `realloc` keeps `GlobalAlloc`'s provided form (allocate, copy, free the old one
//! through `dealloc`), so a buffer that grows or moves is wiped too; the system's own
//! `realloc` would free the old copy as it is. The cost is measured in the README's
//! benchmark (every freed byte written once more).

use std::alloc::{GlobalAlloc, Layout, System};
use zeroize::Zeroize;

/// The system allocator, wiping on free.
pub struct WipeOnFree;

// SAFETY: every call is forwarded to `System` with the caller's own pointer and
// layout; `dealloc` only writes zeroes into the block it is about to free, which the
// caller guarantees was allocated by this allocator with `layout`.
unsafe impl GlobalAlloc for WipeOnFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (the caller upholds `GlobalAlloc::alloc`'s contract).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` bytes from this allocator
        // (the caller's guarantee), so it may be written before it is freed.
        // `zeroize` writes volatilely: the compiler cannot drop these stores as dead
        // before `free`.
        unsafe {
            std::slice::from_raw_parts_mut(ptr, layout.size()).zeroize();
            System.dealloc(ptr, layout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_block_is_zeroed_before_it_is_given_back() {
        let layout = Layout::from_size_align(64, 8).unwrap();
        // SAFETY: a fresh block of 64 bytes, written, then freed once; it is read
        // again only through a second allocation of the same size class, which is
        // what the test is about (whatever the system hands back must not hold the
        // planted bytes... unless it is the same block, which must be zero).
        unsafe {
            let p = WipeOnFree.alloc(layout);
            assert!(!p.is_null());
            std::ptr::write_bytes(p, 0xA5, 64);
            WipeOnFree.dealloc(p, layout);
            let q = WipeOnFree.alloc(layout);
            if q == p {
                // glibc keeps its free-list link in the first 16 bytes.
                let tail = std::slice::from_raw_parts(q.add(16), 48);
                assert!(tail.iter().all(|&b| b != 0xA5));
            }
            WipeOnFree.dealloc(q, layout);
        }
    }
}
