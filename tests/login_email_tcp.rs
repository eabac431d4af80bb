//! The login email over TCP with the client library: a new account on a server that requires
//! one sets it up (sentCodeTypeSetUpEmailRequired → sendVerifyEmailCode → verifyEmail), signs
//! in with the code that address got, gets its next codes there, changes the address, and
//! falls back to SMS with auth.resetLoginEmail.

mod common;

use std::sync::Arc;

use common::{rpc_error, TestServer};
use mtproto_auth::client::login::SignedIn;
use mtproto_auth::client::Client;
use mtproto_auth::rpc::login::MemorySender;
use mtproto_auth::transport::Framing;

#[test]
fn a_new_account_sets_up_a_login_email_and_its_codes_go_there() {
    let sender = Arc::new(MemorySender::default());
    let held = sender.clone();
    let server = TestServer::start_with(3, move |c| {
        let mut login = mtproto_auth::rpc::LoginConfig::new(held);
        login.require_login_email = true;
        c.login = Some(login);
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let phone = "9996627878";
        let email = "setup@example.com";
        let mut first = server.client(2, Framing::Intermediate).await;
        let sent = first.send_code(phone).await.unwrap();
        assert!(sent.email_setup_required);
        let hash = sent.phone_code_hash;
        let e = first
            .send_verify_email_code(Client::login_setup(phone, &hash), "nope")
            .await
            .unwrap_err();
        assert_eq!(rpc_error(e), (400, "EMAIL_INVALID".into()));
        let length = first
            .send_verify_email_code(Client::login_setup(phone, &hash), email)
            .await
            .unwrap();
        assert_eq!(length, 6);
        let code = sender.last_email_code(email).unwrap();
        let (verified, next) = first
            .verify_email(Client::login_setup(phone, &hash), &code)
            .await
            .unwrap();
        assert_eq!(verified, email);
        let next = next.unwrap();
        assert_eq!(next.email_pattern.as_deref(), Some("s****@example.com"));
        let login_code = sender.last_email_code(email).unwrap();
        assert_eq!(login_code, "22222");
        assert_eq!(
            first
                .sign_in_by_email(phone, &hash, &login_code)
                .await
                .unwrap(),
            SignedIn::SignUpRequired
        );
        let me = first.sign_up(phone, &hash, "Mail", "First").await.unwrap();

        // The next login's code goes to the address; the email code signs in.
        let mut second = server.client(2, Framing::Abridged).await;
        let sent = second.send_code(phone).await.unwrap();
        assert_eq!(sent.email_pattern.as_deref(), Some("s****@example.com"));
        let SignedIn::User(u) = second
            .sign_in_by_email(phone, &sent.phone_code_hash, "22222")
            .await
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(u.id, me.id);

        // Changed from a logged-in session.
        let changed = "changed@example.com";
        second
            .send_verify_email_code(Client::login_change(), changed)
            .await
            .unwrap();
        let code = sender.last_email_code(changed).unwrap();
        assert_eq!(
            second
                .verify_email(Client::login_change(), &code)
                .await
                .unwrap(),
            (changed.to_string(), None)
        );
        assert_eq!(
            second
                .get_password()
                .await
                .unwrap()
                .login_email_pattern
                .as_deref(),
            Some("c******@example.com")
        );

        // No access to the address: the code goes by SMS instead, and the address is dropped.
        let mut third = server.client(2, Framing::Intermediate).await;
        let sent = third.send_code(phone).await.unwrap();
        assert_eq!(sent.email_pattern.as_deref(), Some("c******@example.com"));
        let by_sms = third
            .reset_login_email(phone, &sent.phone_code_hash)
            .await
            .unwrap();
        assert!(by_sms.email_pattern.is_none() && !by_sms.in_app);
        assert_eq!(sender.last_code(phone).as_deref(), Some("22222"));
        assert!(matches!(
            third
                .sign_in(phone, &sent.phone_code_hash, "22222")
                .await
                .unwrap(),
            SignedIn::User(_)
        ));
        let mut fourth = server.client(2, Framing::Intermediate).await;
        assert!(fourth
            .send_code(phone)
            .await
            .unwrap()
            .email_pattern
            .is_none());
    });
}
