//! Which temporary key acts for which permanent key (PF-5, PF-6) [doc: api/pfs], in memory
//! only, as Telegram keeps them: one temporary key per permanent key, a new binding replacing
//! the old. The binding message itself is `crypto::bind`.

use std::collections::HashMap;

/// Which temporary key acts for which permanent key.
#[derive(Debug, Default)]
pub struct Bindings {
    perm_of: HashMap<i64, i64>,
    temp_of: HashMap<i64, i64>,
}

impl Bindings {
    /// The permanent key `temp` acts for.
    pub fn perm_of(&self, temp: i64) -> Option<i64> {
        self.perm_of.get(&temp).copied()
    }

    /// Binds `temp` to `perm`; `perm`'s previous temporary key (returned) is unbound (PF-5).
    pub fn bind(&mut self, temp: i64, perm: i64) -> Option<i64> {
        let old = self.temp_of.insert(perm, temp).filter(|old| *old != temp);
        if let Some(old) = old {
            self.perm_of.remove(&old);
        }
        self.perm_of.insert(temp, perm);
        old
    }

    /// Forgets `temp`'s binding (the key expired or was destroyed).
    pub fn unbind_temp(&mut self, temp: i64) {
        if let Some(perm) = self.perm_of.remove(&temp) {
            if self.temp_of.get(&perm) == Some(&temp) {
                self.temp_of.remove(&perm);
            }
        }
    }

    /// The temporary key bound to `perm`.
    pub fn temp_of(&self, perm: i64) -> Option<i64> {
        self.temp_of.get(&perm).copied()
    }

    /// The temporary key bound to `perm`, taken out of the bindings.
    pub fn take_temp_of(&mut self, perm: i64) -> Option<i64> {
        let temp = self.temp_of.remove(&perm)?;
        self.perm_of.remove(&temp);
        Some(temp)
    }

    /// Every (temporary, permanent) pair.
    pub fn pairs(&self) -> Vec<(i64, i64)> {
        self.perm_of.iter().map(|(t, p)| (*t, *p)).collect()
    }

    pub fn is_bound(&self, temp: i64) -> bool {
        self.perm_of.contains_key(&temp)
    }

    pub fn len(&self) -> usize {
        self.perm_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.perm_of.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_temporary_key_per_permanent_key() {
        let mut b = Bindings::default();
        assert_eq!(b.bind(1, 100), None);
        assert_eq!(b.perm_of(1), Some(100));
        assert_eq!(b.bind(2, 100), Some(1), "a new binding replaces the old");
        assert_eq!((b.perm_of(1), b.perm_of(2)), (None, Some(100)));
        assert_eq!(b.bind(2, 100), None, "binding again is no change");
        b.unbind_temp(2);
        assert!(b.is_empty());
        b.bind(3, 200);
        assert_eq!(b.take_temp_of(200), Some(3));
        assert!(b.perm_of(3).is_none());
    }
}
