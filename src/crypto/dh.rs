//! The key exchange's Diffie-Hellman group and range checks (HS-12, HS-13, HS-15)
//! [doc: mtproto/auth_key, mtproto/security_guidelines].

use num_bigint::BigUint;
use num_traits::One;

use super::bignum::to_fixed_be;
use crate::rand::Rng;

/// The generator served with [`DH_PRIME`] (HS-12).
pub const G: u32 = 3;

/// The 2048-bit safe prime from core.telegram.org/mtproto/security_guidelines, as the 256
/// big-endian bytes sent in `server_DH_inner_data.dh_prime`. Kurigram and pyrogram compare it
/// byte for byte; TDLib checks it is a safe prime of 2048 bits.
pub const DH_PRIME: [u8; 256] = hex256(
    b"C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F\
      48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C37\
      20FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F64\
      2477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4\
      A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754\
      FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4\
      E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F\
      0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B",
);

const fn hex256(s: &[u8]) -> [u8; 256] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("not an uppercase hex digit"),
        }
    }
    let mut out = [0u8; 256];
    let (mut i, mut j) = (0, 0);
    while i < s.len() {
        if s[i] == b' ' {
            i += 1;
            continue;
        }
        out[j / 2] |= nibble(s[i]) << if j % 2 == 0 { 4 } else { 0 };
        j += 1;
        i += 1;
    }
    assert!(j == 512, "256 bytes of hex");
    out
}

/// The prime as a number.
pub fn prime() -> BigUint {
    BigUint::from_bytes_be(&DH_PRIME)
}

/// HS-13 / HS-15 / SR-3: `2^1984 ≤ x ≤ p − 2^1984` (which implies `1 < x < p − 1`). The bounds
/// keep g_a, g_b and SRP values out of small subgroups and away from the edges of the group.
pub fn in_safe_range(x: &BigUint, p: &BigUint) -> bool {
    let margin = BigUint::one() << 1984u32;
    *x > BigUint::one() && *x >= margin && x + &margin <= *p
}

/// HS-13: the strict form, `2^1984 < x < p − 2^1984`, which Kurigram and grammers apply to
/// g_a; the server draws its g_a inside it.
pub fn in_strict_range(x: &BigUint, p: &BigUint) -> bool {
    let margin = BigUint::one() << 1984u32;
    *x > margin && x + &margin < *p
}

/// A DH exponent and its public value `g^a mod p` inside the safe range (HS-13). `a` is 2048
/// random bits, redrawn until g^a passes.
pub struct Exponent {
    pub secret: BigUint,
    pub public: [u8; 256],
}

impl Exponent {
    pub fn generate(rng: &mut impl Rng) -> Self {
        let p = prime();
        loop {
            let mut bytes: [u8; 256] = rng.array();
            let secret = BigUint::from_bytes_be(&bytes);
            zeroize::Zeroize::zeroize(&mut bytes);
            let public = g_pow(&secret);
            if in_strict_range(&public, &p) {
                let public = to_fixed_be(&public).expect("below a 2048-bit prime");
                return Exponent { secret, public };
            }
        }
    }

    /// `other^secret mod p` as exactly 256 bytes, left-padded, never trimmed (HS-16).
    pub fn shared(&self, other: &BigUint) -> [u8; 256] {
        let mut g_ab = other.modpow(&self.secret, &prime());
        let out = to_fixed_be(&g_ab).expect("below a 2048-bit prime");
        // CH-2: the big integer is the auth key too.
        super::bignum::wipe(&mut g_ab);
        out
    }
}

/// Rows of the generator's comb: the 2048-bit exponent is read as 8 rows of 256 bits.
const COMB_ROWS: u64 = 8;
const COMB_COLUMNS: u64 = 2048 / COMB_ROWS;

