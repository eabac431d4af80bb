//! Stock clients log in (login issue §6): Telethon 1.45.0 over full, abridged, intermediate
//! and obfuscated transports signs up a new test number (raw auth.SignUpRequest), get_me()
//! returns it, logs out and logs back in; a Telethon client started on DC1 logs a DC3 number in
//! by following PHONE_MIGRATE_3; a Telethon login survives a server restart (the StringSession
//! is reused); Kurigram 2.2.26 signs up and logs in. Two-step verification with each one's own
//! helpers: Telethon's edit_2fa and sign_in(password=...), Kurigram's enable_cloud_password,
//! check_password, change_cloud_password and remove_cloud_password. Telethon logs back in with
//! the future auth token its logout got.

mod common;

use common::{json_field, run_python, TestServer};

fn telethon(server: &TestServer, dc: i32, transport: &str, phone: &str, mode: &str) -> String {
    telethon_with(server, dc, transport, phone, mode, &[])
}

fn telethon_with(
    server: &TestServer,
    dc: i32,
    transport: &str,
    phone: &str,
    mode: &str,
    extra: &[String],
) -> String {
    let addr = server.addr(dc);
    let mut args = vec![
        server.public_key_pem().display().to_string(),
        addr.ip().to_string(),
        addr.port().to_string(),
        dc.to_string(),
        transport.into(),
        phone.into(),
        mode.into(),
    ];
    args.extend_from_slice(extra);
    let out = run_python("telethon_login.py", &args);
    out.lines().last().unwrap_or_default().to_string()
}

/// Runs a Kurigram script (`PUBLIC_KEY_PEM PHONE DC=HOST:PORT...`); its output.
fn kurigram(server: &TestServer, script: &str, phone: &str) -> String {
    kurigram_with(server, script, phone, &[])
}

/// `kurigram` with `extra` arguments after the phone.
fn kurigram_with(server: &TestServer, script: &str, phone: &str, extra: &[String]) -> String {
    let mut args = vec![
        server.public_key_pem().display().to_string(),
        phone.to_string(),
    ];
    args.extend_from_slice(extra);
    args.extend(
        server
            .addrs
            .iter()
            .map(|(id, a)| format!("{id}={}:{}", a.ip(), a.port())),
    );
    run_python(script, &args)
}

/// A string field's value without its quotes.
fn text<'a>(line: &'a str, key: &str) -> &'a str {
    json_field(line, key)
        .map(|v| v.trim_matches('"'))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

#[test]
fn telethon_signs_up_logs_out_and_logs_back_in_on_every_transport() {
    let server = TestServer::start(3);
    for (i, transport) in ["full", "abridged", "intermediate", "obfuscated"]
        .into_iter()
        .enumerate()
    {
        let phone = format!("999662{:04}", 100 + i);
        let line = telethon(&server, 2, transport, &phone, "signup");
        assert_eq!(text(&line, "sign_in"), "unoccupied", "{line}");
        assert_eq!(text(&line, "sent_code_type"), "SentCodeTypeSms", "{line}");
        assert_eq!(text(&line, "phone"), phone, "{line}");
        assert_eq!(text(&line, "first_name"), "Tele", "{line}");
        assert_eq!(text(&line, "is_self"), "true", "{line}");
        assert_eq!(text(&line, "logged_out"), "true", "{line}");
        assert_eq!(text(&line, "authorized_after_logout"), "false", "{line}");
        let id = text(&line, "user_id");
        assert_eq!(text(&line, "relogin_user_id"), id, "{line}");
        assert_eq!(text(&line, "relogin_get_me"), id, "{line}");
    }
    // Four users, each with the one authorization of its re-login.
    let users = mtproto_auth::store::accounts::Accounts::new(&*server.state.store)
        .users(100)
        .unwrap();
    assert_eq!(users.len(), 4);
}

