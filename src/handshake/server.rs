//! The server side of the key exchange (HS-2 … HS-19) [doc: mtproto/auth_key] as consuming
//! states: each `handle_*` takes the state and one decoded message and returns the next state
//! with the answer, or the error that ends the handshake.

use std::sync::Arc;

use num_bigint::BigUint;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::{initial_salt, new_nonce_hash, HandshakeError};
use crate::crypto::dh::{self, Exponent};
use crate::crypto::pq::Pq;
use crate::crypto::rsa::RsaPrivateKey;
use crate::crypto::{handshake_key_iv, ige_decrypt, ige_encrypt, rsa_pad, sha1, AuthKey};
use crate::rand::Rng;
use crate::tl::{enums, functions, types, Deserializable, Reader, Serializable};

/// What the handshake needs to know about the listener it runs on.
#[derive(Debug, Clone)]
pub struct HandshakeConfig {
    /// The DC number this listener serves (1, 2, 3, ...).
    pub dc_id: i32,
    /// Test-DC labels: `p_q_inner_data_*dc` must say `10000 + dc_id` (or its negation for
    /// media); production labels (`dc_id`, `−dc_id`) otherwise (HS-9).
    pub test_mode: bool,
    /// Largest `expires_in` accepted for a temporary key, in seconds (HS-10).
    pub max_temp_expires_in: i32,
    /// Every key offered in resPQ (HS-2).
    pub keys: Arc<Vec<RsaPrivateKey>>,
}

impl HandshakeConfig {
    fn dc_ok(&self, dc: i32) -> bool {
        let label = if self.test_mode {
            10_000 + self.dc_id
        } else {
            self.dc_id
        };
        dc == label || dc == -label
    }
}

/// Which kind of key the client asked for (HS-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Permanent,
    Temporary { expires_in: i32 },
}

/// Answers req_pq / req_pq_multi with a fresh server_nonce and pq (HS-2).
pub fn start(
    nonce: [u8; 16],
    cfg: &HandshakeConfig,
    rng: &mut impl Rng,
) -> (ExpectDhParams, types::ResPQ) {
    let server_nonce: [u8; 16] = rng.array();
    let pq = Pq::generate(|| rng.next_u32());
    let answer = types::ResPQ {
        nonce,
        server_nonce,
        pq: pq.pq_bytes().to_vec(),
        server_public_key_fingerprints: cfg.keys.iter().map(|k| k.fingerprint()).collect(),
    };
    let state = ExpectDhParams {
        nonce,
        server_nonce,
        pq,
        answer: answer.clone(),
    };
    (state, answer)
}

/// resPQ sent; waiting for req_DH_params.
#[derive(Debug, Clone)]
pub struct ExpectDhParams {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    pq: Pq,
    answer: types::ResPQ,
}

impl ExpectDhParams {
    pub fn nonce(&self) -> [u8; 16] {
        self.nonce
    }

    /// The resPQ this state answered with: an identical repeated req_pq gets it again (HS-2).
    pub fn answer(&self) -> &types::ResPQ {
        &self.answer
    }

