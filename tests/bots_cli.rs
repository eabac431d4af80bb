//! Bots as an operator and a developer meet them: `bots create` through a running server's
//! admin socket prints a token, `bots list` shows the bot, `login --bot TOKEN` started on
//! another DC follows USER_MIGRATE to the bot's DC and logs it in, the client library's
//! import_bot_authorization does too, and `bots revoke` ends that session and the token; a web
//! token from `web-token --user ID` logs a new key in once; `users create` makes a user with a
//! password that a code login then asks for.

mod common;

use std::process::Command;

use common::{rpc_error, TestServer};
use mtproto_auth::transport::Framing;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mtproto-auth"))
}

fn run(args: &[&str], server: &TestServer) -> (bool, String) {
    common::operator(
        env!("CARGO_BIN_EXE_mtproto-auth").as_ref(),
        &server.data_dir,
        args,
    )
}

#[test]
fn a_bot_is_created_logged_in_listed_and_revoked() {
    let server = TestServer::start(3);
    let (ok, created) = run(
        &[
            "bots",
            "create",
            "--name",
            "Echo Bot",
            "--username",
            "echo_bot",
        ],
        &server,
    );
    assert!(ok, "{created}");
    assert!(
        created.contains("created bot ") && created.contains("@echo_bot (Echo Bot) on DC 2"),
        "{created}"
    );
    let token = created
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap()
        .to_string();
    let bot_id = token.split_once(':').unwrap().0.to_string();
    let (ok, taken) = run(
        &[
            "bots",
            "create",
            "--name",
            "Again",
            "--username",
            "Echo_Bot",
        ],
        &server,
    );
    assert!(
        !ok && taken.contains("username @Echo_Bot is taken"),
        "{taken}"
    );
    let (ok, bad) = run(
        &["bots", "create", "--name", "X", "--username", "echo"],
        &server,
    );
    assert!(!ok && bad.contains("ending in \"bot\""), "{bad}");

    let dc3 = server.addr(3).to_string();
    let out = bin()
        .args([
            "login",
            "--bot",
            &token,
            "--dc",
            "3",
            "--addr",
            &dc3,
            "--data-dir",
        ])
        .arg(&server.data_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("The bot lives on DC 2"), "{stdout}");
    assert!(
        stdout.contains(&format!("Logged in as Echo Bot (user id {bot_id}")),
        "{stdout}"
    );

    let (ok, list) = run(&["bots", "list"], &server);
    assert!(ok, "{list}");
    let row = list.lines().find(|l| l.starts_with(&bot_id)).unwrap();
    assert!(
        row.contains("@echo_bot") && row.contains("active"),
        "{list}"
    );
    assert!(row.trim_end().ends_with('1'), "one session: {list}");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut client = rt.block_on(server.client(2, Framing::Intermediate));
    let me = rt
        .block_on(client.import_bot_authorization(&token))
        .unwrap();
    assert_eq!(me.id.to_string(), bot_id);
    assert!(me.bot && me.username.as_deref() == Some("echo_bot"));

    let (ok, revoked) = run(&["bots", "revoke", &bot_id], &server);
    assert!(ok && revoked.contains("2 session(s) ended"), "{revoked}");
    let e = rt.block_on(client.get_me()).unwrap_err();
    assert_eq!(rpc_error(e), (401, "SESSION_REVOKED".into()));
    let mut other = rt.block_on(server.client(2, Framing::Intermediate));
    let e = rt
        .block_on(other.import_bot_authorization(&token))
        .unwrap_err();
    assert_eq!(rpc_error(e), (400, "ACCESS_TOKEN_EXPIRED".into()));
    let (_, list) = run(&["bots", "list"], &server);
    assert!(list.contains("revoked"), "{list}");
}

#[test]
fn a_web_token_hands_a_session_to_another_app_once() {
    let server = TestServer::start(3);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let phone = "9996629393";
    let user = rt.block_on(async {
        let mut c = server.client(2, Framing::Intermediate).await;
        let sent = c.send_code(phone).await.unwrap();
        c.sign_in(phone, &sent.phone_code_hash, "22222")
            .await
            .unwrap();
        c.sign_up(phone, &sent.phone_code_hash, "Web", "User")
            .await
            .unwrap()
            .id
    });
    let (ok, out) = run(&["web-token", "--user", &user.to_string()], &server);
    assert!(
        ok && out.contains(&format!("web token for user {user}, good once until ")),
        "{out}"
    );
    let token = out.lines().nth(1).unwrap().trim().to_string();
    assert_eq!(token.len(), 43, "{out}");
    let (ok, none) = run(&["web-token", "--user", "12345"], &server);
    assert!(!ok && none.contains("no user with id 12345"), "{none}");
    rt.block_on(async {
        let mut app = server.client(2, Framing::Abridged).await;
        assert_eq!(app.import_web_token(&token).await.unwrap().id, user);
        assert_eq!(app.get_me().await.unwrap().id, user);
        let mut again = server.client(2, Framing::Intermediate).await;
        let e = again.import_web_token(&token).await.unwrap_err();
        assert_eq!(rpc_error(e), (400, "AUTH_TOKEN_INVALID".into()));
    });
}

#[test]
fn an_operator_creates_a_user_with_a_password() {
    let server = TestServer::start(3);
    let (ok, out) = run(
        &[
            "users",
            "create",
            "--phone",
            "+999 662 4242",
            "--first",
            "Ada Mary",
            "--last",
            "Love Lace",
            "--password",
            "pass word",
        ],
        &server,
    );
    assert!(
        ok && out.contains("(+9996624242, Ada Mary Love Lace) on DC 2, with a password"),
        "{out}"
    );
    let (ok, again) = run(
        &["users", "create", "--phone", "9996624242", "--first", "X"],
        &server,
    );
    assert!(!ok && again.contains("has an account already"), "{again}");
    let (ok, list) = run(&["users", "list"], &server);
    assert!(
        ok && list.contains("9996624242") && list.contains("Ada Mary Love Lace"),
        "{list}"
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut c = server.client(2, Framing::Intermediate).await;
            let sent = c.send_code("9996624242").await.unwrap();
            let e = c
                .sign_in("9996624242", &sent.phone_code_hash, "22222")
                .await
                .unwrap_err();
            assert_eq!(rpc_error(e), (401, "SESSION_PASSWORD_NEEDED".into()));
            let me = c.check_password("pass word").await.unwrap();
            assert_eq!(me.last_name.as_deref(), Some("Love Lace"));
        });
}
