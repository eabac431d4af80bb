//! `g^a mod p` for the DH group's fixed generator and a secret exponent of at most
//! [`MAX_EXPONENT_BITS`] bits, by a fixed-base comb (Lim and Lee, CRYPTO '94) over 2048-bit
//! Montgomery arithmetic, in constant time (issue 15: "precomputation where the base is fixed").
//!
//! The 320-bit exponent (HS-13) is read as 6 rows of 54 bits, and the 54 columns as two blocks
//! of 27; each block has a table of the 64 products of its rows' bases (16 KiB each, built
//! once), so the exponentiation is 27 squarings and 54 multiplications, where OpenSSL's generic
//! constant-time path needs about 415 (the README's performance section has both, same run).
//! Six rows rather than eight: a 64 KiB table does not stay in L1, and reading all of it for
//! every column cost more than the products it saved.
//!
//! Nothing depends on the secret but values: each column's entry is gathered by reading every
//! entry of its table under a mask, the Montgomery products have no data-dependent branch,
//! and their final subtraction is masked.

use std::sync::OnceLock;

use num_bigint::BigUint;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::dh::{prime, G};

const LIMBS: usize = 32;
const ROWS: usize = 6;
const BLOCK: usize = 27;
const COLUMNS: usize = 2 * BLOCK;
/// The largest exponent the comb takes, in bits (the comb's 6 × 54 would take 324).
pub const MAX_EXPONENT_BITS: usize = 320;
const _: () = assert!(ROWS * COLUMNS >= MAX_EXPONENT_BITS);

type Limbs = [u64; LIMBS];

struct Comb {
    /// The prime, little-endian limbs.
    p: Limbs,
    /// `−p⁻¹ mod 2^64`.
    p_inv: u64,
    /// `tables[k][j] = Π g^(2^(COLUMNS·i + BLOCK·k))` over the bits `i` set in `j`, in
    /// Montgomery form.
    tables: [Vec<Limbs>; 2],
}

fn to_limbs(x: &BigUint) -> Limbs {
    let digits = x.to_u64_digits();
    assert!(digits.len() <= LIMBS, "below 2^2048");
    let mut out = [0u64; LIMBS];
    out[..digits.len()].copy_from_slice(&digits);
    out
}

fn comb() -> &'static Comb {
    static COMB: OnceLock<Comb> = OnceLock::new();
    COMB.get_or_init(|| {
        let p = prime();
        let r = BigUint::from(1u32) << (64 * LIMBS);
        let square_times = |mut x: BigUint, n: usize| {
            for _ in 0..n {
                x = &x * &x % &p;
            }
            x
        };
        let table = |first: BigUint| {
            let mut row_bases = Vec::with_capacity(ROWS);
            let mut x = first;
            for _ in 0..ROWS {
                row_bases.push(x.clone());
                x = square_times(x, COLUMNS);
            }
            let mut plain = vec![BigUint::from(1u32); 1 << ROWS];
            for j in 1..plain.len() {
                let low = j.trailing_zeros() as usize;
                plain[j] = &plain[j & (j - 1)] * &row_bases[low] % &p;
            }
            plain.iter().map(|t| to_limbs(&(t * &r % &p))).collect()
        };
        let g = BigUint::from(G);
        let tables = [table(g.clone()), table(square_times(g, BLOCK))];
        Comb {
            p: to_limbs(&p),
            p_inv: montgomery_neg_inv(p.to_u64_digits()[0]),
            tables,
        }
    })
}

/// -n⁻¹ mod 2^64 for an odd `n` (its low limb), the constant of a Montgomery reduction:
/// Newton's iteration for n⁻¹, each step doubling the correct low bits (1 → 64 in six).
pub(super) fn montgomery_neg_inv(n: u64) -> u64 {
    let mut inv: u64 = 1;
    for _ in 0..6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(n.wrapping_mul(inv)));
    }
    inv.wrapping_neg()
}

/// `(lo, hi) += a·b`, a three-limb column accumulator.
#[inline(always)]
fn accumulate(lo: &mut u128, hi: &mut u64, a: u64, b: u64) {
    let (sum, carry) = lo.overflowing_add(u128::from(a) * u128::from(b));
    *lo = sum;
    *hi += u64::from(carry);
}

/// Moves the accumulator one limb down.
#[inline(always)]
fn shift(lo: &mut u128, hi: &mut u64) {
    *lo = (*lo >> 64) | (u128::from(*hi) << 64);
    *hi = 0;
}

