//! pq for the key exchange (HS-2) [doc: mtproto/auth_key]: the product of two fresh primes
//! p < q, both in [2^30, 2^31), so that every encoding of p and q is 4 bytes and pq is 8
//! (grammers refuses other pq sizes; Kurigram and pyrogram send p and q as 4 bytes).
//! The client side factors pq back with Pollard's rho.

/// Deterministic Miller-Rabin, exact for every n < 2^64 with these bases.
pub fn is_prime(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    for p in BASES {
        if n.is_multiple_of(p) {
            return n == p;
        }
    }
    let (mut d, mut s) = (n - 1, 0);
    while d.is_multiple_of(2) {
        d /= 2;
        s += 1;
    }
    'witness: for a in BASES {
        let mut x = pow_mod(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul_mod(x, x, n);
            if x == n - 1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    (u128::from(a) * u128::from(b) % u128::from(m)) as u64
}

fn pow_mod(mut base: u64, mut exp: u64, m: u64) -> u64 {
    let mut acc = 1;
    base %= m;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul_mod(acc, base, m);
        }
        base = mul_mod(base, base, m);
        exp >>= 1;
    }
    acc
}

/// A prime in [2^30, 2^31) drawn from `random` (CH-2: a CSPRNG in production).
pub fn random_prime(mut random: impl FnMut() -> u32) -> u32 {
    loop {
        let candidate = (random() & 0x7fff_ffff) | 0x4000_0001;
        if is_prime(u64::from(candidate)) {
            return candidate;
        }
    }
}

/// The factors the server issued for one handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pq {
    pub p: u32,
    pub q: u32,
}

impl Pq {
    /// Two distinct primes from `random`, the smaller first.
    pub fn generate(mut random: impl FnMut() -> u32) -> Self {
        loop {
            let a = random_prime(&mut random);
            let b = random_prime(&mut random);
            if a != b {
                return Pq {
                    p: a.min(b),
                    q: a.max(b),
                };
            }
        }
    }

    pub fn pq(self) -> u64 {
        u64::from(self.p) * u64::from(self.q)
    }

    /// pq as the big-endian bytes resPQ carries (always 8).
    pub fn pq_bytes(self) -> [u8; 8] {
        self.pq().to_be_bytes()
    }

    /// p and q as big-endian bytes (always 4 each), as req_DH_params must echo them (HS-3).
    pub fn p_bytes(self) -> [u8; 4] {
        self.p.to_be_bytes()
    }

    pub fn q_bytes(self) -> [u8; 4] {
        self.q.to_be_bytes()
    }
}

/// Client side: splits pq into its two prime factors (smaller first), by Pollard's rho with
/// Brent's cycle detection; `None` if pq is prime or below 4.
pub fn factorize(pq: u64) -> Option<(u64, u64)> {
    if pq < 4 || is_prime(pq) {
        return None;
    }
    if pq.is_multiple_of(2) {
        return Some((2, pq / 2));
    }
    for c in 1..64u64 {
        let f = |x: u64| (mul_mod(x, x, pq) + c) % pq;
        let (mut x, mut y, mut d) = (2u64, 2u64, 1u64);
        while d == 1 {
            x = f(x);
            y = f(f(y));
            d = gcd(x.abs_diff(y), pq);
        }
        if d != pq {
            let (a, b) = (d, pq / d);
            return Some((a.min(b), a.max(b)));
        }
    }
    None
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primality() {
        let primes = [
            2u64,
            3,
            5,
            1_513_098_571,
            1_780_931_429,
            2_147_483_647,
            18_446_744_073_709_551_557,
        ];
        for p in primes {
            assert!(is_prime(p), "{p}");
        }
        let composites = [
            0u64,
            1,
            4,
            561,
            1_373_653,
            3_215_031_751,
            2_694_724_800_268_887_959,
            u64::MAX,
        ];
        for c in composites {
            assert!(!is_prime(c), "{c}");
        }
    }

    #[test]
    fn generated_primes_are_31_bit_and_pq_is_8_bytes() {
        let mut state = 0x1234_5678u32;
        let mut rng = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..50 {
            let pq = Pq::generate(&mut rng);
            assert!(pq.p < pq.q);
            for f in [pq.p, pq.q] {
                assert!((1 << 30..1 << 31).contains(&f) && is_prime(u64::from(f)));
            }
            assert!(pq.pq_bytes()[0] != 0, "pq must need all 8 bytes");
            assert_eq!(
                u64::from_be_bytes(pq.pq_bytes()),
                u64::from(pq.p) * u64::from(pq.q)
            );
            assert_eq!(factorize(pq.pq()), Some((u64::from(pq.p), u64::from(pq.q))));
        }
    }

    /// core.telegram.org/mtproto/samples-auth_key
    #[test]
    fn factorizes_the_official_sample() {
        assert_eq!(
            factorize(2_694_724_800_268_887_959),
            Some((1_513_098_571, 1_780_931_429))
        );
        assert_eq!(factorize(1_780_931_429), None);
    }
}
