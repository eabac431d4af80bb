//! Every phone-login flow and every error of ERRORS.md §5 that this issue serves, through
//! `dispatch` over a `MemoryStore`, with a fixed clock and seeded randomness.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use super::login::{MemorySender, RateLimit};
use super::ClientInfo;
use super::{dispatch, DcAddress, LoginConfig, RpcContext, RpcError};
use crate::rand::SeededRng;
use crate::store::accounts::Accounts;
use crate::store::{MemoryStore, Store};
use crate::tl::functions::{self, Function};
use crate::tl::{enums, types, Deserializable, RemoteCall};

pub const T0: i32 = 1_700_000_000;

pub struct Fixture {
    pub store: MemoryStore,
    pub login: LoginConfig,
    pub sender: Arc<MemorySender>,
    pub dcs: Vec<DcAddress>,
    pub now: Cell<i32>,
    /// Keys at or above this id are temporary.
    pub temp_keys_from: i64,
    pub pushes: RefCell<Vec<super::Push>>,
    rng: RefCell<SeededRng>,
    /// Each key's client info, as the server keeps it in memory.
    clients: RefCell<std::collections::HashMap<i64, ClientInfo>>,
    /// The client address requests come from.
    pub peer: RefCell<String>,
    pub srp: super::password::Challenges,
}

impl Fixture {
    pub fn new() -> Self {
        let sender = Arc::new(MemorySender::default());
        let mut login = LoginConfig::new(sender.clone());
        login.fresh_reset_secs = 0;
        Fixture {
            store: MemoryStore::default(),
            login,
            sender,
            dcs: (1..=3)
                .map(|id| DcAddress {
                    id,
                    ip: format!("127.0.0.{id}"),
                    port: 4430 + id as u16,
                })
                .collect(),
            now: Cell::new(T0),
            temp_keys_from: 1_000,
            pushes: RefCell::new(Vec::new()),
            rng: RefCell::new(SeededRng::new(5)),
            clients: RefCell::default(),
            peer: RefCell::new("127.0.0.9".into()),
            srp: Default::default(),
        }
    }

    /// What key `key_id`'s client declares from now on; kept with its login if it has one,
    /// as the server does.
    pub fn set_client(&self, key_id: i64, info: ClientInfo) {
        super::client_info::persist(&Accounts::new(&self.store), key_id, &info).unwrap();
        self.clients.borrow_mut().insert(key_id, info);
    }

    pub fn call(&self, key_id: i64, dc: i32, query: &Function) -> Result<Vec<u8>, RpcError> {
        let client = self
            .clients
            .borrow()
            .get(&key_id)
            .cloned()
            .unwrap_or_default();
        let peer = self.peer.borrow().clone();
        let ctx = RpcContext {
            this_dc: dc,
            dcs: &self.dcs,
            test_mode: true,
            now: self.now.get(),
            msg_id: 4,
            key_id,
            temp_key: key_id >= self.temp_keys_from,
            peer: &peer,
            store: &self.store,
            login: &self.login,
            client: &client,
            srp: &self.srp,
            pushes: &self.pushes,
        };
        dispatch(&ctx, &mut *self.rng.borrow_mut(), query)
    }

    pub fn invoke<R: RemoteCall>(
        &self,
        key_id: i64,
        dc: i32,
        req: &R,
    ) -> Result<R::Return, RpcError> {
        let f = Function::from_bytes(&req.to_bytes()).expect("a known function");
        self.call(key_id, dc, &f)
            .map(|bytes| R::Return::from_bytes(&bytes).expect("the result decodes"))
    }

    pub fn send_code(&self, key_id: i64, dc: i32, phone: &str) -> Result<String, RpcError> {
        let sent = self.invoke(key_id, dc, &send_code(phone))?;
        let enums::auth::SentCode::SentCode(s) = sent else {
            panic!("{sent:?}")
        };
        Ok(s.phone_code_hash)
    }

    pub fn sign_in(
        &self,
        key_id: i64,
        dc: i32,
        phone: &str,
        hash: &str,
        code: &str,
    ) -> Result<enums::auth::Authorization, RpcError> {
        self.invoke(
            key_id,
            dc,
            &functions::auth::SignIn {
                phone_number: phone.into(),
                phone_code_hash: hash.into(),
                phone_code: Some(code.into()),
                email_verification: None,
            },
        )
    }

    pub fn sign_up(
        &self,
        key_id: i64,
        dc: i32,
        phone: &str,
        hash: &str,
        first: &str,
        last: &str,
    ) -> Result<enums::auth::Authorization, RpcError> {
        self.invoke(
            key_id,
            dc,
            &functions::auth::SignUp {
                no_joined_notifications: false,
                phone_number: phone.into(),
                phone_code_hash: hash.into(),
                first_name: first.into(),
                last_name: last.into(),
            },
        )
    }