/// Montgomery product `a·b·R⁻¹ mod p` for `a, b < p`, below p. Product scanning with the
/// reduction interleaved column by column (Koç, Acar and Kaliski 1996, "FIPS"): one column
/// accumulator in registers, where operand scanning keeps two carry chains through memory
/// (measured 1.5 against 1.9 µs here). The final subtraction is always computed and kept or
/// dropped under a mask.
fn mont_mul(a: &Limbs, b: &Limbs, p: &Limbs, p_inv: u64) -> Limbs {
    let mut m = [0u64; LIMBS];
    let mut t = [0u64; LIMBS + 1];
    let (mut lo, mut hi) = (0u128, 0u64);
    for i in 0..LIMBS {
        for j in 0..i {
            accumulate(&mut lo, &mut hi, a[j], b[i - j]);
            accumulate(&mut lo, &mut hi, m[j], p[i - j]);
        }
        accumulate(&mut lo, &mut hi, a[i], b[0]);
        m[i] = (lo as u64).wrapping_mul(p_inv);
        accumulate(&mut lo, &mut hi, m[i], p[0]);
        shift(&mut lo, &mut hi);
    }
    for i in LIMBS..2 * LIMBS {
        for j in i - LIMBS + 1..LIMBS {
            accumulate(&mut lo, &mut hi, a[j], b[i - j]);
            accumulate(&mut lo, &mut hi, m[j], p[i - j]);
        }
        t[i - LIMBS] = lo as u64;
        shift(&mut lo, &mut hi);
    }
    t[LIMBS] = lo as u64;
    // t < 2p: subtract p, keep the difference unless it borrowed past t's top limb.
    let mut diff = [0u64; LIMBS];
    let mut borrow = 0u64;
    for j in 0..LIMBS {
        let (d1, b1) = t[j].overflowing_sub(p[j]);
        let (d2, b2) = d1.overflowing_sub(borrow);
        diff[j] = d2;
        borrow = u64::from(b1 | b2);
    }
    let (_, under) = t[LIMBS].overflowing_sub(borrow);
    let keep_t = 0u64.wrapping_sub(u64::from(under));
    let mut out = [0u64; LIMBS];
    for j in 0..LIMBS {
        out[j] = (t[j] & keep_t) | (diff[j] & !keep_t);
    }
    for x in [&mut m[..], &mut t[..], &mut diff[..]] {
        x.zeroize();
    }
    out
}

/// The table entry `index`, read by touching every entry: each is masked in or out.
fn gather(table: &[Limbs], index: u8, out: &mut Limbs) {
    *out = [0; LIMBS];
    for (k, entry) in table.iter().enumerate() {
        let mask = 0u64.wrapping_sub(u64::from((k as u8).ct_eq(&index).unwrap_u8()));
        for j in 0..LIMBS {
            out[j] |= entry[j] & mask;
        }
    }
}

/// `g^a mod p` as 256 big-endian bytes, for `a` given as at most 40 big-endian bytes
/// (`None` if longer), in time independent of `a`'s value.
pub fn g_pow(a: &[u8]) -> Option<[u8; 256]> {
    const BYTES: usize = MAX_EXPONENT_BITS / 8;
    if a.len() > BYTES {
        return None;
    }
    let mut e = [0u8; BYTES];
    e[BYTES - a.len()..].copy_from_slice(a);
    // Bit i of the exponent; the comb's bits past 320 are zero. (i is a position, not secret.)
    let bit = |i: usize| {
        if i < MAX_EXPONENT_BITS {
            (e[BYTES - 1 - i / 8] >> (i % 8)) & 1
        } else {
            0
        }
    };
    let index = |column: usize| {
        (0..ROWS).fold(0u8, |index, row| index | bit(row * COLUMNS + column) << row)
    };
    let c = comb();
    let mut r = c.tables[0][0];
    let mut entry = [0u64; LIMBS];
    for column in (0..BLOCK).rev() {
        r = mont_mul(&r, &r, &c.p, c.p_inv);
        for (k, table) in c.tables.iter().enumerate() {
            gather(table, index(column + BLOCK * k), &mut entry);
            r = mont_mul(&r, &entry, &c.p, c.p_inv);
        }
    }
    let mut one = [0u64; LIMBS];
    one[0] = 1;
    let mut plain = mont_mul(&r, &one, &c.p, c.p_inv);
    let mut out = [0u8; 256];
    for (j, limb) in plain.iter().enumerate() {
        out[256 - 8 * (j + 1)..256 - 8 * j].copy_from_slice(&limb.to_be_bytes());
    }
    for x in [&mut r, &mut entry, &mut plain] {
        x.zeroize();
    }
    e.zeroize();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::{Rng, SeededRng};

    fn modpow(a: &[u8]) -> BigUint {
        BigUint::from(G).modpow(&BigUint::from_bytes_be(a), &prime())
    }

    #[test]
    fn agrees_with_modpow_at_the_edges_and_at_random() {
        let mut rng = SeededRng::new(21);
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![1],
            vec![2],
            vec![0xff; 40],
            vec![0x80; 40],
            {
                let mut v = vec![0; 40];
                v[0] = 1;
                v
            },
            vec![0, 0, 0, 7],
        ];
        for len in [1, 8, 20, 39, 40, 40, 40, 40] {
            let mut v = vec![0u8; len];
            rng.fill(&mut v);
            cases.push(v);
        }
        for a in cases {
            let got = BigUint::from_bytes_be(&g_pow(&a).unwrap());
            assert_eq!(got, modpow(&a), "a = {a:02x?}");
        }
    }

    #[test]
    fn a_longer_exponent_is_refused() {
        assert_eq!(g_pow(&[1; 41]), None);
    }

    /// The Montgomery product at its bounds: p − 1 times itself, and zero.
    #[test]
    fn montgomery_products_stay_below_p() {
        let c = comb();
        let p = prime();
        let r = BigUint::from(1u32) << 2048u32;
        let r_inv = r.modinv(&p).unwrap();
        let top = to_limbs(&(&p - 1u32));
        for (a, b) in [(top, top), (top, [0; LIMBS]), (c.tables[1][63], top)] {
            let got = mont_mul(&a, &b, &c.p, c.p_inv);
            let want = BigUint::from_slice(
                &a.iter()
                    .flat_map(|l| [*l as u32, (l >> 32) as u32])
                    .collect::<Vec<_>>(),
            ) * BigUint::from_slice(
                &b.iter()
                    .flat_map(|l| [*l as u32, (l >> 32) as u32])
                    .collect::<Vec<_>>(),
            ) * &r_inv
                % &p;
            assert_eq!(got, to_limbs(&want));
        }
    }
}
