//! Randomness as an input (ARCHITECTURE rule 2): the protocol core draws every random byte from
//! a `Rng` it is handed. The server passes `OsRng` (the operating system's CSPRNG, CH-2); tests
//! and fuzz targets pass a `SeededRng` so that runs repeat byte for byte.

/// A source of random bytes.
pub trait Rng {
    fn fill(&mut self, buf: &mut [u8]);

    /// Bytes that only fill space: EN-8's padding of an encrypted message, inside the
    /// encryption and under msg_key. They must be unpredictable (CH-2), but no key, nonce or
    /// other secret is made from them, so a source may draw them from a CSPRNG cheaper per byte
    /// than the one `fill` uses; by default they come from `fill`.
    fn fill_padding(&mut self, buf: &mut [u8]) {
        self.fill(buf)
    }

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

    fn fill_padding(&mut self, buf: &mut [u8]) {
        (**self).fill_padding(buf)
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

/// The server's source. Secrets and ids (nonces, `a`, salts, session and message ids, codes,
/// tokens) come from the operating system's CSPRNG; padding (EN-8: 12..1024 bytes on every
/// message the server sends, ~500 on average) from OpenSSL's private DRBG (the AES-256
/// CTR_DRBG of NIST SP 800-90A, seeded and reseeded from the OS, one per thread). `perf` of
/// the server under `bench rpc` showed ~10 % of its CPU in the kernel making padding bytes
/// (a generic ChaCha20 at several cycles a byte); the DRBG makes them with AES-NI. Both are
/// read in blocks into per-thread pools, so that a busy server makes neither a getrandom nor
/// a DRBG call (whose fixed cost is about a microsecond) for each draw; every byte is handed
/// out once and wiped from its pool as it goes (CH-2).
#[derive(Debug, Default, Clone, Copy)]
pub struct PooledOsRng;

/// The secrets' pool: 4 KiB of the OS's bytes; larger draws go to the OS directly.
const POOL_BYTES: usize = 4 * 1024;
const MAX_POOLED_DRAW: usize = 256;
/// The padding pool: 16 KiB of the DRBG's bytes, about 30 messages' padding.
const PADDING_POOL_BYTES: usize = 16 * 1024;

struct Pool<const N: usize> {
    bytes: [u8; N],
    used: usize,
}

type PoolCell<const N: usize> = std::cell::RefCell<Option<Box<Pool<N>>>>;

thread_local! {
    /// Each allocated at a thread's first draw: the store's and the runtime's other threads,
    /// which never draw, carry neither.
    static POOL: PoolCell<POOL_BYTES> = const { std::cell::RefCell::new(None) };
    static PADDING_POOL: PoolCell<PADDING_POOL_BYTES> = const { std::cell::RefCell::new(None) };
}

/// Fills `buf` from this thread's pool in `cell`, refilling it whole from `source` when spent.
fn draw<const N: usize>(
    cell: &'static std::thread::LocalKey<PoolCell<N>>,
    source: fn(&mut [u8]),
    buf: &mut [u8],
) {
    cell.with_borrow_mut(|pool| {
        let pool = pool.get_or_insert_with(|| {
            Box::new(Pool {
                bytes: [0; N],
                used: N,
            })
        });
        let mut filled = 0;
        while filled < buf.len() {
            if pool.used == N {
                source(&mut pool.bytes);
                pool.used = 0;
            }
            let n = (buf.len() - filled).min(N - pool.used);
            let taken = &mut pool.bytes[pool.used..pool.used + n];
            buf[filled..filled + n].copy_from_slice(taken);
            zeroize::Zeroize::zeroize(taken);
            pool.used += n;
            filled += n;
        }
    })
}

/// OpenSSL's private DRBG (`RAND_priv_bytes`).
fn drbg(buf: &mut [u8]) {
    // As with the OS's generator: without random bytes the server cannot answer safely.
    openssl::rand::rand_priv_bytes(buf).expect("OpenSSL's random number generator failed");
}

impl Rng for PooledOsRng {
    fn fill(&mut self, buf: &mut [u8]) {
        if buf.len() > MAX_POOLED_DRAW {
            return OsRng.fill(buf);
        }
        draw(&POOL, |b| OsRng.fill(b), buf)
    }

    fn fill_padding(&mut self, buf: &mut [u8]) {
        draw(&PADDING_POOL, drbg, buf)
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
    fn padding_comes_from_its_own_pool_once_and_wiped() {
        let mut seen = std::collections::HashSet::new();
        // Draws of a message's padding size, across refills: none repeats, none is all zero.
        for i in 0..3 * PADDING_POOL_BYTES / 1000 {
            let mut pad = [0u8; 1000];
            PooledOsRng.fill_padding(&mut pad);
            assert!(pad.iter().any(|b| *b != 0));
            assert!(seen.insert(pad[..16].to_vec()), "draw {i} repeated");
        }
        PADDING_POOL.with_borrow(|p| {
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