    /// A new account for a test number on its DC, logged in on `key_id`; its user id.
    pub fn register(&self, key_id: i64, phone: &str) -> i64 {
        let dc = dc_of(phone);
        let hash = self.send_code(key_id, dc, phone).unwrap();
        let code = dc.to_string().repeat(5);
        assert!(matches!(
            self.sign_in(key_id, dc, phone, &hash, &code).unwrap(),
            enums::auth::Authorization::SignUpRequired(_)
        ));
        user_id(
            &self
                .sign_up(key_id, dc, phone, &hash, "Test", "User")
                .unwrap(),
        )
    }

    /// Logs an existing test number in on `key_id`.
    pub fn log_in(&self, key_id: i64, phone: &str) -> i64 {
        let dc = dc_of(phone);
        let hash = self.send_code(key_id, dc, phone).unwrap();
        let code = dc.to_string().repeat(5);
        user_id(&self.sign_in(key_id, dc, phone, &hash, &code).unwrap())
    }
}

pub fn dc_of(phone: &str) -> i32 {
    i32::from(phone.as_bytes()[5] - b'0')
}

pub fn send_code(phone: &str) -> functions::auth::SendCode {
    crate::client::login::send_code_request(phone)
}

pub fn user_id(a: &enums::auth::Authorization) -> i64 {
    match a {
        enums::auth::Authorization::Authorization(a) => match &a.user {
            enums::User::User(u) => {
                assert!(u.is_self);
                u.id
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn err(code: i32, text: &str) -> RpcError {
    RpcError::new(code, text)
}

const A: &str = "9996621234";

#[test]
fn a_test_number_signs_up_then_logs_in_and_out() {
    let f = Fixture::new();
    let id = f.register(1, A);
    let user = Accounts::new(&f.store).user_by_phone(A).unwrap().unwrap();
    assert_eq!(
        (user.id, user.first_name.as_str(), user.home_dc),
        (id, "Test", 2)
    );
    // The caller sees itself.
    let users = f
        .invoke(
            1,
            2,
            &functions::users::GetUsers {
                id: vec![types::InputUserSelf {}.into()],
            },
        )
        .unwrap();
    assert_eq!(users.len(), 1);
    let full = f
        .invoke(
            1,
            2,
            &functions::users::GetFullUser {
                id: types::InputUserSelf {}.into(),
            },
        )
        .unwrap();
    let enums::users::UserFull::UserFull(full) = full;
    assert_eq!(full.users.len(), 1);
    let state = f.invoke(1, 2, &functions::updates::GetState {}).unwrap();
    let enums::updates::State::State(state) = state;
    let diff = f
        .invoke(
            1,
            2,
            &functions::updates::GetDifference {
                pts: state.pts,
                pts_limit: None,
                pts_total_limit: None,
                date: state.date,
                qts: state.qts,
                qts_limit: None,
            },
        )
        .unwrap();
    assert!(matches!(diff, enums::updates::Difference::Empty(_)));
    // Logged out: the key is unregistered again; a new login on another key finds the user.
    let out = f.invoke(1, 2, &functions::auth::LogOut {}).unwrap();
    assert!(matches!(out, enums::auth::LoggedOut::LoggedOut(_)));
    assert_eq!(
        f.invoke(1, 2, &functions::updates::GetState {})
            .unwrap_err(),
        err(401, "AUTH_KEY_UNREGISTERED")
    );
    assert_eq!(
        f.invoke(1, 2, &functions::auth::LogOut {}).unwrap_err(),
        err(401, "AUTH_KEY_UNREGISTERED")
    );
    assert_eq!(f.log_in(2, A), id);
    assert_eq!(f.log_in(1, A), id);
}

#[test]
fn send_code_checks_phone_dc_and_api_id() {
    let f = Fixture::new();
    for bad in ["", "123", "phone", "9996641234", "+1 (234) 567 890 123 456"] {
        assert_eq!(
            f.send_code(1, 2, bad).unwrap_err(),
            err(406, "PHONE_NUMBER_INVALID"),
            "{bad}"
        );
    }
    assert_eq!(
        f.send_code(1, 2, "9996631234").unwrap_err(),
        err(303, "PHONE_MIGRATE_3")
    );
    // Other numbers live on the default DC 2.
    assert_eq!(
        f.send_code(1, 1, "15551234567").unwrap_err(),
        err(303, "PHONE_MIGRATE_2")
    );
    let mut req = send_code(A);
    req.api_id = 0;
    assert_eq!(
        f.invoke(1, 2, &req).unwrap_err(),
        err(400, "API_ID_INVALID")
    );
    // A registered user's home DC decides for a number that is not a test number.
    let hash = f.send_code(1, 2, "+1 555 123 4567").unwrap();
    let code = f.sender.last_code("15551234567").unwrap();
    assert_eq!(code.len(), 5);
    assert_eq!(f.sender.last_code(A), None);
    assert!(matches!(
        f.sign_in(1, 2, "15551234567", &hash, &code).unwrap(),
        enums::auth::Authorization::SignUpRequired(_)
    ));
}

#[test]
fn codes_are_stored_only_as_hashes() {
    let f = Fixture::new();
    let hash = f.send_code(1, 2, "15551234567").unwrap();
    let code = f.sender.last_code("15551234567").unwrap();
    let stored = f.store.scan(b"C", 10).unwrap();
    assert_eq!(stored.len(), 1);
    let raw = &stored[0].1;
    assert!(!raw.windows(5).any(|w| w == code.as_bytes()));
    let _ = hash;
}

#[test]
fn sign_in_errors_in_order() {
    let f = Fixture::new();
    let hash = f.send_code(1, 2, A).unwrap();
    let sign_in = |key: i64, phone: &str, hash: &str, code: Option<&str>| {
        f.invoke(
            key,
            2,
            &functions::auth::SignIn {
                phone_number: phone.into(),
                phone_code_hash: hash.into(),
                phone_code: code.map(Into::into),
                email_verification: None,
            },
        )
    };
    assert_eq!(
        sign_in(1, A, "", Some("22222")).unwrap_err(),
        err(400, "PHONE_CODE_HASH_EMPTY")
    );
    assert_eq!(
        sign_in(1, A, &hash, None).unwrap_err(),
        err(400, "PHONE_CODE_EMPTY")
    );
    assert_eq!(
        sign_in(1, A, &hash, Some(" ")).unwrap_err(),
        err(400, "PHONE_CODE_EMPTY")
    );
    assert_eq!(
        sign_in(1, "12", &hash, Some("22222")).unwrap_err(),
        err(406, "PHONE_NUMBER_INVALID")
    );
    assert_eq!(
        sign_in(1, A, "nope", Some("22222")).unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
    // The hash belongs to its phone and its key.
    assert_eq!(
        sign_in(1, "9996629999", &hash, Some("22222")).unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
    assert_eq!(
        sign_in(2, A, &hash, Some("22222")).unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
    assert_eq!(
        sign_in(1, A, &hash, Some("22223")).unwrap_err(),
        err(400, "PHONE_CODE_INVALID")
    );
    // A right code still works after a wrong one.
    assert!(matches!(
        sign_in(1, A, &hash, Some("22222")).unwrap(),
        enums::auth::Authorization::SignUpRequired(_)
    ));
}

#[test]
fn five_wrong_codes_kill_the_hash() {
    let f = Fixture::new();
    let hash = f.send_code(1, 2, A).unwrap();
    for _ in 0..5 {
        assert_eq!(
            f.sign_in(1, 2, A, &hash, "11111").unwrap_err(),
            err(400, "PHONE_CODE_INVALID")
        );
    }
    assert_eq!(
        f.sign_in(1, 2, A, &hash, "22222").unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
    // A new code works.
    let hash = f.send_code(1, 2, A).unwrap();
    assert!(f.sign_in(1, 2, A, &hash, "22222").is_ok());
}

#[test]
fn codes_expire() {
    let f = Fixture::new();
    let hash = f.send_code(1, 2, A).unwrap();
    f.now.set(T0 + f.login.code_ttl as i32);
    assert_eq!(
        f.sign_in(1, 2, A, &hash, "22222").unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
}

#[test]
fn sign_in_lands_on_the_wrong_dc() {
    let f = Fixture::new();
    let hash = f.send_code(1, 2, A).unwrap();
    assert_eq!(
        f.sign_in(1, 1, A, &hash, "22222").unwrap_err(),
        err(303, "PHONE_MIGRATE_2")
    );
}

#[test]
fn old_layers_get_phone_number_unoccupied() {
    let f = Fixture::new();
    let info = ClientInfo {
        layer: 100,
        ..ClientInfo::default()
    };
    f.set_client(1, info);
    let hash = f.send_code(1, 2, A).unwrap();
    assert_eq!(
        f.sign_in(1, 2, A, &hash, "22222").unwrap_err(),
        err(400, "PHONE_NUMBER_UNOCCUPIED")
    );
    // signUp still follows.
    assert!(f.sign_up(1, 2, A, &hash, "Old", "").is_ok());
}

#[test]
fn sign_up_errors() {
    let f = Fixture::new();
    let hash = f.send_code(1, 2, A).unwrap();
    // No signIn yet.
    assert_eq!(
        f.sign_up(1, 2, A, &hash, "A", "B").unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
    f.sign_in(1, 2, A, &hash, "22222").unwrap();
    assert_eq!(
        f.sign_up(1, 2, "1", &hash, "A", "B").unwrap_err(),
        err(406, "PHONE_NUMBER_INVALID")
    );
    assert_eq!(
        f.sign_up(1, 2, A, "", "A", "B").unwrap_err(),
        err(400, "PHONE_CODE_HASH_EMPTY")
    );
    assert_eq!(
        f.sign_up(2, 2, A, &hash, "A", "B").unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
    assert_eq!(
        f.sign_up(1, 2, A, &hash, "  ", "B").unwrap_err(),
        err(400, "FIRSTNAME_INVALID")
    );
    let long = "x".repeat(65);
    assert_eq!(
        f.sign_up(1, 2, A, &hash, &long, "B").unwrap_err(),
        err(400, "FIRSTNAME_INVALID")
    );
    assert_eq!(
        f.sign_up(1, 2, A, &hash, "A", &long).unwrap_err(),
        err(400, "LASTNAME_INVALID")
    );
    // Two keys got to signUpRequired for one number; the first signUp wins.
    let other = f.send_code(2, 2, A).unwrap();
    f.sign_in(2, 2, A, &other, "22222").unwrap();
    f.sign_up(1, 2, A, &hash, "First", "").unwrap();
    assert_eq!(
        f.sign_up(2, 2, A, &other, "Second", "").unwrap_err(),
        err(400, "PHONE_NUMBER_OCCUPIED")
    );
    // The code was consumed by the signUp.
    assert_eq!(
        f.sign_up(1, 2, A, &hash, "Again", "").unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
    assert_eq!(Accounts::new(&f.store).users(10).unwrap().len(), 1);
}

#[test]
fn a_code_is_consumed_by_its_login() {
    let f = Fixture::new();
    f.register(1, A);
    let hash = f.send_code(2, 2, A).unwrap();
    f.sign_in(2, 2, A, &hash, "22222").unwrap();
    assert_eq!(
        f.sign_in(2, 2, A, &hash, "22222").unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
}

#[test]
fn resend_and_cancel() {
    let f = Fixture::new();
    let phone = "15551234567";
    let hash = f.send_code(1, 2, phone).unwrap();
    let first = f.sender.last_code(phone).unwrap();
    let resend = |hash: &str| {
        f.invoke(
            1,
            2,
            &functions::auth::ResendCode {
                phone_number: phone.into(),
                phone_code_hash: hash.into(),
                reason: None,
            },
        )
    };
    assert_eq!(resend("").unwrap_err(), err(400, "PHONE_CODE_HASH_EMPTY"));
    assert_eq!(
        resend("unknown").unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
    let again = resend(&hash).unwrap();
    let enums::auth::SentCode::SentCode(again) = again else {
        panic!()
    };
    assert_eq!(again.phone_code_hash, hash);
    assert!(matches!(again.r#type, enums::auth::SentCodeType::Sms(_)));
    assert!(again.next_type.is_some());
    let second = f.sender.last_code(phone).unwrap();
    // The old code is gone (unless the draw repeated it).
    if first != second {
        assert_eq!(
            f.sign_in(1, 2, phone, &hash, &first).unwrap_err(),
            err(400, "PHONE_CODE_INVALID")
        );
    }
    let cancel = |hash: &str| {
        f.invoke(
            1,
            2,
            &functions::auth::CancelCode {
                phone_number: phone.into(),
                phone_code_hash: hash.into(),
            },
        )
    };
    assert_eq!(cancel("nope").unwrap_err(), err(400, "PHONE_CODE_EXPIRED"));
    assert!(cancel(&hash).unwrap());
    assert_eq!(
        f.sign_in(1, 2, phone, &hash, &second).unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
    assert_eq!(resend(&hash).unwrap_err(), err(400, "PHONE_CODE_EXPIRED"));
}

#[test]
fn send_code_floods_per_phone_and_per_key() {
    let mut f = Fixture::new();
    let two = RateLimit {
        limit: 2,
        window: 100,
    };
    f.login.codes_per_phone = two;
    f.login.codes_per_test_phone = two;
    f.login.codes_per_key = RateLimit {
        limit: 3,
        window: 1000,
    };
    f.send_code(1, 2, A).unwrap();
    f.send_code(1, 2, A).unwrap();
    f.now.set(T0 + 40);
    assert_eq!(
        f.send_code(1, 2, A).unwrap_err(),
        err(420, "FLOOD_TEST_PHONE_WAIT_60")
    );
    f.send_code(2, 2, "15551234567").unwrap();
    f.send_code(2, 2, "15551234567").unwrap();
    assert_eq!(
        f.send_code(2, 2, "15551234567").unwrap_err(),
        err(420, "FLOOD_WAIT_100")
    );
    // Per key: key 1 has sent 2 (the refused one does not count), key 1 may send one more.
    f.send_code(1, 2, "9996621111").unwrap();
    assert_eq!(
        f.send_code(1, 2, "9996621112").unwrap_err(),
        err(420, "FLOOD_WAIT_960")
    );
    // The phone window has passed.
    f.now.set(T0 + 100);
    f.send_code(3, 2, A).unwrap();
}

#[test]
fn authorizations_are_listed_and_ended_from_another_session() {
    let mut f = Fixture::new();
    let id = f.register(1, A);
    assert_eq!(f.log_in(2, A), id);
    assert_eq!(f.log_in(3, A), id);
    fn list(f: &Fixture, key: i64) -> Vec<types::Authorization> {
        let enums::account::Authorizations::Authorizations(list) = f
            .invoke(key, 2, &functions::account::GetAuthorizations {})
            .unwrap();
        list.authorizations
            .into_iter()
            .map(|enums::Authorization::Authorization(a)| a)
            .collect()
    }
    fn reset(f: &Fixture, key: i64, hash: i64) -> Result<bool, RpcError> {
        f.invoke(key, 2, &functions::account::ResetAuthorization { hash })
    }
    let seen = list(&f, 1);
    assert_eq!(seen.len(), 3);
    let current: Vec<_> = seen.iter().filter(|a| a.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].hash, 0);
    assert_eq!(current[0].ip, "127.0.0.9");
    assert_eq!(reset(&f, 1, 0).unwrap_err(), err(400, "HASH_INVALID"));
    assert_eq!(reset(&f, 1, 12345).unwrap_err(), err(400, "HASH_INVALID"));
    let victim = seen.iter().find(|a| !a.current).unwrap().hash;
    assert!(reset(&f, 1, victim).unwrap());
    assert_eq!(reset(&f, 1, victim).unwrap_err(), err(400, "HASH_INVALID"));
    assert_eq!(list(&f, 1).len(), 2);
    // The ended key is told so; its owner can log in again.
    let ended = [2, 3]
        .into_iter()
        .find(|k| f.invoke(*k, 2, &functions::updates::GetState {}).is_err())
        .unwrap();
    assert_eq!(
        f.invoke(ended, 2, &functions::users::GetUsers { id: vec![] })
            .unwrap_err(),
        err(401, "SESSION_REVOKED")
    );
    // help.getConfig still works for it (AC-1).
    assert!(f.invoke(ended, 2, &functions::help::GetConfig {}).is_ok());
    // resetAuthorizations ends every other session.
    assert!(f
        .invoke(1, 2, &functions::auth::ResetAuthorizations {})
        .unwrap());
    assert_eq!(list(&f, 1).len(), 1);
    // A fresh session may not end others.
    f.login.fresh_reset_secs = 3600;
    f.log_in(4, A);
    assert_eq!(
        f.invoke(1, 2, &functions::auth::ResetAuthorizations {})
            .unwrap_err(),
        err(406, "FRESH_RESET_AUTHORISATION_FORBIDDEN")
    );
    let other = list(&f, 1).into_iter().find(|a| !a.current).unwrap().hash;
    assert_eq!(
        reset(&f, 1, other).unwrap_err(),
        err(406, "FRESH_RESET_AUTHORISATION_FORBIDDEN")
    );
    f.now.set(T0 + 3600);
    assert!(reset(&f, 1, other).unwrap());
    f.log_in(ended, A);
    assert!(f.invoke(ended, 2, &functions::updates::GetState {}).is_ok());
}

#[test]
fn a_user_logged_in_elsewhere_gets_the_code_in_the_app() {
    let f = Fixture::new();
    f.register(1, A);
    let sent = f.invoke(2, 2, &send_code(A)).unwrap();
    let enums::auth::SentCode::SentCode(sent) = sent else {
        panic!()
    };
    assert!(matches!(sent.r#type, enums::auth::SentCodeType::App(_)));
    assert!(matches!(
        sent.next_type,
        Some(enums::auth::CodeType::Sms(_))
    ));
    // The code goes to key 1's connections as a service notification.
    let pushes = f.pushes.take();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].keys, vec![1]);
    let enums::Updates::UpdateShort(short) = enums::Updates::from_bytes(&pushes[0].body).unwrap()
    else {
        panic!()
    };
    let enums::Update::ServiceNotification(n) = short.update else {
        panic!()
    };
    assert!(n.message.contains("22222"));
    // Key 1 never said its layer: no updateNewAuthorization for it; with layer 229, one.
    f.sign_in(2, 2, A, &sent.phone_code_hash, "22222").unwrap();
    assert!(f.pushes.take().is_empty());
    f.set_client(
        1,
        ClientInfo {
            layer: 229,
            ..ClientInfo::default()
        },
    );
    f.log_in(3, A);
    let pushes = f.pushes.take();
    assert_eq!(
        pushes.len(),
        2,
        "the code to keys 1 and 2, the login to key 1"
    );
    assert_eq!(pushes[1].keys, vec![1]);
}

#[test]
fn get_users_answers_the_caller_once_however_often_it_is_named() {
    let f = Fixture::new();
    f.register(1, A);
    let got = f
        .invoke(
            1,
            2,
            &functions::users::GetUsers {
                id: vec![types::InputUserSelf {}.into(); 10_000],
            },
        )
        .unwrap();
    assert_eq!(got.len(), 1);
}

#[test]
fn users_outside_the_caller_are_not_shown() {
    let f = Fixture::new();
    let id = f.register(1, A);
    f.register(2, "9996625555");
    let other = Accounts::new(&f.store)
        .user_by_phone("9996625555")
        .unwrap()
        .unwrap();
    let got = f
        .invoke(
            1,
            2,
            &functions::users::GetUsers {
                id: vec![
                    types::InputUser {
                        user_id: other.id,
                        access_hash: other.access_hash,
                    }
                    .into(),
                    types::InputUserSelf {}.into(),
                ],
            },
        )
        .unwrap();
    assert_eq!(got.len(), 1);
    let enums::User::User(me) = &got[0] else {
        panic!()
    };
    assert_eq!(me.id, id);
    assert_eq!(me.phone.as_deref(), Some(A));
    assert_eq!(
        f.invoke(
            1,
            2,
            &functions::users::GetFullUser {
                id: types::InputUser {
                    user_id: other.id,
                    access_hash: other.access_hash,
                }
                .into(),
            }
        )
        .unwrap_err(),
        err(400, "USER_ID_INVALID")
    );
}

#[test]
fn temporary_keys_get_config_and_nothing_else() {
    let f = Fixture::new();
    assert!(f.invoke(1000, 2, &functions::help::GetConfig {}).is_ok());
    assert!(f.invoke(1000, 2, &functions::help::GetNearestDc {}).is_ok());
    assert_eq!(
        f.send_code(1000, 2, A).unwrap_err(),
        err(401, "AUTH_KEY_PERM_EMPTY")
    );
    assert_eq!(
        f.invoke(1000, 2, &functions::updates::GetState {})
            .unwrap_err(),
        err(401, "AUTH_KEY_PERM_EMPTY")
    );
    assert!(f.store.scan(b"", 10).unwrap().is_empty(), "nothing stored");
}

#[test]
fn requests_refresh_the_last_active_time_at_most_hourly() {
    let f = Fixture::new();
    f.register(1, A);
    let active = || {
        Accounts::new(&f.store)
            .authorization(1)
            .unwrap()
            .unwrap()
            .value
            .active
    };
    assert_eq!(active(), i64::from(T0));
    f.now.set(T0 + 1800);
    f.invoke(1, 2, &functions::updates::GetState {}).unwrap();
    assert_eq!(active(), i64::from(T0), "not yet");
    f.now.set(T0 + 3600);
    f.invoke(1, 2, &functions::updates::GetState {}).unwrap();
    assert_eq!(active(), i64::from(T0 + 3600));
}

/// Every record in the store, to show that a refusal wrote nothing.
fn snapshot(f: &Fixture) -> crate::store::Scanned {
    f.store.scan(b"", usize::MAX).unwrap()
}

fn resend(f: &Fixture, key: i64, phone: &str, hash: &str) -> Result<(), RpcError> {
    f.invoke(
        key,
        2,
        &functions::auth::ResendCode {
            phone_number: phone.into(),
            phone_code_hash: hash.into(),
            reason: None,
        },
    )
    .map(|_| ())
}

/// AB-2 with the default settings: 5 codes an hour and 10 a day per number, whichever keys
/// ask; the refusals write nothing.
#[test]
fn codes_per_number_are_5_an_hour_and_10_a_day() {
    let f = Fixture::new();
    let phone = "15551230001";
    for key in 1..=5 {
        f.send_code(key, 2, phone).unwrap();
    }
    f.now.set(T0 + 600);
    let before = snapshot(&f);
    assert_eq!(
        f.send_code(99, 2, phone).unwrap_err(),
        err(420, "FLOOD_WAIT_3000")
    );
    assert_eq!(snapshot(&f), before);
    // The next hour: five more make ten today, and the day's cap comes first.
    f.now.set(T0 + 3600);
    for key in 11..=15 {
        f.send_code(key, 2, phone).unwrap();
    }
    f.now.set(T0 + 2 * 3600);
    let before = snapshot(&f);
    assert_eq!(
        f.send_code(98, 2, phone).unwrap_err(),
        err(400, "PHONE_NUMBER_FLOOD")
    );
    assert_eq!(snapshot(&f), before);
    // resendCode counts the same.
    let other = "15551230002";
    let hash = f.send_code(1, 2, other).unwrap();
    for _ in 0..4 {
        resend(&f, 1, other, &hash).unwrap();
    }
    assert_eq!(
        resend(&f, 1, other, &hash).unwrap_err(),
        err(420, "FLOOD_WAIT_3600")
    );
    // A day after the first: allowed again.
    f.now.set(T0 + 86_400);
    f.send_code(97, 2, phone).unwrap();
}

/// AB-1/AB-2: 5 wrong codes a day per number, over all its codes and keys; a resend keeps the
/// wrong tries; then PHONE_PASSWORD_FLOOD for signIn (even with the right code) and sendCode,
/// with nothing written, until the day is over.
#[test]
fn five_failed_sign_ins_a_day_per_number_then_phone_password_flood() {
    let f = Fixture::new();
    let phone = "15551230003";
    let hash = f.send_code(1, 2, phone).unwrap();
    let wrong = |key: i64, hash: &str| {
        let right = f.sender.last_code(phone).unwrap();
        let guess = if right == "00000" { "00001" } else { "00000" };
        f.sign_in(key, 2, phone, hash, guess)
    };
    for _ in 0..3 {
        assert_eq!(wrong(1, &hash).unwrap_err(), err(400, "PHONE_CODE_INVALID"));
    }
    resend(&f, 1, phone, &hash).unwrap();
    let code = Accounts::new(&f.store).code(&hash).unwrap().unwrap().value;
    assert_eq!(code.wrong, 3, "a resend does not reset the wrong tries");
    // Another key, another code: still the same number's budget.
    let other = f.send_code(2, 2, phone).unwrap();
    for _ in 0..2 {
        assert_eq!(
            wrong(2, &other).unwrap_err(),
            err(400, "PHONE_CODE_INVALID")
        );
    }
    let right = f.sender.last_code(phone).unwrap();
    let before = snapshot(&f);
    assert_eq!(
        f.sign_in(2, 2, phone, &other, &right).unwrap_err(),
        err(406, "PHONE_PASSWORD_FLOOD")
    );
    assert_eq!(
        f.send_code(3, 2, phone).unwrap_err(),
        err(406, "PHONE_PASSWORD_FLOOD")
    );
    assert_eq!(snapshot(&f), before, "the refusals wrote nothing");
    // Other numbers are not affected; a day later this one may try again.
    f.send_code(3, 2, "15551230004").unwrap();
    f.now.set(T0 + 86_400);
    let hash = f.send_code(3, 2, phone).unwrap();
    let right = f.sender.last_code(phone).unwrap();
    assert!(matches!(
        f.sign_in(3, 2, phone, &hash, &right).unwrap(),
        enums::auth::Authorization::SignUpRequired(_)
    ));
}

/// Per client address: codes an hour and wrong codes a day, across numbers (FLOOD_WAIT_X).
#[test]
fn an_address_has_its_own_budget_across_numbers() {
    let mut f = Fixture::new();
    f.login.failed_sign_ins_per_address = RateLimit {
        limit: 2,
        window: 86_400,
    };
    f.login.codes_per_address = RateLimit {
        limit: 3,
        window: 3600,
    };
    let numbers = ["15551230010", "15551230011", "15551230012"];
    let hashes: Vec<String> = numbers
        .iter()
        .map(|p| f.send_code(1, 2, p).unwrap())
        .collect();
    assert_eq!(
        f.send_code(1, 2, "15551230013").unwrap_err(),
        err(420, "FLOOD_WAIT_3600")
    );
    for i in 0..2 {
        assert_eq!(
            f.sign_in(1, 2, numbers[i], &hashes[i], "0000").unwrap_err(),
            err(400, "PHONE_CODE_INVALID")
        );
    }
    let before = snapshot(&f);
    assert_eq!(
        f.sign_in(1, 2, numbers[2], &hashes[2], "0000").unwrap_err(),
        err(420, "FLOOD_WAIT_86400")
    );
    assert_eq!(snapshot(&f), before);
    // From another address the third number's code still works; an IPv6 /64 is one address.
    *f.peer.borrow_mut() = "2001:db8::1".into();
    let right = f.sender.last_code(numbers[2]).unwrap();
    assert!(f.sign_in(1, 2, numbers[2], &hashes[2], &right).is_ok());
    f.send_code(1, 2, "15551230014").unwrap();
    f.send_code(1, 2, "15551230015").unwrap();
    f.send_code(1, 2, "15551230016").unwrap();
    *f.peer.borrow_mut() = "2001:db8::ffff:2".into();
    assert_eq!(
        f.send_code(1, 2, "15551230017").unwrap_err(),
        err(420, "FLOOD_WAIT_3600")
    );
}

/// Test numbers have fixed, published codes (LG-2): outside the budget. Wrong codes still kill
/// a hash after 5, but never flood the number; sends are limited only per test number.
#[test]
fn test_numbers_are_outside_the_guessing_budget() {
    let f = Fixture::new();
    for round in 0..3 {
        let hash = f.send_code(1, 2, A).unwrap();
        for _ in 0..5 {
            assert_eq!(
                f.sign_in(1, 2, A, &hash, "11111").unwrap_err(),
                err(400, "PHONE_CODE_INVALID"),
                "round {round}"
            );
        }
    }
    for _ in 3..super::login::DEFAULT_CODES_PER_TEST_PHONE {
        f.send_code(1, 2, A).unwrap();
    }
    let hash = f.send_code(2, 2, "9996621235").unwrap();
    assert!(f.sign_in(2, 2, "9996621235", &hash, "22222").is_ok());
    assert!(matches!(
        f.send_code(1, 2, A).unwrap_err().message.as_str(),
        m if m.starts_with("FLOOD_TEST_PHONE_WAIT_")
    ));
}

/// `--dev-login-limits`: the looser values of earlier versions.
#[test]
fn the_development_limits_are_the_old_loose_ones() {
    let mut f = Fixture::new();
    f.login = super::LoginConfig {
        fresh_reset_secs: 0,
        ..super::LoginConfig::development(f.sender.clone())
    };
    let phone = "15551230020";
    let mut hash = String::new();
    for _ in 0..super::login::DEVELOPMENT_CODES_PER_PHONE {
        hash = f.send_code(1, 2, phone).unwrap();
    }
    assert_eq!(
        f.send_code(1, 2, phone).unwrap_err(),
        err(420, "FLOOD_WAIT_3600")
    );
    for _ in 0..5 {
        assert_eq!(
            f.sign_in(1, 2, phone, &hash, "0000").unwrap_err(),
            err(400, "PHONE_CODE_INVALID")
        );
    }
    f.now.set(T0 + 3600);
    let hash = f.send_code(2, 2, phone).unwrap();
    let right = f.sender.last_code(phone).unwrap();
    assert!(f.sign_in(2, 2, phone, &hash, &right).is_ok());
}

#[test]
fn sign_ups_are_limited_per_address_and_over_the_server() {
    let mut f = Fixture::new();
    let per_hour = |limit| RateLimit {
        limit,
        window: 3600,
    };
    f.login.signups_per_address = per_hour(2);
    f.login.signups_global = per_hour(3);
    let sign_up = |f: &Fixture, key: i64, phone: &str| {
        let hash = f.send_code(key, 2, phone).unwrap();
        let code = f.sender.last_code(phone).unwrap();
        assert!(matches!(
            f.sign_in(key, 2, phone, &hash, &code).unwrap(),
            enums::auth::Authorization::SignUpRequired(_)
        ));
        f.sign_up(key, 2, phone, &hash, "Flood", "")
    };
    sign_up(&f, 1, "4915112340001").unwrap();
    sign_up(&f, 2, "4915112340002").unwrap();
    f.now.set(T0 + 600);
    let refused = sign_up(&f, 3, "4915112340003").unwrap_err();
    assert_eq!(
        (refused.code, refused.message.as_str()),
        (420, "FLOOD_WAIT_3000"),
        "the seconds left in the address's hour"
    );
    assert!(Accounts::new(&f.store)
        .user_by_phone("4915112340003")
        .unwrap()
        .is_none());
    // Test numbers are outside both limits.
    f.register(4, "9996621234");
    // From other addresses the server's own limit is next.
    *f.peer.borrow_mut() = "203.0.113.5".into();
    sign_up(&f, 5, "4915112340004").unwrap();
    *f.peer.borrow_mut() = "203.0.113.6".into();
    let refused = sign_up(&f, 6, "4915112340005").unwrap_err();
    assert_eq!(refused.message, "FLOOD_WAIT_3000");
}

#[test]
fn codes_are_limited_over_the_server() {
    let mut f = Fixture::new();
    f.login.codes_global = RateLimit {
        limit: 3,
        window: 3600,
    };
    for (n, peer) in ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        .iter()
        .enumerate()
    {
        *f.peer.borrow_mut() = peer.to_string();
        f.send_code(n as i64 + 1, 2, &format!("491511234000{n}"))
            .unwrap();
    }
    *f.peer.borrow_mut() = "203.0.113.4".into();
    let refused = f.send_code(9, 2, "4915112340009").unwrap_err();
    assert_eq!(
        (refused.code, refused.message.as_str()),
        (420, "FLOOD_WAIT_3600")
    );
    f.send_code(10, 2, "9996621234")
        .expect("test numbers are outside it");
}

/// Issue 14: a logged-in key cannot sign up a second account; it stays logged in as it was,
/// and the other number can still sign up from a key of its own.
#[test]
fn a_logged_in_key_cannot_sign_up_another_account() {
    let f = Fixture::new();
    let first = f.register(1, A);
    let other = "9996625678";
    let hash = f.send_code(1, 2, other).unwrap();
    assert!(matches!(
        f.sign_in(1, 2, other, &hash, "22222").unwrap(),
        enums::auth::Authorization::SignUpRequired(_)
    ));
    assert_eq!(
        f.sign_up(1, 2, other, &hash, "Second", "").unwrap_err(),
        err(400, "PHONE_NUMBER_APP_SIGNUP_FORBIDDEN")
    );
    let acc = Accounts::new(&f.store);
    assert!(acc.user_by_phone(other).unwrap().is_none());
    assert_eq!(acc.authorization(1).unwrap().unwrap().value.user_id, first);
    assert_ne!(f.register(2, other), first);
}