    /// HS-3 … HS-11: checks req_DH_params, decrypts and checks the inner data, and answers with
    /// server_DH_params_ok.
    pub fn handle_req_dh_params(
        self,
        req: &functions::ReqDHParams,
        cfg: &HandshakeConfig,
        now: i32,
        rng: &mut impl Rng,
    ) -> Result<(ExpectClientDh, types::ServerDHParamsOk), HandshakeError> {
        if !bool::from(req.server_nonce.ct_eq(&self.server_nonce)) {
            return Err(HandshakeError::ServerNonceMismatch);
        }
        if req.p != self.pq.p_bytes() || req.q != self.pq.q_bytes() {
            return Err(HandshakeError::FactorsMismatch);
        }
        let key = cfg
            .keys
            .iter()
            .find(|k| k.fingerprint() == req.public_key_fingerprint)
            .ok_or(HandshakeError::UnknownFingerprint {
                got: req.public_key_fingerprint,
            })?;
        let (inner, _scheme) =
            rsa_pad::decode(key, &req.encrypted_data).map_err(|_| HandshakeError::InnerData)?;
        // CH-2: new_nonce is taken out (zeros left behind), so it lives on in `new_nonce` only,
        // which every way out below wipes.
        macro_rules! common {
            ($d:ident) => {
                (
                    $d.pq,
                    $d.p,
                    $d.q,
                    $d.nonce,
                    $d.server_nonce,
                    std::mem::take(&mut $d.new_nonce),
                )
            };
        }
        let (common, dc, expires_in) = match inner {
            enums::PQInnerData::PQInnerData(mut d) => (common!(d), None, None),
            enums::PQInnerData::Dc(mut d) => (common!(d), Some(d.dc), None),
            enums::PQInnerData::Temp(mut d) => (common!(d), None, Some(d.expires_in)),
            enums::PQInnerData::TempDc(mut d) => (common!(d), Some(d.dc), Some(d.expires_in)),
        };
        let (pq, p, q, nonce, server_nonce, mut new_nonce) = common;
        // HS-8: every common field agrees with the handshake, and p·q = pq.
        let checks = [
            (pq == self.pq.pq_bytes(), "pq"),
            (p == self.pq.p_bytes() && q == self.pq.q_bytes(), "p, q"),
            (nonce == self.nonce, "nonce"),
            (
                bool::from(server_nonce.ct_eq(&self.server_nonce)),
                "server_nonce",
            ),
        ];
        if let Some((_, field)) = checks.iter().find(|(ok, _)| !ok) {
            new_nonce.zeroize();
            return Err(HandshakeError::InnerMismatch { field });
        }
        if let Some(dc) = dc {
            if !cfg.dc_ok(dc) {
                new_nonce.zeroize();
                return Err(HandshakeError::WrongDc {
                    got: dc,
                    expected: if cfg.test_mode { 10_000 } else { 0 } + cfg.dc_id,
                });
            }
        }
        let kind = match expires_in {
            None => KeyKind::Permanent,
            Some(e) if e > 0 && e <= cfg.max_temp_expires_in => {
                KeyKind::Temporary { expires_in: e }
            }
            Some(e) => {
                new_nonce.zeroize();
                return Err(HandshakeError::BadExpiresIn {
                    got: e,
                    max: cfg.max_temp_expires_in,
                });
            }
        };

        // HS-11 … HS-13: the DH answer, SHA1-framed, padded, encrypted with the tmp key.
        let a = Exponent::generate(rng);
        let inner = types::ServerDHInnerData {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            g: dh::G as i32,
            dh_prime: dh::DH_PRIME.to_vec(),
            g_a: a.public.to_vec(),
            server_time: now,
        };
        let answer = inner.to_bytes();
        let mut with_hash = Vec::with_capacity(20 + answer.len() + 16);
        with_hash.extend_from_slice(&sha1(&[&answer]));
        with_hash.extend_from_slice(&answer);
        let pad = (16 - with_hash.len() % 16) % 16;
        let mut padding = [0u8; 16];
        rng.fill(&mut padding[..pad]);
        with_hash.extend_from_slice(&padding[..pad]);
        let (tmp_key, tmp_iv) = handshake_key_iv(&self.server_nonce, &new_nonce);
        let aligned = ige_encrypt(&mut with_hash, &tmp_key, &tmp_iv);
        debug_assert!(aligned, "padded to 16");
        let next = ExpectClientDh {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            new_nonce,
            a,
            tmp_key,
            tmp_iv,
            kind,
            retry_id: 0,
        };
        new_nonce.zeroize();
        Ok((
            next,
            types::ServerDHParamsOk {
                nonce: self.nonce,
                server_nonce: self.server_nonce,
                encrypted_answer: with_hash,
            },
        ))
    }
}

/// server_DH_params_ok sent; waiting for set_client_DH_params. Secrets are wiped on drop (HS-19).
pub struct ExpectClientDh {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: [u8; 32],
    a: Exponent,
    tmp_key: [u8; 32],
    tmp_iv: [u8; 32],
    kind: KeyKind,
    /// 0 on the first attempt, then the aux_hash of the key refused with dh_gen_retry.
    retry_id: i64,
}

impl Drop for ExpectClientDh {
    fn drop(&mut self) {
        self.new_nonce.zeroize();
        self.tmp_key.zeroize();
        self.tmp_iv.zeroize();
    }
}

