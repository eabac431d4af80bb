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
/// Brent's cycle detection and the differences multiplied together between gcds (Brent 1980,
/// "An improved Monte Carlo factorization algorithm"), in Montgomery arithmetic so that no
/// step divides; `None` if pq is prime or below 4. A pq of two 31-bit primes takes 0.32 ms
/// (`cargo bench --features testing --bench crypto -- "factor pq"`); Floyd's rho with a gcd and
/// two 128-bit divisions per step took 4.0 ms, most of the bench client's CPU in `bench
/// handshake`.
pub fn factorize(pq: u64) -> Option<(u64, u64)> {
    if pq < 4 || is_prime(pq) {
        return None;
    }
    if pq.is_multiple_of(2) {
        return Some((2, pq / 2));
    }
    let d = (1..64u64).find_map(|c| {
        let d = rho(pq, c);
        (d != pq).then_some(d)
    })?;
    let (a, b) = (d, pq / d);
    Some((a.min(b), a.max(b)))
}

/// Montgomery arithmetic modulo an odd `n` < 2^63 (R = 2^64), or plain 128-bit remainders for
/// a bigger `n` (where a Montgomery reduction's sum could overflow; no pq is that big).
struct Modulus {
    n: u64,
    /// -n^-1 mod 2^64 (Montgomery), or `None`: plain arithmetic.
    n_neg_inv: Option<u64>,
}

impl Modulus {
    fn new(n: u64) -> Self {
        Modulus {
            n,
            n_neg_inv: (n < 1 << 63).then(|| super::fixed_base::montgomery_neg_inv(n)),
        }
    }

    /// a·b·R^-1 mod n (Montgomery), or a·b mod n (plain); both below n.
    fn mul(&self, a: u64, b: u64) -> u64 {
        let Some(n_neg_inv) = self.n_neg_inv else {
            return mul_mod(a, b, self.n);
        };
        let t = u128::from(a) * u128::from(b);
        let m = (t as u64).wrapping_mul(n_neg_inv);
        // t + m·n < n² + 2^64·n < 2^128 for n < 2^63, and divisible by 2^64.
        let u = ((t + u128::from(m) * u128::from(self.n)) >> 64) as u64;
        if u >= self.n {
            u - self.n
        } else {
            u
        }
    }

    /// The rho step x → x² + c (in Montgomery form: a different map, as good for rho; the
    /// differences it makes have the same gcd with n since R is a unit).
    fn step(&self, x: u64, c: u64) -> u64 {
        let (y, over) = self.mul(x, x).overflowing_add(c);
        if over || y >= self.n {
            y.wrapping_sub(self.n)
        } else {
            y
        }
    }
}

/// A divisor of the odd composite `n` found by Brent's rho with constant `c`: a proper one, or
/// `n` itself when this `c` failed.
fn rho(n: u64, c: u64) -> u64 {
    /// Differences multiplied together between two gcds.
    const BATCH: u64 = 128;
    let m = Modulus::new(n);
    let c = c % n;
    let (mut y, mut r, mut product, mut g) = (2 % n, 1u64, 1u64, 1u64);
    let (mut x, mut saved) = (y, y);
    while g == 1 {
        x = y;
        for _ in 0..r {
            y = m.step(y, c);
        }
        let mut k = 0;
        while k < r && g == 1 {
            saved = y;
            for _ in 0..BATCH.min(r - k) {
                y = m.step(y, c);
                product = m.mul(product, x.abs_diff(y));
            }
            g = gcd(product, n);
            k += BATCH;
        }
        r *= 2;
    }
    if g == n {
        // The batch multiplied past the factor (or both at once): walk it again one by one.
        loop {
            saved = m.step(saved, c);
            g = gcd(x.abs_diff(saved), n);
            if g > 1 {
                break;
            }
        }
    }
    g
}

/// Binary gcd: no division.
fn gcd(mut a: u64, mut b: u64) -> u64 {
    if a == 0 || b == 0 {
        return a | b;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            (a, b) = (b, a);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
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

    /// Any composite splits, Montgomery (n < 2^63) or not: small and equal factors, 31-bit
    /// pairs, and 32-bit pairs whose product passes 2^63.
    #[test]
    fn factorizes_composites_of_every_shape() {
        let cases: [(u64, u64); 8] = [
            (2, 3),
            (3, 1_073_741_827),
            (65_537, 65_537),
            (1_073_741_827, 1_073_741_831),
            (2_147_483_629, 2_147_483_647),
            (4_294_967_279, 4_294_967_291),
            (1_000_003, 4_294_967_291),
            (3, 3),
        ];
        for (p, q) in cases {
            assert!(is_prime(p) && is_prime(q), "{p} {q}");
            assert_eq!(factorize(p * q), Some((p, q)), "{p} × {q}");
        }
        // A composite with more than two factors splits into two that multiply back.
        let (a, b) = factorize(3 * 5 * 7 * 1_000_003).unwrap();
        assert_eq!(a * b, 3 * 5 * 7 * 1_000_003);
        assert!(a > 1 && b > 1);
    }

    #[test]
    fn binary_gcd() {
        for (a, b, g) in [
            (0, 0, 0),
            (0, 9, 9),
            (12, 18, 6),
            (17, 5, 1),
            (1 << 40, 1 << 12, 1 << 12),
        ] {
            assert_eq!(gcd(a, b), g);
            assert_eq!(gcd(b, a), g);
        }
        assert_eq!(gcd(u64::MAX, u64::MAX - 1), 1);
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
