//! Our client side of the key exchange [doc: mtproto/auth_key], used by the client library,
//! tests and benchmarks. It can speak every variant a stock client might (either RSA scheme,
//! all four inner-data constructors), so the server is tested against each.

use num_bigint::BigUint;
use subtle::ConstantTimeEq;

use super::{initial_salt, new_nonce_hash};
use crate::crypto::dh::{self, Exponent};
use crate::crypto::pq::factorize;
use crate::crypto::rsa::RsaPublicKey;
use crate::crypto::{handshake_key_iv, ige_decrypt, ige_encrypt, rsa_pad, sha1, AuthKey};
use crate::rand::Rng;
use crate::tl::{enums, functions, types, Deserializable, Reader, Serializable};

/// Which RSA scheme wraps the inner data (HS-5, HS-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaScheme {
    RsaPad,
    Legacy,
}

/// Which p_q_inner_data constructor to send (HS-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InnerData {
    Plain,
    Dc(i32),
    Temp { expires_in: i32 },
    TempDc { dc: i32, expires_in: i32 },
}

/// How to run the exchange.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub scheme: RsaScheme,
    pub inner: InnerData,
    /// Keys the client trusts; the first one the server offers is used.
    pub keys: Vec<RsaPublicKey>,
}

/// Why our client gave up on a handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientHandshakeError {
    NonceMismatch,
    /// pq did not factor into two primes.
    BadPq,
    /// The server offered no key we know.
    NoKnownKey,
    /// server_DH_params_fail, or an answer that does not decrypt or verify.
    BadServerDhParams(&'static str),
    /// dh_gen_retry / dh_gen_fail, or a wrong new_nonce_hash.
    DhGen(&'static str),
}

impl std::fmt::Display for ClientHandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for ClientHandshakeError {}

/// The first step: send req_pq_multi.
pub fn start(rng: &mut impl Rng) -> (ExpectResPq, functions::ReqPqMulti) {
    let nonce: [u8; 16] = rng.array();
    (ExpectResPq { nonce }, functions::ReqPqMulti { nonce })
}

pub struct ExpectResPq {
    nonce: [u8; 16],
}

impl ExpectResPq {
    pub fn handle_res_pq(
        self,
        res: enums::ResPQ,
        cfg: &ClientConfig,
        rng: &mut impl Rng,
    ) -> Result<(ExpectServerDh, functions::ReqDHParams), ClientHandshakeError> {
        let enums::ResPQ::ResPQ(res) = res;
        if res.nonce != self.nonce {
            return Err(ClientHandshakeError::NonceMismatch);
        }
        let pq = (res.pq.len() <= 8)
            .then(|| {
                res.pq
                    .iter()
                    .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
            })
            .ok_or(ClientHandshakeError::BadPq)?;
        let (p, q) = factorize(pq).ok_or(ClientHandshakeError::BadPq)?;
        let key = res
            .server_public_key_fingerprints
            .iter()
            .find_map(|fp| cfg.keys.iter().find(|k| k.fingerprint() == *fp))
            .ok_or(ClientHandshakeError::NoKnownKey)?;
        let new_nonce: [u8; 32] = rng.array();
        let p = minimal_be(p);
        let q = minimal_be(q);
        let (pq, nonce, server_nonce) = (res.pq.clone(), self.nonce, res.server_nonce);
        let inner: enums::PQInnerData = match cfg.inner {
            InnerData::Plain => types::PQInnerData {
                pq,
                p: p.clone(),
                q: q.clone(),
                nonce,
                server_nonce,
                new_nonce,
            }
            .into(),
            InnerData::Dc(dc) => types::PQInnerDataDc {
                pq,
                p: p.clone(),
                q: q.clone(),
                nonce,
                server_nonce,
                new_nonce,
                dc,
            }
            .into(),
            InnerData::Temp { expires_in } => types::PQInnerDataTemp {
                pq,
                p: p.clone(),
                q: q.clone(),
                nonce,
                server_nonce,
                new_nonce,
                expires_in,
            }
            .into(),
            InnerData::TempDc { dc, expires_in } => types::PQInnerDataTempDc {
                pq,
                p: p.clone(),
                q: q.clone(),
                nonce,
                server_nonce,
                new_nonce,
                dc,
                expires_in,
            }
            .into(),
        };
        let data = inner.to_bytes();
        let encrypted = match cfg.scheme {
            RsaScheme::RsaPad => rsa_pad::encrypt_rsa_pad(key, &data, rng),
            RsaScheme::Legacy => rsa_pad::encrypt_legacy(key, &data, rng),
        }
        .expect("inner data fits both schemes");
        Ok((
            ExpectServerDh {
                nonce,
                server_nonce,
                new_nonce,
            },
            functions::ReqDHParams {
                nonce,
                server_nonce,
                p,
                q,
                public_key_fingerprint: key.fingerprint(),
                encrypted_data: encrypted.to_vec(),
            },
        ))
    }
}

fn minimal_be(x: u64) -> Vec<u8> {
    let b = x.to_be_bytes();
    let skip = b.iter().take_while(|&&x| x == 0).count();
    b[skip..].to_vec()
}

pub struct ExpectServerDh {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: [u8; 32],
}

impl ExpectServerDh {
    /// Checks the server's DH answer as strictly as Kurigram and grammers do (prime, ranges,
    /// SHA1 over the parsed bytes) and answers with set_client_DH_params. Returns the server
    /// time too, for the clock offset.
    pub fn handle_server_dh_params(
        self,
        answer: enums::ServerDHParams,
        rng: &mut impl Rng,
    ) -> Result<(ExpectDhGen, functions::SetClientDHParams, i32), ClientHandshakeError> {
        self.answer(answer, None, rng)
    }

    /// Like [`handle_server_dh_params`](Self::handle_server_dh_params), but sends `g_b` as
    /// given instead of `g^b` (negative tests and security work: out-of-range and oversized
    /// values). The key the returned state expects is then not the server's.
    pub fn handle_server_dh_params_sending_g_b(
        self,
        answer: enums::ServerDHParams,
        g_b: &[u8],
        rng: &mut impl Rng,
    ) -> Result<(ExpectDhGen, functions::SetClientDHParams, i32), ClientHandshakeError> {
        self.answer(answer, Some(g_b), rng)
    }

    fn answer(
        self,
        answer: enums::ServerDHParams,
        forced_g_b: Option<&[u8]>,
        rng: &mut impl Rng,
    ) -> Result<(ExpectDhGen, functions::SetClientDHParams, i32), ClientHandshakeError> {
        let bad = ClientHandshakeError::BadServerDhParams;
        let ok = match answer {
            enums::ServerDHParams::ServerDHParamsOk(ok) => ok,
            enums::ServerDHParams::Fail(_) => return Err(bad("server_DH_params_fail")),
        };
        if ok.nonce != self.nonce || ok.server_nonce != self.server_nonce {
            return Err(ClientHandshakeError::NonceMismatch);
        }
        let (key, iv) = handshake_key_iv(&self.server_nonce, &self.new_nonce);
        let mut plain = ok.encrypted_answer;
        if plain.len() < 20 || !ige_decrypt(&mut plain, &key, &iv) {
            return Err(bad("encrypted_answer length"));
        }
        let mut r = Reader::new(&plain[20..]);
        let inner = types::ServerDHInnerData::deserialize(&mut r)
            .map_err(|_| bad("server_DH_inner_data does not decode"))?;
        let used = r.position();
        if sha1(&[&plain[20..20 + used]]) != plain[..20] || plain.len() - 20 - used >= 16 {
            return Err(bad("answer hash or padding"));
        }
        // Kurigram re-serializes the answer to check the hash: it must be canonical (HS-11).
        if inner.to_bytes() != plain[20..20 + used] {
            return Err(bad("answer is not canonically encoded"));
        }
        if inner.nonce != self.nonce || inner.server_nonce != self.server_nonce {
            return Err(ClientHandshakeError::NonceMismatch);
        }
        if inner.g != dh::G as i32 || inner.dh_prime != dh::DH_PRIME {
            return Err(bad("not the standard prime with g = 3"));
        }
        let p = dh::prime();
        let g_a = BigUint::from_bytes_be(&inner.g_a);
        if !dh::in_strict_range(&g_a, &p) {
            return Err(bad("g_a out of range"));
        }
        let b = Exponent::generate(rng);
        let client_inner = types::ClientDHInnerData {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            retry_id: 0,
            g_b: forced_g_b.map_or_else(|| b.public.to_vec(), <[u8]>::to_vec),
        }
        .to_bytes();
        let mut data = Vec::with_capacity(20 + client_inner.len() + 16);
        data.extend_from_slice(&sha1(&[&client_inner]));
        data.extend_from_slice(&client_inner);
        let pad = (16 - data.len() % 16) % 16;
        let mut padding = [0u8; 16];
        rng.fill(&mut padding[..pad]);
        data.extend_from_slice(&padding[..pad]);
        let aligned = ige_encrypt(&mut data, &key, &iv);
        debug_assert!(aligned, "padded to 16");
        let auth_key = AuthKey::from_bytes(b.shared(&g_a));
        Ok((
            ExpectDhGen {
                nonce: self.nonce,
                server_nonce: self.server_nonce,
                new_nonce: self.new_nonce,
                auth_key,
            },
            functions::SetClientDHParams {
                nonce: self.nonce,
                server_nonce: self.server_nonce,
                encrypted_data: data,
            },
            inner.server_time,
        ))
    }
}

pub struct ExpectDhGen {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: [u8; 32],
    auth_key: AuthKey,
}

/// A finished exchange.
#[derive(Debug)]
pub struct Finished {
    pub auth_key: AuthKey,
    /// The first server salt (HS-18).
    pub salt: i64,
}

impl ExpectDhGen {
    pub fn handle_dh_gen(
        self,
        answer: enums::SetClientDHParamsAnswer,
    ) -> Result<Finished, ClientHandshakeError> {
        let aux = self.auth_key.aux_hash();
        let (nonce, server_nonce, hash, n) = match &answer {
            enums::SetClientDHParamsAnswer::DhGenOk(a) => {
                (a.nonce, a.server_nonce, a.new_nonce_hash1, 1)
            }
            enums::SetClientDHParamsAnswer::DhGenRetry(a) => {
                (a.nonce, a.server_nonce, a.new_nonce_hash2, 2)
            }
            enums::SetClientDHParamsAnswer::DhGenFail(a) => {
                (a.nonce, a.server_nonce, a.new_nonce_hash3, 3)
            }
        };
        if nonce != self.nonce || server_nonce != self.server_nonce {
            return Err(ClientHandshakeError::NonceMismatch);
        }
        if !bool::from(new_nonce_hash(&self.new_nonce, n, &aux).ct_eq(&hash)) {
            return Err(ClientHandshakeError::DhGen("new_nonce_hash mismatch"));
        }
        match n {
            1 => Ok(Finished {
                salt: initial_salt(&self.new_nonce, &self.server_nonce),
                auth_key: self.auth_key,
            }),
            2 => Err(ClientHandshakeError::DhGen("dh_gen_retry")),
            _ => Err(ClientHandshakeError::DhGen("dh_gen_fail")),
        }
    }
}
