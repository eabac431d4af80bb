//! Typed reads and atomic writes of the account records (LG-3, LG-4, LO-1, DB-3) over any
//! `Store`. Each write is one conditional `Batch`: it applies only if the records it was
//! computed from are unchanged, so a code is consumed once, a phone gets one account, and a
//! logout cannot be undone by a concurrent login. A `Conflict` means "read again and decide
//! again"; the callers in `rpc` do that.

use super::records::{
    authorization_key, bot_token_key, code_key, counter_key, decode_i64, email_verify_key,
    emails_key, encode_i64, exported_auth_key, future_tokens_key, index_value, key_login_token_key,
    login_token_key, password_key, password_pending_key, pending_email_key, phone_key,
    recovery_code_key, revoked_key, tmp_passwords_key, user_authorization_key,
    user_authorizations_prefix, user_key, username_key, web_token_key, Authorization, BotToken,
    Counter, Emails, HashedTokens, LoginToken, Password, PasswordPending, PendingCode,
    PendingEmail, User, WebToken, AUTHORIZATIONS_PREFIX, USERS_PREFIX,
};
use super::{Batch, Commit, Store, StoreError};

/// A record together with the exact bytes it was read from, for compare-and-swap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read<T> {
    pub value: T,
    pub raw: Vec<u8>,
}

/// Attempts at a write that keeps meeting concurrent writes.
const MAX_TRIES: usize = 16;

/// Sessions listed per user at most (account.getAuthorizations); Telegram shows far fewer.
pub const MAX_AUTHORIZATIONS_LISTED: usize = 1000;

pub struct Accounts<'a> {
    store: &'a dyn Store,
}

impl<'a> Accounts<'a> {
    pub fn new(store: &'a dyn Store) -> Self {
        Accounts { store }
    }

    fn read<T>(
        &self,
        key: &[u8],
        decode: impl FnOnce(&[u8]) -> Result<T, StoreError>,
    ) -> Result<Option<Read<T>>, StoreError> {
        self.store
            .get(key)?
            .map(|raw| {
                Ok(Read {
                    value: decode(&raw)?,
                    raw,
                })
            })
            .transpose()
    }

