//! Modular exponentiation for the key exchange and SRP, through OpenSSL's BIGNUM (issue 15).
//!
//! Why OpenSSL: one 2048-bit exponentiation costs about twice as much in num-bigint or
//! crypto-bigint as in OpenSSL on this project's machines (the README's performance section has
//! the same-run figures), and the key exchange's budget is twice OpenSSL's cost for the whole
//! key. The system's libssl is used (the `openssl` crate links it; nothing of OpenSSL is
//! built or copied here).
//!
//! Secret exponents (the DH `a` of HS-13, SRP's `b` of SR-3, a client's `b`, `a` and `x`) go
//! through [`pow_secret`]: the exponent carries `BN_FLG_CONSTTIME`, so OpenSSL takes
//! `BN_mod_exp_mont_consttime`, a fixed-window exponentiation whose table is read with
//! cache-line-independent scatter/gather, in time that depends on the sizes only. Every
//! BIGNUM that held a secret is cleared (`BN_clear`) before it is freed; OpenSSL clears the
//! temporaries of its BN_CTX pool itself.

use num_bigint::BigUint;
use openssl::bn::{BigNum, BigNumContext};
use zeroize::Zeroize;

/// A BIGNUM whose digits are overwritten before it is freed (the crate's own drop only frees).
struct Cleared(BigNum);

impl Drop for Cleared {
    fn drop(&mut self) {
        self.0.clear();
    }
}

/// `x` as an OpenSSL number, the bytes it passed through wiped (also the RSA key's parts).
pub(super) fn bignum(x: &BigUint) -> BigNum {
    let mut bytes = x.to_bytes_be();
    let bn = BigNum::from_slice(&bytes).expect("BN_bin2bn allocates");
    bytes.zeroize();
    bn
}

/// Why an exponentiation gave no result: only with a modulus these callers never pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModExpError {
    /// The result does not fit the requested width (the modulus is wider than it).
    TooLong,
    /// OpenSSL refused (an even or zero modulus in constant time, or no memory).
    Internal,
}

/// `base^exponent mod modulus` as exactly `N` big-endian bytes, in constant time with respect
/// to the exponent's value (OpenSSL's `BN_mod_exp_mont_consttime`). `modulus` must be odd.
pub fn pow_secret<const N: usize>(
    base: &BigUint,
    exponent: &BigUint,
    modulus: &BigUint,
) -> Result<[u8; N], ModExpError> {
    let base = Cleared(bignum(base));
    let mut exponent = Cleared(bignum(exponent));
    exponent.0.set_const_time();
    let modulus = Cleared(bignum(modulus));
    let mut ctx = BigNumContext::new().map_err(|_| ModExpError::Internal)?;
    let mut r = Cleared(BigNum::new().map_err(|_| ModExpError::Internal)?);
    r.0.mod_exp(&base.0, &exponent.0, &modulus.0, &mut ctx)
        .map_err(|_| ModExpError::Internal)?;
    if r.0.num_bytes() as usize > N {
        return Err(ModExpError::TooLong);
    }
    let mut bytes =
        r.0.to_vec_padded(N as i32)
            .map_err(|_| ModExpError::Internal)?;
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes);
    bytes.zeroize();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::{Rng, SeededRng};

    /// Against num-bigint's modpow, on the DH prime and on small odd moduli, with zero, one and
    /// random exponents and bases at and above the modulus.
    #[test]
    fn agrees_with_num_bigint() {
        let mut rng = SeededRng::new(15);
        let p = crate::crypto::dh::prime();
        let bases = [
            BigUint::from(0u32),
            BigUint::from(1u32),
            BigUint::from(3u32),
            &p - 1u32,
            p.clone(),
            &p + 5u32,
            BigUint::from_bytes_be(&rng.array::<256>()),
        ];
        let exponents = [
            BigUint::from(0u32),
            BigUint::from(1u32),
            BigUint::from(2u32),
            BigUint::from_bytes_be(&rng.array::<40>()),
            BigUint::from_bytes_be(&rng.array::<256>()),
            BigUint::from_bytes_be(&rng.array::<300>()),
        ];
        for base in &bases {
            for e in &exponents {
                let want = base.modpow(e, &p);
                let secret: [u8; 256] = pow_secret(base, e, &p).unwrap();
                assert_eq!(BigUint::from_bytes_be(&secret), want, "{base:x}^{e:x}");
            }
        }
        let m = BigUint::from(1_000_003u32);
        let x: [u8; 4] = pow_secret(&BigUint::from(7u32), &BigUint::from(12345u32), &m).unwrap();
        assert_eq!(
            BigUint::from_bytes_be(&x),
            BigUint::from(7u32).modpow(&BigUint::from(12345u32), &m)
        );
    }

    #[test]
    fn a_result_wider_than_asked_is_an_error_and_an_even_modulus_in_constant_time_too() {
        let p = crate::crypto::dh::prime();
        let two = BigUint::from(2u32);
        assert_eq!(
            pow_secret::<8>(&(&p - 1u32), &BigUint::from(1u32), &p),
            Err(ModExpError::TooLong)
        );
        assert_eq!(
            pow_secret::<8>(&two, &two, &BigUint::from(1u64 << 40)),
            Err(ModExpError::Internal)
        );
    }
}
