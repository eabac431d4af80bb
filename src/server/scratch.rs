//! Buffers reused from message to message on one thread, so that the encrypted-message path
//! allocates nothing for the bytes read, a frame's plaintext, its encryption or the bytes
//! written once they have been used (issue 15, item 2: "no allocation per message").
//!
//! A buffer is taken out of its thread's slot for one use and put back after it ([`Scratch`]
//! does both); a use nested in another (an update pushed while answering) finds the slot empty
//! and gets a fresh buffer. Buffers that grew past [`KEEP`] for a large answer are freed rather
//! than kept. A buffer that held plaintext is wiped before it goes back (CH-2).

use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use std::thread::LocalKey;

use zeroize::Zeroize;

/// The largest buffer kept between uses; most frames are far smaller.
pub(super) const KEEP: usize = 16 * 1024;

type Slot = LocalKey<Cell<Vec<u8>>>;

thread_local! {
    /// What one read from a socket brought.
    pub static READ: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    /// A received frame's plaintext.
    pub static PLAIN: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    /// An answer's encrypted frame, before its transport framing.
    pub static FRAME: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    /// The bytes one input's answers put on the wire.
    pub static SEND: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Takes `slot`'s buffer, empty (a fresh one if the slot is in use).
pub fn take(slot: &'static Slot) -> Vec<u8> {
    let mut buf = slot.take();
    buf.clear();
    buf
}

/// Puts `buf` back into `slot` for the next use, unless it grew too large; `wipe` overwrites
/// its bytes first. Only the bytes in use: a plaintext buffer's spare room holds nothing but
/// decrypted padding (each plaintext is wiped when its use ends), and wiping all of a buffer
/// that once grew would cost every later message a 16 KiB write.
pub fn give(slot: &'static Slot, mut buf: Vec<u8>, wipe: bool) {
    if wipe {
        buf.as_mut_slice().zeroize();
    }
    if buf.capacity() <= KEEP {
        slot.set(buf);
    }
}

/// A buffer taken from a slot for one scope, given back when dropped.
pub struct Scratch {
    buf: Vec<u8>,
    slot: &'static Slot,
    wipe: bool,
}

impl Scratch {
    /// `slot`'s buffer; `wipe`: it will hold secrets (a plaintext), wiped when given back.
    pub fn take(slot: &'static Slot, wipe: bool) -> Self {
        Scratch {
            buf: take(slot),
            slot,
            wipe,
        }
    }

    /// `slot`'s buffer with at least `len` bytes in it, holding whatever its last use left, for
    /// a buffer that is written before it is read and never holds secrets (the socket's bytes):
    /// only a new buffer is zeroed, where taking it empty and filling it would zero `len` bytes
    /// at every use. A new one gets exactly `len` bytes of room, so that one of [`KEEP`] bytes
    /// is kept.
    pub fn take_len(slot: &'static Slot, len: usize) -> Self {
        let mut buf = slot.take();
        if buf.len() < len {
            buf.reserve_exact(len - buf.len());
            buf.resize(len, 0);
        }
        Scratch {
            buf,
            slot,
            wipe: false,
        }
    }
}

impl Deref for Scratch {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.buf
    }
}

impl DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        give(self.slot, std::mem::take(&mut self.buf), self.wipe);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static TEST: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    }

    #[test]
    fn a_buffer_is_reused_wiped_and_a_nested_use_gets_its_own() {
        let first_ptr;
        {
            let mut a = Scratch::take(&TEST, true);
            a.extend_from_slice(b"secret plaintext");
            first_ptr = a.as_ptr();
            // Nested: the slot is empty, so this one is a separate buffer.
            let mut b = Scratch::take(&TEST, false);
            b.extend_from_slice(b"other");
            assert_ne!(b.as_ptr(), first_ptr);
            drop(b);
        }
        // `a` went back last (its bytes wiped); it is the one handed out again, empty, with
        // its room.
        let again = Scratch::take(&TEST, false);
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), first_ptr);
        assert!(again.capacity() >= 16);
    }

    #[test]
    fn a_buffer_taken_at_a_length_keeps_its_bytes_and_length() {
        {
            let mut a = Scratch::take_len(&TEST, 64);
            assert_eq!(*a, [0u8; 64]);
            a[..5].copy_from_slice(b"bytes");
        }
        let b = Scratch::take_len(&TEST, 32);
        assert_eq!(b.len(), 64);
        assert_eq!(&b[..5], b"bytes");
        drop(b);
        // A plain take still hands it out empty.
        assert!(Scratch::take(&TEST, false).is_empty());
        // The largest kept (the socket read's buffer: `conn_task::receive` finds the bytes
        // `poll_read` left in it).
        Scratch::take_len(&TEST, KEEP)[KEEP - 1] = 9;
        assert_eq!(Scratch::take_len(&TEST, KEEP)[KEEP - 1], 9);
    }

    #[test]
    fn a_large_buffer_is_not_kept() {
        let mut big = take(&TEST);
        big.resize(KEEP + 1, 7);
        give(&TEST, big, false);
        assert_eq!(take(&TEST).capacity(), 0);
    }
}