#[test]
fn telethon_follows_phone_migrate_to_the_numbers_dc() {
    let server = TestServer::start(3);
    let line = telethon(&server, 1, "intermediate", "9996631234", "migrate");
    assert_eq!(text(&line, "dc"), "3", "{line}");
    assert_eq!(text(&line, "phone"), "9996631234", "{line}");
    let user = mtproto_auth::store::accounts::Accounts::new(&*server.state.store)
        .user_by_phone("9996631234")
        .unwrap()
        .unwrap();
    assert_eq!(user.home_dc, 3);
    assert_eq!(text(&line, "user_id"), user.id.to_string());
    // Now registered: a fresh Telethon session on DC 1 logs it in (no sign-up) on DC 3.
    let line = telethon(&server, 1, "abridged", "9996631234", "migrate");
    assert_eq!(text(&line, "sign_in"), "signed in", "{line}");
    assert_eq!(text(&line, "dc"), "3", "{line}");
    assert_eq!(text(&line, "user_id"), user.id.to_string());
}

#[test]
fn a_telethon_login_survives_a_server_restart() {
    let mut server = TestServer::start(3);
    let line = telethon(&server, 2, "full", "9996622222", "signup");
    let session = text(&line, "session").to_string();
    let id = text(&line, "relogin_user_id").to_string();
    server.restart();
    let line = telethon_with(&server, 2, "full", "9996622222", "resume", &[session]);
    assert_eq!(text(&line, "authorized"), "true", "{line}");
    assert_eq!(text(&line, "user_id"), id, "{line}");
}

/// Two-step verification with Telethon's own helpers: edit_2fa turns a password on (with a
/// recovery email, confirmed by its email_code_callback from the server's emails.txt), a fresh
/// client's code login raises SessionPasswordNeededError, sign_in(password=...) refuses the
/// wrong password and takes the right one, edit_2fa(current_password=...) turns it off.
#[test]
fn telethon_turns_on_2fa_logs_in_with_it_and_turns_it_off() {
    let server = TestServer::start(3);
    let emails = server.data_dir.join("emails.txt").display().to_string();
    let line = telethon_with(&server, 2, "intermediate", "9996623434", "2fa", &[emails]);
    assert_eq!(text(&line, "set"), "true", "{line}");
    assert_eq!(text(&line, "email_code_length"), "6", "{line}");
    assert_eq!(text(&line, "has_recovery"), "true", "{line}");
    assert_eq!(
        text(&line, "code_login"),
        "SessionPasswordNeededError",
        "{line}"
    );
    assert_eq!(
        text(&line, "wrong_password"),
        "PasswordHashInvalidError",
        "{line}"
    );
    let id = text(&line, "user_id");
    assert_eq!(text(&line, "password_login_user_id"), id, "{line}");
    assert_eq!(text(&line, "removed"), "true", "{line}");
    assert_eq!(text(&line, "after_removal_user_id"), id, "{line}");
}

/// The login email with Telethon 1.45.0's raw requests: set from a logged-in client
/// (account.sendVerifyEmailCode + verifyEmail, the code from emails.txt), then a new client's
/// send_code_request decodes sentCodeTypeEmailCode with the address's pattern and auth.signIn
/// with email_verification logs it in; auth.resetLoginEmail sends an SMS code sign_in takes.
#[test]
fn telethon_signs_in_with_a_code_sent_to_the_login_email() {
    let server = TestServer::start(3);
    let emails = server.data_dir.join("emails.txt").display().to_string();
    let line = telethon_with(&server, 2, "intermediate", "9996623838", "email", &[emails]);
    assert_eq!(text(&line, "verify_code_length"), "6", "{line}");
    assert_eq!(text(&line, "verified"), "tele.login@example.com", "{line}");
    assert_eq!(
        text(&line, "email_code_type"),
        "SentCodeTypeEmailCode",
        "{line}"
    );
    assert_eq!(
        text(&line, "email_pattern"),
        "t*********@example.com",
        "{line}"
    );
    let id = text(&line, "user_id");
    assert_eq!(text(&line, "email_login_user_id"), id, "{line}");
    assert_eq!(text(&line, "email_get_me"), id, "{line}");
    assert_eq!(text(&line, "reset_code_type"), "SentCodeTypeSms", "{line}");
    assert_eq!(text(&line, "reset_login_user_id"), id, "{line}");
}

