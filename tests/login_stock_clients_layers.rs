//! Stock clients of older layers log in (AC-3): pyrogram 2.0.106 (layer 158), hydrogram 0.2.0
//! (181), pyrofork 2.3.69 (220) and GramJS 2.26.22 (198) each create a key, sign a new test
//! number up, read it back with get_me, log out and log back in on a new key. Each decodes
//! every answer with its own layer's types, and its script stops at the first packet it
//! cannot read, so a constructor of the wrong layer fails the test at once.

mod common;

use common::{json_field, python_of, run_script, TestServer};

/// A string field's value without its quotes.
fn text<'a>(line: &'a str, key: &str) -> &'a str {
    json_field(line, key)
        .map(|v| v.trim_matches('"'))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

/// `DC=HOST:PORT` for every DC of the server.
fn routes(server: &TestServer) -> Vec<String> {
    server
        .addrs
        .iter()
        .map(|(id, a)| format!("{id}={}:{}", a.ip(), a.port()))
        .collect()
}

/// One of the Pyrogram forks, from its own venv, through the whole walk with `phone`.
fn pyrogram_fork(fork: &str, layer: &str, phone: &str) {
    let server = TestServer::start(3);
    let mut args = vec![
        server.public_key_pem().display().to_string(),
        phone.to_string(),
    ];
    args.extend(routes(&server));
    let out = run_script(python_of(fork), "pyrogram_family_login.py", &args);
    let line = out.lines().last().unwrap_or_default();
    assert_eq!(json_field(line, "layer"), Some(layer), "{out}");
    assert_eq!(text(line, "sign_in"), "signup required", "{out}");
    assert_eq!(text(line, "first_name"), "Pyro", "{out}");
    let id = text(line, "user_id");
    assert_eq!(text(line, "get_me"), id, "{out}");
    assert_eq!(text(line, "get_me_phone"), phone, "{out}");
    assert_eq!(text(line, "state"), "State", "{out}");
    assert_eq!(text(line, "logged_out"), "true", "{out}");
    assert_eq!(text(line, "relogin_user_id"), id, "{out}");
    assert_eq!(text(line, "relogin_get_me"), id, "{out}");
    assert_eq!(text(line, "warnings"), "0", "{out}");
    let user = mtproto_auth::store::accounts::Accounts::new(&*server.state.store)
        .user_by_phone(phone)
        .unwrap()
        .expect("signed up");
    assert_eq!(user.id.to_string(), id);
}

#[test]
fn pyrogram_2_0_106_of_layer_158_signs_up_and_logs_in() {
    // Its auth.signUp#80eee427 is layer 158's form, read into the current one.
    pyrogram_fork("pyrogram", "158", "9996624158");
}

#[test]
fn hydrogram_0_2_0_of_layer_181_signs_up_and_logs_in() {
    pyrogram_fork("hydrogram", "181", "9996624181");
}

#[test]
fn pyrofork_2_3_69_of_layer_220_signs_up_and_logs_in() {
    // pyrofork has no sign_up: the script sends a raw auth.SignUp.
    pyrogram_fork("pyrofork", "220", "9996624220");
}
