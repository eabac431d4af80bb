//! The key exchange's Diffie-Hellman group and range checks (HS-12, HS-13, HS-15)
//! [doc: mtproto/auth_key, mtproto/security_guidelines].

use num_bigint::BigUint;
use num_traits::One;

use zeroize::Zeroize;

use super::fixed_base;
use super::modexp::pow_secret;
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

/// Bytes of a secret DH exponent: 320 random bits (HS-13, SR-3 as amended by issue 15). The
/// group is a safe prime, and for a safe-prime group an exponent of twice the security strength
/// keeps the group's full strength: RFC 3526 §8 gives 320 bits as the upper estimate for a
/// 2048-bit group; RFC 7919 §5.2 and NIST SP 800-56A rev. 3 §5.6.1.1.1 say the same. It costs
/// a sixth of a 2048-bit exponent.
pub const EXPONENT_BYTES: usize = 40;

/// A DH exponent and its public value `g^a mod p` inside the safe range (HS-13). `a` is
/// [`EXPONENT_BYTES`] random bytes, redrawn until g^a passes.
pub struct Exponent {
    pub secret: BigUint,
    pub public: [u8; 256],
}

impl Exponent {
    pub fn generate(rng: &mut impl Rng) -> Self {
        let p = prime();
        loop {
            let mut bytes: [u8; EXPONENT_BYTES] = rng.array();
            let secret = BigUint::from_bytes_be(&bytes);
            let public = fixed_base::g_pow(&bytes).expect("40 bytes");
            bytes.zeroize();
            if in_strict_range(&BigUint::from_bytes_be(&public), &p) {
                return Exponent { secret, public };
            }
        }
    }

    /// `other^secret mod p` as exactly 256 bytes, left-padded, never trimmed (HS-16), in
    /// constant time with respect to the secret.
    pub fn shared(&self, other: &BigUint) -> [u8; 256] {
        pow_secret(other, &self.secret, &prime()).expect("an odd 2048-bit modulus")
    }
}

/// `g^a mod p` for a secret `a`, in constant time with respect to `a`'s value: by the
/// fixed-base comb up to 320 bits (every exponent this server and its client draw), by
/// OpenSSL's constant-time path past that (the 2048-bit secrets of the SRP test vectors).
pub fn g_pow(a: &BigUint) -> BigUint {
    let mut bytes = if a.bits() <= fixed_base::MAX_EXPONENT_BITS as u64 {
        let mut exponent = a.to_bytes_be();
        let out = fixed_base::g_pow(&exponent).expect("at most 40 bytes");
        exponent.zeroize();
        out
    } else {
        pow_secret(&BigUint::from(G), a, &prime()).expect("an odd modulus")
    };
    let out = BigUint::from_bytes_be(&bytes);
    bytes.zeroize();
    out
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
    fn g_pow_agrees_with_modpow() {
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

    /// HS-13 as amended (issue 15): 320 random bits, no more.
    #[test]
    fn exponents_are_320_random_bits() {
        let mut rng = SeededRng::new(6);
        let bits: Vec<u64> = (0..16)
            .map(|_| Exponent::generate(&mut rng).secret.bits())
            .collect();
        assert!(bits.iter().all(|&b| b <= 320), "{bits:?}");
        assert!(bits.iter().any(|&b| b > 312), "{bits:?}");
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
