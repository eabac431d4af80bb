//! The dashboard at `/` of the admin HTTP API in a real headless browser (Debian's Chromium,
//! which `scripts/test-all` installs): after a sign-up, a bot and a fault rule, the page as
//! the browser renders it (its script run) shows the user, the session, the code and the rule;
//! a screenshot of it is written to `target/dashboard.png`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use mtproto_auth::client::login::SignedIn;
use mtproto_auth::testing::{TestDc, TestDcOptions};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium's headless flags for this closed network (no background connections) and a fresh
/// profile.
fn chromium(profile: &std::path::Path, args: &[String]) -> std::process::Output {
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "no {CHROMIUM}: scripts/test-all installs Debian's chromium package for this test"
    );
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_dashboard_shows_users_sessions_codes_and_faults_in_a_browser() {
    let dc = TestDc::spawn_with(TestDcOptions {
        admin_http: true,
        ..Default::default()
    })
    .unwrap();
    let url = format!("http://{}/", dc.admin_http().unwrap());
    let key_id = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut c = dc.client(2).await.unwrap();
            let sent = c.send_code("9996621234").await.unwrap();
            let code = dc.code("9996621234").unwrap();
            let step = c
                .sign_in("9996621234", &sent.phone_code_hash, &code)
                .await
                .unwrap();
            assert_eq!(step, SignedIn::SignUpRequired);
            c.sign_up("9996621234", &sent.phone_code_hash, "Dash", "Board")
                .await
                .unwrap();
            format!("{:016x}", c.auth_key().id() as u64)
        });
    dc.seed("[[bots]]\nname = \"Echo\"\nusername = \"echo_bot\"\n")
        .unwrap();
    dc.fail_next("auth.sendCode", "FLOOD_WAIT_30", 3);

    let profile = std::env::temp_dir().join(format!("mtproto-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    // The DOM once the page's script has fetched /api/overview and filled the tables.
    let dom = chromium(
        &profile,
        &[
            "--virtual-time-budget=5000".into(),
            "--dump-dom".into(),
            url.clone(),
        ],
    );
    let html = String::from_utf8_lossy(&dom.stdout);
    for shown in [
        "serving",
        "+9996621234",
        "Dash Board",
        "(bot @echo_bot)",
        "22222",
        "auth.sendCode",
        "420 FLOOD_WAIT_30",
        &key_id,
    ] {
        assert!(
            html.contains(shown),
            "{shown:?} not on the page:\n{html}\n{}",
            String::from_utf8_lossy(&dom.stderr)
        );
    }
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let taken = chromium(
        &profile,
        &[
            "--virtual-time-budget=5000".into(),
            "--window-size=1280,900".into(),
            format!("--screenshot={}", shot.display()),
            url,
        ],
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot at {}: {e}\n{}",
            shot.display(),
            String::from_utf8_lossy(&taken.stderr)
        )
    });
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        png.len() > 10_000,
        "a page, not a blank: {} bytes",
        png.len()
    );
    let _ = std::fs::remove_dir_all(&profile);
}