/// `TABLE[j] = Π g^(2^(256·i))` over the bits i set in j: 256 values (64 KiB), built once.
fn comb_table() -> &'static [BigUint] {
    static TABLE: std::sync::OnceLock<Vec<BigUint>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let p = prime();
        let mut row_bases = Vec::with_capacity(COMB_ROWS as usize);
        let mut x = BigUint::from(G);
        for _ in 0..COMB_ROWS {
            row_bases.push(x.clone());
            for _ in 0..COMB_COLUMNS {
                x = &x * &x % &p;
            }
        }
        let mut table = vec![BigUint::one(); 1 << COMB_ROWS];
        for j in 1..table.len() {
            let low = j.trailing_zeros() as usize;
            table[j] = &table[j & (j - 1)] * &row_bases[low] % &p;
        }
        table
    })
}

/// `g^a mod p` for `a < 2^2048` by the fixed-base comb (Lim and Lee, CRYPTO '94): one squaring
/// and one table multiplication per column, 256 + 256 products instead of the ~2048 + ~400 of a
/// generic windowed exponentiation. The server draws an `a` per key exchange, so this is a
/// third of its public-key work.
pub fn g_pow(a: &BigUint) -> BigUint {
    let p = prime();
    let table = comb_table();
    let mut r = BigUint::one();
    for column in (0..COMB_COLUMNS).rev() {
        r = &r * &r % &p;
        let index = (0..COMB_ROWS).fold(0usize, |index, row| {
            index | (usize::from(a.bit(row * COMB_COLUMNS + column)) << row)
        });
        if index != 0 {
            r = r * &table[index] % &p;
        }
    }
    r
}

impl Drop for Exponent {
    fn drop(&mut self) {
        super::bignum::wipe(&mut self.secret);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::bignum::is_probable_prime;
    use crate::rand::SeededRng;

    /// HS-12: a safe prime of exactly 2048 bits for which 3 generates the subgroup clients
    /// expect (p mod 3 = 2).
    #[test]
    fn the_prime_is_a_2048_bit_safe_prime_fit_for_g_3() {
        let p = prime();
        assert_eq!(p.bits(), 2048);
        let mut rng = SeededRng::new(1);
        assert!(is_probable_prime(&p, 8, &mut rng));
        assert!(is_probable_prime(&((&p - 1u32) >> 1u32), 8, &mut rng));
        assert_eq!(&p % 3u32, BigUint::from(2u32));
    }

    #[test]
    fn range_bounds_are_inclusive_at_the_margins() {
        let p = prime();
        let margin = BigUint::one() << 1984u32;
        assert!(in_safe_range(&margin, &p));
        assert!(!in_safe_range(&(&margin - 1u32), &p));
        assert!(in_safe_range(&(&p - &margin), &p));
        assert!(!in_safe_range(&(&p - &margin + 1u32), &p));
        assert!(!in_safe_range(&BigUint::one(), &p));
        assert!(!in_safe_range(&(&p - 1u32), &p));
    }

    #[test]
    fn the_comb_agrees_with_modpow() {
        let p = prime();
        let g = BigUint::from(G);
        let mut rng = SeededRng::new(11);
        let mut exponents = vec![
            BigUint::from(0u32),
            BigUint::one(),
            BigUint::from(2u32),
            BigUint::one() << 256u32,
            (BigUint::one() << 2048u32) - 1u32,
        ];
        for _ in 0..8 {
            exponents.push(BigUint::from_bytes_be(&rng.array::<256>()));
        }
        for a in exponents {
            assert_eq!(g_pow(&a), g.modpow(&a, &p), "a = {a:x}");
        }
    }

    #[test]
    fn both_sides_reach_the_same_secret() {
        let mut rng = SeededRng::new(5);
        let a = Exponent::generate(&mut rng);
        let b = Exponent::generate(&mut rng);
        let ga = BigUint::from_bytes_be(&a.public);
        let gb = BigUint::from_bytes_be(&b.public);
        assert_eq!(a.shared(&gb), b.shared(&ga));
    }
}