impl std::fmt::Debug for ExpectClientDh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpectClientDh")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl ExpectClientDh {
    pub fn nonce(&self) -> [u8; 16] {
        self.nonce
    }

    /// HS-15 / HS-16: decrypts and checks client_DH_inner_data and computes the key.
    pub fn handle_set_client_dh_params(
        self,
        req: &functions::SetClientDHParams,
    ) -> Result<KeyReady, HandshakeError> {
        if !bool::from(req.server_nonce.ct_eq(&self.server_nonce)) {
            return Err(HandshakeError::ServerNonceMismatch);
        }
        let mut plain = req.encrypted_data.clone();
        if plain.len() < 20 || !ige_decrypt(&mut plain, &self.tmp_key, &self.tmp_iv) {
            return Err(HandshakeError::BadClientDhData);
        }
        let mut r = Reader::new(&plain[20..]);
        let inner = types::ClientDHInnerData::deserialize(&mut r);
        let used = r.position();
        let hash_ok = sha1(&[&plain[20..20 + used]]).ct_eq(&plain[..20]);
        let padding = plain.len() - 20 - used;
        let inner = match inner {
            Ok(inner) if bool::from(hash_ok) && padding < 16 => inner,
            _ => {
                plain.zeroize();
                return Err(HandshakeError::BadClientDhData);
            }
        };
        plain.zeroize();
        if inner.nonce != self.nonce {
            return Err(HandshakeError::InnerMismatch { field: "nonce" });
        }
        if !bool::from(inner.server_nonce.ct_eq(&self.server_nonce)) {
            return Err(HandshakeError::InnerMismatch {
                field: "server_nonce",
            });
        }
        if inner.retry_id != self.retry_id {
            return Err(HandshakeError::BadRetryId {
                got: inner.retry_id,
                expected: self.retry_id,
            });
        }
        let p = dh::prime();
        let g_b = BigUint::from_bytes_be(&inner.g_b);
        if inner.g_b.len() > 256 || !dh::in_safe_range(&g_b, &p) {
            return Err(HandshakeError::GbOutOfRange);
        }
        let mut shared = self.a.shared(&g_b);
        let key = AuthKey::from_bytes(shared);
        shared.zeroize();
        Ok(KeyReady { key, state: self })
    }
}

/// A key both sides now hold. The shell decides: `ok` once it is stored (permanent keys flushed
/// first, HS-19), `retry` if its id is 0 or already taken, `fail` if storing failed (HS-17).
pub struct KeyReady {
    key: AuthKey,
    state: ExpectClientDh,
}

impl std::fmt::Debug for KeyReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyReady")
            .field("key", &self.key)
            .field("kind", &self.state.kind)
            .finish()
    }
}

impl KeyReady {
    pub fn key(&self) -> &AuthKey {
        &self.key
    }

    pub fn kind(&self) -> KeyKind {
        self.state.kind
    }

    /// The salt valid for the key's first salt period (HS-18).
    pub fn initial_salt(&self) -> i64 {
        initial_salt(&self.state.new_nonce, &self.state.server_nonce)
    }

    /// dh_gen_ok: the handshake is over, its secrets are wiped when `self` drops.
    pub fn ok(self: Box<Self>) -> (AuthKey, types::DhGenOk) {
        let answer = types::DhGenOk {
            nonce: self.state.nonce,
            server_nonce: self.state.server_nonce,
            new_nonce_hash1: new_nonce_hash(&self.state.new_nonce, 1, &self.key.aux_hash()),
        };
        (self.key, answer)
    }

    /// dh_gen_retry: the client may send set_client_DH_params again with a new g_b and
    /// `retry_id` = this key's aux_hash.
    pub fn retry(self: Box<Self>) -> (ExpectClientDh, types::DhGenRetry) {
        let mut this = *self;
        let aux = this.key.aux_hash();
        let answer = types::DhGenRetry {
            nonce: this.state.nonce,
            server_nonce: this.state.server_nonce,
            new_nonce_hash2: new_nonce_hash(&this.state.new_nonce, 2, &aux),
        };
        this.state.retry_id = i64::from_le_bytes(aux);
        (this.state, answer)
    }

    /// dh_gen_fail: the server could not keep the key; the client starts over.
    pub fn fail(self: Box<Self>) -> types::DhGenFail {
        types::DhGenFail {
            nonce: self.state.nonce,
            server_nonce: self.state.server_nonce,
            new_nonce_hash3: new_nonce_hash(&self.state.new_nonce, 3, &self.key.aux_hash()),
        }
    }
}