/// QR login with Telethon 1.45.0's own qr_login() and wait(), accepted by another Telethon
/// session with auth.AcceptLoginTokenRequest: on the user's DC, and from DC 1, where wait()
/// follows loginTokenMigrateTo to DC 2 and imports the token there.
#[test]
fn telethon_logs_in_by_qr_code_on_the_same_and_another_dc() {
    let server = TestServer::start(3);
    let dc1 = server.addr(1).to_string();
    let line = telethon_with(&server, 2, "intermediate", "9996623939", "qr", &[dc1]);
    let id = text(&line, "user_id");
    for name in ["qr", "qr_other_dc"] {
        assert_eq!(
            text(&line, &format!("{name}_url_prefix")),
            "tg://login?token",
            "{line}"
        );
        assert_eq!(
            text(&line, &format!("{name}_accepted_hash_nonzero")),
            "true",
            "{line}"
        );
        assert_eq!(text(&line, &format!("{name}_user_id")), id, "{line}");
        assert_eq!(text(&line, &format!("{name}_get_me")), id, "{line}");
        assert_eq!(text(&line, &format!("{name}_dc")), "2", "{line}");
    }
}

/// DC transfer with Telethon 1.45.0's own _borrow_exported_sender: exported on DC 2, imported
/// inside initConnection on DC 3, where users.getUsers answers the same user.
#[test]
fn telethon_borrows_a_sender_on_another_dc() {
    let server = TestServer::start(3);
    let line = telethon(&server, 2, "intermediate", "9996624040", "transfer");
    assert_eq!(text(&line, "borrowed_dc"), "3", "{line}");
    assert_eq!(
        text(&line, "borrowed_user_id"),
        text(&line, "user_id"),
        "{line}"
    );
    assert_eq!(text(&line, "export_here"), "DcIdInvalidError", "{line}");
}

/// A bot made as `bots create` makes it, on `dc`; its token.
fn bot(server: &TestServer, username: &str, dc: i32) -> (i64, String) {
    let bot = mtproto_auth::rpc::bots::create(
        &*server.state.store,
        &mut mtproto_auth::rand::OsRng,
        "Interop Bot",
        Some(username),
        dc,
        0,
    )
    .unwrap();
    (bot.user.id, bot.token)
}

/// Telethon 1.45.0's start(bot_token=...) from DC 1: USER_MIGRATE_2 followed, the bot logged in,
/// get_me the bot with its username.
#[test]
fn telethon_starts_a_bot_with_its_token() {
    let server = TestServer::start(3);
    let (id, token) = bot(&server, "tele_bot", 2);
    let line = telethon_with(&server, 1, "intermediate", "-", "bot", &[token]);
    assert_eq!(text(&line, "bot_id"), id.to_string(), "{line}");
    assert_eq!(text(&line, "is_bot"), "true", "{line}");
    assert_eq!(text(&line, "username"), "tele_bot", "{line}");
    assert_eq!(text(&line, "first_name"), "Interop Bot", "{line}");
    assert_eq!(text(&line, "dc"), "2", "{line}");
}

/// Kurigram 2.2.26's Client(bot_token=...).start() for a bot of DC 3 (its test-mode start is
/// DC 2): USER_MIGRATE_3 followed, get_me the bot; no warnings.
#[test]
fn kurigram_starts_a_bot_with_its_token() {
    let server = TestServer::start(3);
    let (id, token) = bot(&server, "kuri_bot", 3);
    let out = kurigram(&server, "kurigram_bot.py", &token);
    let line = out.lines().last().unwrap_or_default();
    assert_eq!(text(line, "bot_id"), id.to_string(), "{out}");
    assert_eq!(text(line, "is_bot"), "true", "{out}");
    assert_eq!(text(line, "username"), "kuri_bot", "{out}");
    assert_eq!(text(line, "dc"), "3", "{out}");
    assert_eq!(text(line, "warnings"), "0", "{out}");
}

