//! Randomness as an input (ARCHITECTURE rule 2): the protocol core draws every random byte from
//! a `Rng` it is handed. The server passes `OsRng` (the operating system's CSPRNG, CH-2); tests
//! and fuzz targets pass a `SeededRng` so that runs repeat byte for byte.

/// A source of random bytes.
pub trait Rng {
    fn fill(&mut self, buf: &mut [u8]);

    fn array<const N: usize>(&mut self) -> [u8; N]
    where
        Self: Sized,
    {
        let mut a = [0u8; N];
        self.fill(&mut a);
        a
    }

    fn next_u32(&mut self) -> u32
    where
        Self: Sized,
    {
        u32::from_le_bytes(self.array())
    }

    fn next_i64(&mut self) -> i64
    where
        Self: Sized,
    {
        i64::from_le_bytes(self.array())
    }
}

/// A borrowed source is a source, so a `&mut dyn Rng` can go where an `impl Rng` is asked for.
impl<R: Rng + ?Sized> Rng for &mut R {
    fn fill(&mut self, buf: &mut [u8]) {
        (**self).fill(buf)
    }
}

/// The operating system's CSPRNG (getrandom).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&mut self, buf: &mut [u8]) {
        // A machine whose kernel cannot hand out random bytes cannot run a key exchange safely;
        // there is nothing sensible to continue with.
        getrandom::fill(buf).expect("the operating system's random number generator failed");
    }
}

/// The operating system's CSPRNG read 16 KiB at a time into a per-thread pool, so that a busy
/// server does not make a getrandom call for every message's padding (up to 1,024 bytes each,
/// EN-8; a larger draw goes to the OS directly). Every byte comes from the
/// OS, is handed out once and wiped from the pool as it goes (CH-2).
#[derive(Debug, Default, Clone, Copy)]
pub struct PooledOsRng;

const POOL_BYTES: usize = 16 * 1024;
/// Draws larger than this bypass the pool.
const MAX_POOLED_DRAW: usize = 1024;

struct Pool {
    bytes: [u8; POOL_BYTES],
    used: usize,
}

thread_local! {
    /// Allocated at a thread's first draw: the store's and the runtime's other threads, which
    /// never draw, carry no 16 KiB each.
    static POOL: std::cell::RefCell<Option<Box<Pool>>> = const { std::cell::RefCell::new(None) };
}

impl Rng for PooledOsRng {
    fn fill(&mut self, buf: &mut [u8]) {
        if buf.len() > MAX_POOLED_DRAW {
            return OsRng.fill(buf);
        }
        POOL.with_borrow_mut(|pool| {
            let pool = pool.get_or_insert_with(|| {
                Box::new(Pool {
                    bytes: [0; POOL_BYTES],
                    used: POOL_BYTES,
                })
            });
            let mut filled = 0;
            while filled < buf.len() {
                if pool.used == pool.bytes.len() {
                    OsRng.fill(&mut pool.bytes);
                    pool.used = 0;
                }
                let n = (buf.len() - filled).min(pool.bytes.len() - pool.used);
                let taken = &mut pool.bytes[pool.used..pool.used + n];
                buf[filled..filled + n].copy_from_slice(taken);
                zeroize::Zeroize::zeroize(taken);
                pool.used += n;
                filled += n;
            }
        });
    }
}

/// A deterministic generator for tests and fuzzing: SHA256(seed ‖ counter) blocks. Not for
/// production secrets, and not compiled into a production build (the `testing` feature or
/// tests only).
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone)]
pub struct SeededRng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

#[cfg(any(test, feature = "testing"))]
impl SeededRng {
    pub fn new(seed: u64) -> Self {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_le_bytes());
        SeededRng {
            seed: s,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }
}

#[cfg(any(test, feature = "testing"))]
impl Rng for SeededRng {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            if self.used == 32 {
                self.block = crate::crypto::sha256(&[&self.seed, &self.counter.to_le_bytes()]);
                self.counter += 1;
                self.used = 0;
            }
            *b = self.block[self.used];
            self.used += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_rng_repeats_and_seeds_differ() {
        let a: [u8; 40] = SeededRng::new(1).array();
        let b: [u8; 40] = SeededRng::new(1).array();
        let c: [u8; 40] = SeededRng::new(2).array();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn the_pool_hands_out_each_byte_once_across_refills() {
        let mut seen = std::collections::HashSet::new();
        // 3 pools' worth: no 16-byte draw repeats, large draws go straight to the OS.
        for i in 0..3 * POOL_BYTES / 16 {
            let a: [u8; 16] = PooledOsRng.array();
            assert!(seen.insert(a), "draw {i} repeated");
        }
        let big: [u8; MAX_POOLED_DRAW + 1] = PooledOsRng.array();
        assert!(big.iter().any(|b| *b != 0));
        POOL.with_borrow(|p| {
            let p = p.as_ref().expect("drawn from");
            assert!(p.bytes[..p.used].iter().all(|b| *b == 0), "wiped")
        });
    }

    #[test]
    fn os_rng_fills() {
        let a: [u8; 32] = OsRng.array();
        let b: [u8; 32] = OsRng.array();
        assert_ne!(a, b);
    }
}
