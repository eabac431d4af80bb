//! A 2048-bit authorization key with its id and aux hash (HS-16): `auth_key_id =
//! SHA1(auth_key)[12..20]`, `aux_hash = SHA1(auth_key)[0..8]`. Zeroized on drop; `Debug` shows
//! the id only (CH-2).

use zeroize::Zeroize;

#[derive(Clone)]
pub struct AuthKey {
    data: Box<[u8; 256]>,
    id: [u8; 8],
    aux_hash: [u8; 8],
}

impl AuthKey {
    /// Takes the key onto the heap, where it stays until dropped and zeroized. (The caller's
    /// by-value copy is the caller's to wipe.)
    pub fn from_bytes(data: [u8; 256]) -> Self {
        let data = Box::new(data);
        let h = super::sha1(&[&data[..]]);
        let mut id = [0u8; 8];
        id.copy_from_slice(&h[12..20]);
        let mut aux_hash = [0u8; 8];
        aux_hash.copy_from_slice(&h[..8]);
        AuthKey { data, id, aux_hash }
    }

    pub fn data(&self) -> &[u8; 256] {
        &self.data
    }

    /// The id as it stands on the wire (8 bytes).
    pub fn id_bytes(&self) -> [u8; 8] {
        self.id
    }

    /// The id as the LE int64 clients and logs use.
    pub fn id(&self) -> i64 {
        i64::from_le_bytes(self.id)
    }

    pub fn aux_hash(&self) -> [u8; 8] {
        self.aux_hash
    }
}

impl Drop for AuthKey {
    fn drop(&mut self) {
        self.data.zeroize();
    }
}

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuthKey({:016x})", self.id() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_and_aux_hash_come_from_sha1() {
        let key = AuthKey::from_bytes(std::array::from_fn(|i| i as u8));
        let h = crate::crypto::sha1(&[&key.data()[..]]);
        assert_eq!(key.id_bytes(), h[12..20]);
        assert_eq!(key.aux_hash(), h[..8]);
        assert_eq!(
            format!("{key:?}"),
            format!(
                "AuthKey({:016x})",
                u64::from_le_bytes(h[12..20].try_into().unwrap())
            )
        );
    }
}
