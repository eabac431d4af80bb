//! Stock clients of older layers log in (AC-3): pyrogram 2.0.106 (layer 158), hydrogram 0.2.0
//! (181), GramJS 2.26.22 (198), pyrofork 2.3.69 (220) and mtcute 0.30.3 (227) each create a key, sign a new test
//! number up, read it back with get_me, log out and log back in on a new key. Each decodes
//! every answer with its own layer's types, and its script stops at the first packet it
//! cannot read, so a constructor of the wrong layer fails the test at once.

mod common;

use common::{json_field, python_of, run_program, run_script, TestServer};

/// A string field's value without its quotes.
fn text<'a>(line: &'a str, key: &str) -> &'a str {
    json_field(line, key)
        .map(|v| v.trim_matches('"'))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

/// Each `(field, value)` is what the script's JSON line says.
fn expect(line: &str, fields: &[(&str, &str)]) {
    for (key, value) in fields {
        assert_eq!(text(line, key), *value, "{key} in {line}");
    }
}

/// The user signed up is the one logged back in (`relogin_user_id`) and read back there
/// (`relogin_get_me`, when the script reports it).
fn expect_same_user(line: &str) {
    let id = text(line, "user_id");
    assert_eq!(text(line, "relogin_user_id"), id, "{line}");
    if json_field(line, "relogin_get_me").is_some() {
        assert_eq!(text(line, "relogin_get_me"), id, "{line}");
    }
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
    let id = text(line, "user_id");
    expect(
        line,
        &[
            ("layer", layer),
            ("sign_in", "signup required"),
            ("first_name", "Pyro"),
            ("get_me", id),
            ("get_me_phone", phone),
            ("state", "State"),
            ("logged_out", "true"),
            ("warnings", "0"),
        ],
    );
    expect_same_user(line);
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

/// GramJS on Node dials port 80 whatever the session says: the DCs listen on
/// 127.0.2.1-3:80 (root, or CAP_NET_BIND_SERVICE, is needed to bind them).
fn gramjs_server() -> TestServer {
    TestServer::start_with(3, |c| {
        c.dcs = (1..=3)
            .map(|id| (id, format!("127.0.2.{id}:80").parse().unwrap()))
            .collect();
    })
}

fn gramjs(server: &TestServer, dc: i32, phone: &str) -> String {
    let node = std::path::PathBuf::from("node");
    let args = vec![
        server.public_key_pem().display().to_string(),
        server.addr(dc).ip().to_string(),
        dc.to_string(),
        phone.to_string(),
    ];
    let out = run_script(node, "js/gramjs_login.js", &args);
    out.lines().last().unwrap_or_default().to_string()
}

#[test]
fn gramjs_2_26_22_of_layer_198_signs_up_logs_out_and_logs_back_in() {
    let server = gramjs_server();
    // A DC 2 number on DC 2, then a DC 3 number from DC 2: GramJS follows PHONE_MIGRATE_3 to
    // the address help.getConfig gives (on port 80).
    for (phone, home) in [("9996625198", "2"), ("9996635198", "3")] {
        let line = gramjs(&server, 2, phone);
        expect(
            &line,
            &[
                ("signed_up", "true"),
                ("dc", home),
                ("first_name", "Gram"),
                ("phone", phone),
                ("is_self", "true"),
                ("state", "updates.State"),
                ("logged_out", "auth.LoggedOut"),
                ("relogin_dc", home),
                ("authorized", "true"),
                ("warnings", "0"),
            ],
        );
        expect_same_user(&line);
    }
}

#[test]
fn mtcute_0_30_3_of_layer_227_signs_up_logs_out_and_logs_back_in() {
    // mtcute packs requests as zlib data in gzip_packed, sends acks with odd seqnos, and is
    // served layer 222 (the newest sampled layer not above 227).
    let server = TestServer::start(3);
    let phone = "9996627227";
    let addr = server.addr(2);
    let args = vec![
        server.public_key_pem().display().to_string(),
        "2".to_string(),
        format!("{}:{}", addr.ip(), addr.port()),
        phone.to_string(),
    ];
    let out = run_script("node".into(), "js/mtcute_login.mjs", &args);
    let line = out.lines().last().unwrap_or_default();
    expect(
        line,
        &[
            ("sent_code_type", "sms"),
            ("sign_in", "auth.authorizationSignUpRequired"),
            ("first_name", "Mt"),
            ("phone", phone),
            ("is_self", "true"),
            ("state", "updates.state"),
            ("logged_out", "true"),
            ("warnings", "0"),
        ],
    );
    expect_same_user(line);
}

/// grammers compiles Telegram's RSA keys in (`key_for_fingerprint` in grammers-mtproto's
/// `src/authentication.rs`) and has no way to add one at run time. So the test builds
/// `tests/interop/grammers` against a copy of the downloaded grammers-mtproto 0.11.0 with one
/// line added there for the test key (a Cargo `[patch]` given on the command line); no
/// grammers code is kept in this repository. Built once per test run, under `target/interop`.
fn grammers_binary(key: &mtproto_auth::crypto::rsa::RsaPublicKey) -> std::path::PathBuf {
    use std::process::Command;
    let root = common::root();
    let work = root.join("target/interop");
    let crate_dir = work.join("grammers-crate");
    let _ = std::fs::remove_dir_all(&crate_dir);
    std::fs::create_dir_all(crate_dir.join("src")).unwrap();
    for file in ["Cargo.toml", "Cargo.lock", "src/main.rs"] {
        std::fs::copy(
            root.join("tests/interop/grammers").join(file),
            crate_dir.join(file),
        )
        .unwrap();
    }
    let manifest = crate_dir.join("Cargo.toml");
    // Where cargo unpacked grammers-mtproto (it downloads it if needed).
    let meta = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .expect("cargo metadata runs");
    assert!(
        meta.status.success(),
        "{}",
        String::from_utf8_lossy(&meta.stderr)
    );
    let meta = String::from_utf8(meta.stdout).unwrap();
    let source = meta
        .split("\"manifest_path\":\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|p| p.contains("grammers-mtproto-0.11.0"))
        .map(|p| std::path::Path::new(p).parent().unwrap().to_path_buf())
        .expect("grammers-mtproto 0.11.0 in the dependency graph");
    let patched = work.join("grammers-mtproto");
    let _ = std::fs::remove_dir_all(&patched);
    copy_dir(&source, &patched);
    let auth = patched.join("src/authentication.rs");
    let text = std::fs::read_to_string(&auth).unwrap();
    let anchor = "        _ => return None";
    assert_eq!(
        text.matches(anchor).count(),
        1,
        "key_for_fingerprint changed shape"
    );
    let line = format!(
        "        // The mtproto-auth test key (added by tests/login_stock_clients_layers.rs).\n        {} => rsa::Key::new(\"{}\", \"65537\").unwrap(),\n{anchor}",
        key.fingerprint(),
        key.n()
    );
    std::fs::write(&auth, text.replace(anchor, &line)).unwrap();
    let build = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(work.join("grammers-target"))
        .arg("--config")
        .arg(format!(
            "patch.crates-io.grammers-mtproto.path={:?}",
            patched.display().to_string()
        ))
        .status()
        .expect("cargo build runs");
    assert!(
        build.success(),
        "building the grammers interop client failed"
    );
    work.join("grammers-target/debug/grammers-interop")
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn grammers_0_11_0_of_layer_230_signs_up_logs_out_and_logs_back_in() {
    let server = TestServer::start(3);
    let binary = grammers_binary(&server.public_key());
    // The sign-up on DC 2; the log-in starts on DC 1 and follows PHONE_MIGRATE_2. grammers sends
    // msg_id 0 in the key exchange (UM-3).
    let phone = "9996620230";
    let mut args = vec!["2".to_string(), "1".to_string(), phone.to_string()];
    args.extend(routes(&server));
    let out = run_program(&binary, &args);
    let line = out.lines().last().unwrap_or_default();
    expect(
        line,
        &[
            ("authorized_before", "false"),
            ("sign_in", "signup required"),
            ("sign_up", "true"),
            ("first_name", "Gram"),
            ("phone", phone),
            ("is_self", "true"),
            ("state_date", "true"),
            ("authorized_after_logout", "false"),
            ("relogin_home_dc", "2"),
        ],
    );
    expect_same_user(line);
}