/// LO-2 with Telethon's raw requests: auth.logOut hands out a future auth token, and a new
/// client's auth.sendCode naming it logs in without a code, once.
#[test]
fn telethon_logs_back_in_with_its_future_auth_token() {
    let server = TestServer::start(3);
    let line = telethon(&server, 2, "abridged", "9996623636", "token");
    assert_eq!(text(&line, "token_length"), "32", "{line}");
    assert_eq!(text(&line, "token_login"), "SentCodeSuccess", "{line}");
    assert_eq!(
        text(&line, "token_get_me"),
        text(&line, "user_id"),
        "{line}"
    );
    assert_eq!(text(&line, "token_again"), "SentCode", "{line}");
}

#[test]
fn kurigram_signs_up_and_logs_in() {
    let server = TestServer::start(3);
    let out = kurigram(&server, "kurigram_login.py", "9996623333");
    let line = out.lines().last().unwrap_or_default();
    assert_eq!(text(line, "sign_in"), "signup required", "{out}");
    assert_eq!(text(line, "first_name"), "Kuri", "{out}");
    let id = text(line, "user_id");
    assert_eq!(text(line, "get_me"), id, "{out}");
    assert_eq!(text(line, "logged_out"), "true", "{out}");
    assert_eq!(text(line, "relogin_user_id"), id, "{out}");
    assert_eq!(text(line, "relogin_get_me"), id, "{out}");
    assert_eq!(text(line, "warnings"), "0", "{out}");
}

/// Kurigram's own 2FA methods: enable_cloud_password, then on a fresh client the code login
/// raises SessionPasswordNeeded and check_password refuses the wrong password and takes the
/// right one; change_cloud_password and remove_cloud_password; no warnings.
#[test]
fn kurigram_enables_checks_changes_and_removes_a_cloud_password() {
    let server = TestServer::start(3);
    let out = kurigram(&server, "kurigram_2fa.py", "9996623535");
    let line = out.lines().last().unwrap_or_default();
    assert_eq!(text(line, "enabled"), "true", "{out}");
    assert_eq!(text(line, "code_login"), "SessionPasswordNeeded", "{out}");
    assert_eq!(text(line, "wrong_password"), "PasswordHashInvalid", "{out}");
    let id = text(line, "user_id");
    assert_eq!(text(line, "password_login_user_id"), id, "{out}");
    assert_eq!(text(line, "changed"), "true", "{out}");
    assert_eq!(text(line, "removed"), "true", "{out}");
    assert_eq!(text(line, "after_removal_user_id"), id, "{out}");
    assert_eq!(text(line, "warnings"), "0", "{out}");
}

/// Kurigram 2.2.26 recovers a forgotten password by email with its own send_recovery_code and
/// recover_password: the recovery email confirmed with the code from emails.txt
/// (enable_cloud_password raising EMAIL_UNCONFIRMED_6 first), a fresh client's code login
/// raising SessionPasswordNeeded, the masked address, a wrong code refused (CODE_INVALID), the
/// mailed one logging the client in with the password gone; no warnings.
#[test]
fn kurigram_recovers_a_forgotten_password_by_email() {
    let server = TestServer::start(3);
    let emails = server.data_dir.join("emails.txt").display().to_string();
    let out = kurigram_with(&server, "kurigram_recovery.py", "9996623737", &[emails]);
    let line = out.lines().last().unwrap_or_default();
    assert_eq!(text(line, "enabled"), "EMAIL_UNCONFIRMED_X", "{out}");
    assert_eq!(text(line, "email_code_length"), "6", "{out}");
    assert_eq!(text(line, "confirmed"), "true", "{out}");
    assert_eq!(text(line, "code_login"), "SessionPasswordNeeded", "{out}");
    assert_eq!(text(line, "pattern"), "k***@example.com", "{out}");
    assert_eq!(text(line, "wrong_code"), "CODE_INVALID", "{out}");
    let id = text(line, "user_id");
    assert_eq!(text(line, "recovered_user_id"), id, "{out}");
    assert_eq!(text(line, "get_me"), id, "{out}");
    assert_eq!(text(line, "has_password"), "false", "{out}");
    assert_eq!(text(line, "after_recovery_user_id"), id, "{out}");
    assert_eq!(text(line, "warnings"), "0", "{out}");
}
