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
use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use zeroize::Zeroize;

/// A BIGNUM whose digits are overwritten before it is freed (the crate's own drop only frees).
struct Cleared(BigNum);

impl Drop for Cleared {
    fn drop(&mut self) {
        self.0.clear();
    }
}

fn to_bn(x: &BigUint) -> Cleared {
    let mut bytes = x.to_bytes_be();
    let bn = BigNum::from_slice(&bytes).expect("BN_bin2bn allocates");
    bytes.zeroize();
    Cleared(bn)
}

fn exp(
    base: &BigNumRef,
    exponent: &BigNumRef,
    modulus: &BigNumRef,
    out: &mut [u8],
) -> Result<(), ModExpError> {
    let mut ctx = BigNumContext::new().map_err(|_| ModExpError::Internal)?;
    let mut r = Cleared(BigNum::new().map_err(|_| ModExpError::Internal)?);
    r.0.mod_exp(base, exponent, modulus, &mut ctx)
        .map_err(|_| ModExpError::Internal)?;
    let len = out.len();
    if r.0.num_bytes() as usize > len {
        return Err(ModExpError::TooLong);
    }
    let mut bytes =
        r.0.to_vec_padded(len as i32)
            .map_err(|_| ModExpError::Internal)?;
    out.copy_from_slice(&bytes);
    bytes.zeroize();
    Ok(())
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
    let base = to_bn(base);
    let mut exponent = to_bn(exponent);
    exponent.0.set_const_time();
    let modulus = to_bn(modulus);
    let mut out = [0u8; N];
    exp(&base.0, &exponent.0, &modulus.0, &mut out)?;
    Ok(out)
}

/// `base^exponent mod modulus` for a public exponent (a hash, an RSA `e`), as a number.
pub fn pow_public(base: &BigUint, exponent: &BigUint, modulus: &BigUint) -> BigUint {
    let (base, exponent, modulus) = (to_bn(base), to_bn(exponent), to_bn(modulus));
    let mut ctx = BigNumContext::new().expect("BN_CTX_new allocates");
    let mut r = Cleared(BigNum::new().expect("BN_new allocates"));
    r.0.mod_exp(&base.0, &exponent.0, &modulus.0, &mut ctx)
        .expect("a non-zero modulus");
    let mut bytes = r.0.to_vec();
    let out = BigUint::from_bytes_be(&bytes);
    bytes.zeroize();
    out
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
                assert_eq!(pow_public(base, e, &p), want);
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
        // A public exponent may take an even modulus (not used, but not a panic either).
        assert_eq!(
            pow_public(&BigUint::from(3u32), &two, &BigUint::from(8u32)),
            BigUint::from(1u32)
        );
    }
}
