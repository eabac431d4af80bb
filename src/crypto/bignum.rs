//! Big-integer helpers over num-bigint: fixed-width big-endian encoding (MTProto sends big
//! numbers as big-endian byte strings of a fixed size, HS-16), probable-prime tests and a
//! best-effort wipe of secret values.

use num_bigint::BigUint;
use num_traits::{One, Zero};

use crate::rand::Rng;

/// `x` as exactly `N` big-endian bytes, left-padded with zeros; `None` if it does not fit.
pub fn to_fixed_be<const N: usize>(x: &BigUint) -> Option<[u8; N]> {
    let bytes = x.to_bytes_be();
    let bytes: &[u8] = if x.is_zero() { &[] } else { &bytes };
    if bytes.len() > N {
        return None;
    }
    let mut out = [0u8; N];
    out[N - bytes.len()..].copy_from_slice(bytes);
    Some(out)
}

/// Overwrites the digits of a secret value before its buffer is released. num-bigint offers no
/// zeroize; assigning as many zero digits as it holds rewrites its buffer in place. (The
/// temporaries inside num-bigint's own arithmetic are out of reach.)
pub fn wipe(x: &mut BigUint) {
    let digits = x.bits().div_ceil(32) as usize + 2;
    x.assign_from_slice(&vec![0u32; digits]);
}

const SMALL_PRIMES: [u32; 53] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193,
    197, 199, 211, 223, 227, 229, 233, 239, 241, 251,
];

/// Miller-Rabin with `rounds` random bases after trial division by small primes. With 5 rounds
/// the error for random 1024-bit candidates is below 2^-100 (FIPS 186-4 table C.2).
pub fn is_probable_prime(n: &BigUint, rounds: usize, rng: &mut impl Rng) -> bool {
    let two = BigUint::from(2u32);
    if *n < two {
        return false;
    }
    for &p in &SMALL_PRIMES {
        let p = BigUint::from(p);
        if *n == p || *n == two {
            return true;
        }
        if (n % &p).is_zero() {
            return false;
        }
    }
    if !n.bit(0) {
        return false;
    }
    let n_minus_1 = n - 1u32;
    let s = n_minus_1.trailing_zeros().unwrap_or(0);
    let d = &n_minus_1 >> s;
    let len = n.bits().div_ceil(8) as usize;
    let mut buf = vec![0u8; len];
    'witness: for _ in 0..rounds {
        // A base in [2, n − 2].
        let a = loop {
            rng.fill(&mut buf);
            let a = BigUint::from_bytes_be(&buf) % n;
            if a > BigUint::one() && a < n_minus_1 {
                break a;
            }
        };
        let mut x = a.modpow(&d, n);
        if x.is_one() || x == n_minus_1 {
            continue;
        }
        for _ in 1..s {
            x = x.modpow(&two, n);
            if x == n_minus_1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SeededRng;

    #[test]
    fn fixed_width_encoding_pads_and_refuses_overflow() {
        let x = BigUint::from(0x0102u32);
        assert_eq!(to_fixed_be::<4>(&x), Some([0, 0, 1, 2]));
        assert_eq!(to_fixed_be::<1>(&x), None);
        assert_eq!(to_fixed_be::<2>(&BigUint::zero()), Some([0, 0]));
    }

    #[test]
    fn wipe_zeroes_the_value() {
        let mut x = BigUint::from_bytes_be(&[0xff; 64]);
        wipe(&mut x);
        assert!(x.is_zero());
    }

    #[test]
    fn primality_of_known_numbers() {
        let mut rng = SeededRng::new(7);
        // 2^127 − 1 is prime; 2^128 + 1 is not (divisible by 59649589127497217).
        let m127 = (BigUint::one() << 127u32) - 1u32;
        assert!(is_probable_prime(&m127, 8, &mut rng));
        let f7 = (BigUint::one() << 128u32) + 1u32;
        assert!(!is_probable_prime(&f7, 8, &mut rng));
        // Composite, with small factors, and a prime past the trial-division table.
        assert!(!is_probable_prime(
            &BigUint::from(561u32 * 1_000_003),
            8,
            &mut rng
        ));
        assert!(is_probable_prime(&BigUint::from(1_000_003u32), 8, &mut rng));
    }
}