    pub fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        Ok(self.read(&user_key(id), User::decode)?.map(|r| r.value))
    }

    pub fn user_by_phone(&self, phone: &str) -> Result<Option<User>, StoreError> {
        match self.store.get(&phone_key(phone))? {
            Some(v) => self.user(decode_i64("phone index", &v)?),
            None => Ok(None),
        }
    }

    /// Up to `limit` users in id order (operators' listing).
    pub fn users(&self, limit: usize) -> Result<Vec<User>, StoreError> {
        self.store
            .scan(USERS_PREFIX, limit)?
            .iter()
            .map(|(_, v)| User::decode(v))
            .collect()
    }

    pub fn authorization(&self, key_id: i64) -> Result<Option<Read<Authorization>>, StoreError> {
        self.read(&authorization_key(key_id), Authorization::decode)
    }

    /// Every authorization of `user_id`, in key id order.
    pub fn authorizations_of(&self, user_id: i64) -> Result<Vec<Read<Authorization>>, StoreError> {
        let prefix = user_authorizations_prefix(user_id);
        let mut out = Vec::new();
        for (k, _) in self.store.scan(&prefix, MAX_AUTHORIZATIONS_LISTED)? {
            let key_id = k
                .get(prefix.len()..)
                .and_then(|b| b.try_into().ok())
                .map(i64::from_be_bytes)
                .ok_or_else(|| StoreError("authorization index: bad key".into()))?;
            // An index entry without its record cannot come from a batch; skip rather than
            // fail every listing if one ever appears.
            if let Some(a) = self.authorization(key_id)? {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Up to `limit` authorizations of every user, in key id order (operators' listing).
    pub fn all_authorizations(&self, limit: usize) -> Result<Vec<Read<Authorization>>, StoreError> {
        self.store
            .scan(AUTHORIZATIONS_PREFIX, limit)?
            .into_iter()
            .map(|(_, raw)| {
                Ok(Read {
                    value: Authorization::decode(&raw)?,
                    raw,
                })
            })
            .collect()
    }

    /// Whether the key's authorization was ended from another session (SESSION_REVOKED).
    pub fn revoked(&self, key_id: i64) -> Result<bool, StoreError> {
        Ok(self.store.get(&revoked_key(key_id))?.is_some())
    }

    /// The user's future auth tokens.
    pub fn future_tokens(&self, user_id: i64) -> Result<Option<Read<HashedTokens>>, StoreError> {
        self.read(&future_tokens_key(user_id), HashedTokens::decode)
    }

    /// The recovery email waiting for its code, if any.
    pub fn pending_email(&self, user_id: i64) -> Result<Option<Read<PendingEmail>>, StoreError> {
        self.read(&pending_email_key(user_id), PendingEmail::decode)
    }

    /// The user's cloud password, if one is set.
    pub fn login_token(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<Read<LoginToken>>, StoreError> {
        self.read(&login_token_key(token_hash), LoginToken::decode)
    }

    /// The QR login token `key_id` exported last, as (hash, expires).
    pub fn key_login_token(&self, key_id: i64) -> Result<Option<Read<HashedTokens>>, StoreError> {
        self.read(&key_login_token_key(key_id), HashedTokens::decode)
    }

    pub fn exported_auths(
        &self,
        user_id: i64,
        dc_id: i32,
    ) -> Result<Option<Read<HashedTokens>>, StoreError> {
        self.read(&exported_auth_key(user_id, dc_id), HashedTokens::decode)
    }

    pub fn web_token(&self, token_hash: &[u8; 32]) -> Result<Option<Read<WebToken>>, StoreError> {
        self.read(&web_token_key(token_hash), WebToken::decode)
    }

    pub fn bot_token(&self, bot_id: i64) -> Result<Option<Read<BotToken>>, StoreError> {
        self.read(&bot_token_key(bot_id), BotToken::decode)
    }

    pub fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        match self.store.get(&username_key(username))? {
            Some(v) => self.user(decode_i64("username index", &v)?),
            None => Ok(None),
        }
    }

    pub fn recovery_code(&self, user_id: i64) -> Result<Option<Read<PendingEmail>>, StoreError> {
        self.read(&recovery_code_key(user_id), PendingEmail::decode)
    }

    pub fn tmp_passwords(&self, user_id: i64) -> Result<Option<Read<HashedTokens>>, StoreError> {
        self.read(&tmp_passwords_key(user_id), HashedTokens::decode)
    }

    pub fn emails(&self, user_id: i64) -> Result<Option<Read<Emails>>, StoreError> {
        self.read(&emails_key(user_id), Emails::decode)
    }

    pub fn email_verify(
        &self,
        user_id: i64,
        purpose: u8,
    ) -> Result<Option<Read<PendingEmail>>, StoreError> {
        self.read(&email_verify_key(user_id, purpose), PendingEmail::decode)
    }

    pub fn password(&self, user_id: i64) -> Result<Option<Read<Password>>, StoreError> {
        self.read(&password_key(user_id), Password::decode)
    }

    /// The login this key waits to finish with the password (AC-2), if any.
    pub fn password_pending(
        &self,
        key_id: i64,
    ) -> Result<Option<Read<PasswordPending>>, StoreError> {
        self.read(&password_pending_key(key_id), PasswordPending::decode)
    }

    pub fn code(&self, phone_code_hash: &str) -> Result<Option<Read<PendingCode>>, StoreError> {
        self.read(&code_key(phone_code_hash), PendingCode::decode)
    }

    pub fn counter(&self, key: &[u8]) -> Result<Option<Read<Counter>>, StoreError> {
        self.read(key, Counter::decode)
    }

    pub fn commit(&self, batch: &Batch) -> Result<Commit, StoreError> {
        self.store.commit(batch)
    }

    /// Ends the authorizations `pick` reads, all in one write (LO-1); after a conflict they are
    /// read and picked again. `revoked_at`: ended from another session, so the keys answer
    /// SESSION_REVOKED from now on. Returns how many ended. Not synced: the caller's answer
    /// waits for the sync, or the caller syncs.
    pub fn end_authorizations(
        &self,
        pick: impl Fn(&Self) -> Result<Vec<Read<Authorization>>, StoreError>,
        revoked_at: Option<i64>,
    ) -> Result<usize, StoreError> {
        for _ in 0..MAX_TRIES {
            let picked = pick(self)?;
            if picked.is_empty() {
                return Ok(0);
            }
            let mut b = Batch::default();
            for a in &picked {
                b.unbind(a, revoked_at);
            }
            if let Commit::Applied { .. } = self.commit(&b)? {
                return Ok(picked.len());
            }
        }
        Err(StoreError("the sessions kept changing; try again".into()))
    }

    /// Ends the key's own login, if it has one (logOut; or its key is being destroyed, SV-9).
    /// Whether there was one.
    pub fn end_authorization(&self, key_id: i64) -> Result<bool, StoreError> {
        let own = |acc: &Self| Ok(acc.authorization(key_id)?.into_iter().collect());
        Ok(self.end_authorizations(own, None)? > 0)
    }

    /// Forgets a key's wait for a password (AC-2): its key is being destroyed (SV-9).
    pub fn end_password_wait(&self, key_id: i64) -> Result<(), StoreError> {
        let mut b = Batch::default();
        b.delete(password_pending_key(key_id));
        self.commit(&b).map(|_| ())
    }

    /// Deletes a user and every record of theirs (the admin reset of one user): its logins end
    /// first (their keys stay, logged out), then the account, its phone and username entries,
    /// password, emails, bot token, tokens and pending codes go in one write. The ended keys.
    pub fn delete_user(&self, user_id: i64, dcs: &[i32]) -> Result<Vec<i64>, StoreError> {
        let ended: Vec<i64> = self
            .authorizations_of(user_id)?
            .iter()
            .map(|a| a.value.key_id)
            .collect();
        self.end_authorizations(|acc| acc.authorizations_of(user_id), None)?;
        let Some(user) = self.user(user_id)? else {
            return Ok(ended);
        };
        let mut b = Batch::default();
        b.delete(user_key(user_id));
        if !user.phone.is_empty() {
            b.delete(phone_key(&user.phone));
        }
        if !user.username.is_empty() {
            b.delete(username_key(&user.username));
        }
        for key in [
            password_key(user_id),
            pending_email_key(user_id),
            bot_token_key(user_id),
            recovery_code_key(user_id),
            tmp_passwords_key(user_id),
            emails_key(user_id),
            future_tokens_key(user_id),
            email_verify_key(user_id, 1),
            email_verify_key(user_id, 2),
        ] {
            b.delete(key);
        }
        for dc in dcs {
            b.delete(exported_auth_key(user_id, *dc));
        }
        self.commit(&b)?;
        Ok(ended)
    }

    /// One round of the expired-record sweep: in each kind of expiring record (login codes,
    /// login tokens, future auth tokens, QR and web tokens, flood counters; `counter_window`
    /// is a counter's window length) it reads up to `limit` records from where `cursor` says
    /// the last round stopped, and deletes those that expired before `now`, so that the store
    /// does not keep every code ever sent and live records at the front of a kind never hide
    /// expired ones behind them. Returns how many went, and whether every kind has been read
    /// to its end since `cursor.start()`.
    pub fn sweep(
        &self,
        now: i64,
        counter_window: i64,
        limit: usize,
        cursor: &mut SweepCursor,
    ) -> Result<(usize, bool), StoreError> {
        let all_expired = |raw: &[u8]| {
            HashedTokens::decode(raw).is_ok_and(|t| t.0.iter().all(|t| t.expires <= now))
        };
        let expired: [(&[u8], &Expired<'_>); SWEPT_KINDS] = [
            (b"C", &|raw| {
                PendingCode::decode(raw).is_ok_and(|c| c.expires <= now)
            }),
            (b"K", &|raw| {
                LoginToken::decode(raw).is_ok_and(|t| t.expires <= now)
            }),
            (b"k", &all_expired),
            (b"D", &all_expired),
            (b"G", &|raw| {
                WebToken::decode(raw).is_ok_and(|t| t.expires <= now)
            }),
            (b"F", &|raw| {
                Counter::decode(raw)
                    .is_ok_and(|c| c.window_start.saturating_add(counter_window) <= now)
            }),
        ];
        let mut b = Batch::default();
        let (mut n, mut pending) = (0, 0);
        for (i, (prefix, expired)) in expired.iter().enumerate() {
            if cursor.done[i] {
                continue;
            }
            let records = match &cursor.after[i] {
                Some(after) => self.store.scan_after(prefix, after, limit)?,
                None => self.store.scan(prefix, limit)?,
            };
            cursor.done[i] = records.len() < limit;
            cursor.after[i] = match cursor.done[i] {
                true => None,
                false => records.last().map(|(k, _)| k.clone()),
            };
            for (k, raw) in records {
                if expired(&raw) {
                    b.swap(k, Some(&raw), None);
                    pending += 1;
                }
                if pending == SWEEP_COMMIT {
                    n += self.commit_sweep(&mut b, &mut pending)?;
                }
            }
        }
        n += self.commit_sweep(&mut b, &mut pending)?;
        Ok((n, cursor.done.iter().all(|d| *d)))
    }

    /// Commits the deletions gathered; how many went. A conflict means a request touched one
    /// of them meanwhile: the sweep's next pass retries them (small commits keep that rare).
    fn commit_sweep(&self, b: &mut Batch, pending: &mut usize) -> Result<usize, StoreError> {
        let n = std::mem::take(pending);
        if n == 0 {
            return Ok(0);
        }
        let done = self.commit(b)?;
        *b = Batch::default();
        Ok(match done {
            Commit::Applied { .. } => n,
            Commit::Conflict => 0,
        })
    }
}

const SWEPT_KINDS: usize = 6;
/// Deletions per commit of the sweep.
const SWEEP_COMMIT: usize = 512;

/// Whether a record of one kind has expired.
type Expired<'a> = dyn Fn(&[u8]) -> bool + 'a;

/// Where the sweep stopped in each kind of expiring record, kept from one sweep to the next.
#[derive(Debug, Default)]
pub struct SweepCursor {
    after: [Option<Vec<u8>>; SWEPT_KINDS],
    done: [bool; SWEPT_KINDS],
}

impl SweepCursor {
    /// A new sweep: every kind is read again (each from where it stopped).
    pub fn start(&mut self) {
        self.done = [false; SWEPT_KINDS];
    }
}

/// Batch steps, so that one request's writes go in one commit.
pub trait BatchExt {
    /// `old` → `new` for a record read as `old` (`None`: it must still be absent).
    fn swap(&mut self, key: Vec<u8>, old: Option<&[u8]>, new: Option<Vec<u8>>) -> &mut Self;
    /// Binds the key to the user (LG-3): the authorization and its index entry, replacing the
    /// key's previous binding `old` and clearing a revoked mark.
    fn bind(&mut self, auth: &Authorization, old: Option<&Read<Authorization>>) -> &mut Self;
    /// Ends an authorization (LO-1); `revoked`: from another session, so the key answers
    /// SESSION_REVOKED from now on.
    fn unbind(&mut self, old: &Read<Authorization>, revoked_at: Option<i64>) -> &mut Self;
    /// Rewrites a login's record (its client fields), if it is still `old`.
    fn update_authorization(&mut self, old: &Read<Authorization>, new: &Authorization)
        -> &mut Self;
    /// A new user with its phone index entry (both must be new: PHONE_NUMBER_OCCUPIED).
    fn create_user(&mut self, user: &User) -> &mut Self;
    fn count(
        &mut self,
        kind: u8,
        subject: &[u8],
        old: Option<&Read<Counter>>,
        new: Counter,
    ) -> &mut Self;
}

impl BatchExt for Batch {
    fn swap(&mut self, key: Vec<u8>, old: Option<&[u8]>, new: Option<Vec<u8>>) -> &mut Self {
        self.expect(key.clone(), old.map(<[u8]>::to_vec));
        match new {
            Some(v) => self.put(key, v),
            None => self.delete(key),
        }
    }

    fn bind(&mut self, auth: &Authorization, old: Option<&Read<Authorization>>) -> &mut Self {
        if let Some(old) = old {
            self.delete(user_authorization_key(old.value.user_id, old.value.key_id));
        }
        self.swap(
            authorization_key(auth.key_id),
            old.map(|o| o.raw.as_slice()),
            Some(auth.encode()),
        );
        self.put(
            user_authorization_key(auth.user_id, auth.key_id),
            index_value(),
        );
        // A login ends a wait for the password (AC-2).
        self.delete(password_pending_key(auth.key_id));
        self.delete(revoked_key(auth.key_id))
    }

    fn unbind(&mut self, old: &Read<Authorization>, revoked_at: Option<i64>) -> &mut Self {
        let a = &old.value;
        self.swap(authorization_key(a.key_id), Some(&old.raw), None);
        self.delete(user_authorization_key(a.user_id, a.key_id));
        if let Some(at) = revoked_at {
            self.put(revoked_key(a.key_id), encode_i64(at));
        }
        self
    }

    fn update_authorization(
        &mut self,
        old: &Read<Authorization>,
        new: &Authorization,
    ) -> &mut Self {
        self.swap(
            authorization_key(old.value.key_id),
            Some(&old.raw),
            Some(new.encode()),
        )
    }

    fn create_user(&mut self, user: &User) -> &mut Self {
        self.swap(user_key(user.id), None, Some(user.encode()));
        self.swap(phone_key(&user.phone), None, Some(encode_i64(user.id)))
    }

    fn count(
        &mut self,
        kind: u8,
        subject: &[u8],
        old: Option<&Read<Counter>>,
        new: Counter,
    ) -> &mut Self {
        self.swap(
            counter_key(kind, subject),
            old.map(|o| o.raw.as_slice()),
            Some(new.encode()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn user(id: i64, phone: &str) -> User {
        User {
            id,
            access_hash: 5,
            phone: phone.into(),
            first_name: "A".into(),
            last_name: String::new(),
            home_dc: 2,
            created: 1,
            bot: false,
            username: String::new(),
        }
    }

    fn auth(key_id: i64, user_id: i64) -> Authorization {
        Authorization {
            key_id,
            user_id,
            hash: key_id + 100,
            created: 1,
            active: 1,
            ip: "127.0.0.1".into(),
            dc_id: 2,
            api_id: 6,
            device_model: "pc".into(),
            system_version: String::new(),
            app_version: String::new(),
            lang_code: String::new(),
            layer: 0,
        }
    }

    #[test]
    fn expired_codes_and_counters_are_swept_and_live_ones_kept() {
        use crate::store::records::{code_key, CodeKind, CodeState};
        let store = MemoryStore::default();
        let acc = Accounts::new(&store);
        let code = |expires| PendingCode {
            phone: "1".into(),
            key_id: 1,
            code_hash: [0; 32],
            code_len: 5,
            created: 0,
            expires,
            wrong: 0,
            sends: 1,
            kind: CodeKind::Sms,
            state: CodeState::Sent,
            email: String::new(),
        };
        let mut b = Batch::default();
        b.put(code_key("old"), code(100).encode());
        b.put(code_key("new"), code(300).encode());
        let counter = |start| Counter {
            window_start: start,
            count: 1,
        };
        b.count(b'p', b"1", None, counter(0));
        b.count(b'p', b"2", None, counter(150));
        acc.commit(&b).unwrap();
        let mut cursor = SweepCursor::default();
        assert_eq!(acc.sweep(200, 100, 1000, &mut cursor).unwrap(), (2, true));
        assert!(acc.code("old").unwrap().is_none());
        assert!(acc.code("new").unwrap().is_some());
        assert!(acc.counter(&counter_key(b'p', b"1")).unwrap().is_none());
        assert!(acc.counter(&counter_key(b'p', b"2")).unwrap().is_some());
        cursor.start();
        assert_eq!(acc.sweep(200, 100, 1000, &mut cursor).unwrap(), (0, true));

        // Expired codes among more live ones than a round reads are all reached by the next
        // rounds (the cursor), in both stores; then the sweep starts from the front again.
        let sled_dir = std::env::temp_dir().join(format!("mtproto-sweep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&sled_dir);
        let sled = crate::store::SledStore::open(&sled_dir).unwrap();
        for store in [&store as &dyn Store, &sled] {
            let acc = Accounts::new(store);
            let mut b = Batch::default();
            for i in 0..25 {
                b.put(code_key(&format!("a{i:02}")), code(300).encode());
            }
            for i in 0..5 {
                b.put(code_key(&format!("z{i}")), code(100).encode());
            }
            acc.commit(&b).unwrap();
            let codes = store.scan(b"C", usize::MAX).unwrap().len();
            // 30 or 31 codes ("new" from above in memory), 10 read a round: four rounds.
            let mut cursor = SweepCursor::default();
            let rounds: Vec<(usize, bool)> = (0..4)
                .map(|_| acc.sweep(200, 100, 10, &mut cursor).unwrap())
                .collect();
            let done: Vec<bool> = rounds.iter().map(|r| r.1).collect();
            assert_eq!(done, [false, false, false, true]);
            assert_eq!(rounds.iter().map(|r| r.0).sum::<usize>(), 5);
            assert!((0..5).all(|i| acc.code(&format!("z{i}")).unwrap().is_none()));
            assert_eq!(store.scan(b"C", usize::MAX).unwrap().len(), codes - 5);
            cursor.start();
            assert_eq!(acc.sweep(200, 100, 10, &mut cursor).unwrap(), (0, false));
        }
        let _ = std::fs::remove_dir_all(&sled_dir);

        // More than one commit's worth: every one goes, in commits of SWEEP_COMMIT.
        let store = MemoryStore::default();
        let acc = Accounts::new(&store);
        let mut b = Batch::default();
        for i in 0..1200 {
            b.put(code_key(&format!("x{i}")), code(100).encode());
        }
        acc.commit(&b).unwrap();
        let before = store.written();
        let mut cursor = SweepCursor::default();
        assert_eq!(
            acc.sweep(200, 100, 2000, &mut cursor).unwrap(),
            (1200, true)
        );
        assert_eq!(store.written() - before, 3, "1,200 deletions in 3 commits");
        assert!(store.scan(b"C", usize::MAX).unwrap().is_empty());
    }

    #[test]
    fn a_phone_gets_one_account_and_logins_bind_and_unbind_atomically() {
        let store = MemoryStore::default();
        let acc = Accounts::new(&store);
        let mut b = Batch::default();
        b.create_user(&user(1, "9996621111"))
            .bind(&auth(10, 1), None);
        assert!(matches!(acc.commit(&b).unwrap(), Commit::Applied { .. }));
        // A second account for the same phone conflicts and writes nothing.
        let mut b = Batch::default();
        b.create_user(&user(2, "9996621111"))
            .bind(&auth(11, 2), None);
        assert_eq!(acc.commit(&b).unwrap(), Commit::Conflict);
        assert_eq!(acc.user(2).unwrap(), None);
        assert!(acc.authorization(11).unwrap().is_none());
        assert_eq!(acc.user_by_phone("9996621111").unwrap().unwrap().id, 1);
        assert_eq!(acc.users(10).unwrap().len(), 1);

        let mut b = Batch::default();
        b.bind(&auth(12, 1), None);
        acc.commit(&b).unwrap();
        let keys: Vec<i64> = acc
            .authorizations_of(1)
            .unwrap()
            .iter()
            .map(|a| a.value.key_id)
            .collect();
        assert_eq!(keys, vec![10, 12]);

        // Key 12 is revoked from another session; a stale read of it cannot unbind it again.
        let read = acc.authorization(12).unwrap().unwrap();
        let mut b = Batch::default();
        b.unbind(&read, Some(50));
        acc.commit(&b).unwrap();
        assert!(acc.revoked(12).unwrap());
        assert_eq!(acc.commit(&b).unwrap(), Commit::Conflict);
        assert_eq!(acc.authorizations_of(1).unwrap().len(), 1);
        // Logging in again clears the mark.
        let mut b = Batch::default();
        b.bind(&auth(12, 1), None);
        acc.commit(&b).unwrap();
        assert!(!acc.revoked(12).unwrap());
    }
}
