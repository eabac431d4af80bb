//! The admin HTTP API against a real server (`testing::TestDc` with `admin_http`), driven by
//! plain HTTP requests while the client library logs in over TCP: codes (and the long-poll for
//! the next one), users and sessions made through the API and used by a client, fault rules
//! (error, delay, drop) seen by the client, seed, reset, metrics and the dashboard page.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use mtproto_auth::client::login::SignedIn;
use mtproto_auth::client::{Client, ClientError, ConnectOptions, Transport};
use mtproto_auth::crypto::AuthKey;
use mtproto_auth::testing::{TestDc, TestDcOptions};
use mtproto_auth::transport::Framing;

/// One request; the status and the body.
fn http(addr: SocketAddr, method: &str, path: &str, form: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

fn field<'a>(json: &'a str, key: &str) -> &'a str {
    let pat = format!("\"{key}\":");
    let rest = &json[json.find(&pat).unwrap_or_else(|| panic!("{key} in {json}")) + pat.len()..];
    match rest.strip_prefix('"') {
        Some(s) => &s[..s.find('"').unwrap()],
        None => &rest[..rest.find([',', '}']).unwrap()],
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn hex_key(s: &str) -> [u8; 256] {
    let mut k = [0u8; 256];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    k
}

fn spawn() -> (TestDc, SocketAddr) {
    let dc = TestDc::spawn_with(TestDcOptions {
        admin_http: true,
        ..Default::default()
    })
    .unwrap();
    let admin = dc.admin_http().unwrap();
    (dc, admin)
}

#[test]
fn codes_come_from_the_api_and_the_long_poll_waits_for_the_next() {
    let (dc, admin) = spawn();
    let (status, health) = http(admin, "GET", "/health", "");
    assert_eq!(status, 200);
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    // A long-poll started before the code is sent gets it.
    let waiter =
        std::thread::spawn(move || http(admin, "GET", "/codes?phone=%2B9996621234&wait=20", ""));
    std::thread::sleep(Duration::from_millis(200));
    rt().block_on(async {
        let mut c = dc.client(2).await.unwrap();
        let sent = c.send_code("9996621234").await.unwrap();
        let (status, waited) = waiter.join().unwrap();
        assert_eq!(status, 200, "{waited}");
        let code = field(&waited, "code").to_string();
        assert_eq!(code, "22222", "a test number's code");
        let (_, listed) = http(admin, "GET", "/codes?phone=9996621234", "");
        assert_eq!(field(&listed, "code"), code);
        let (_, none) = http(admin, "GET", "/codes?phone=9996630000", "");
        assert!(none.starts_with("{\"codes\":[]"), "{none}");
        let step = c
            .sign_in("9996621234", &sent.phone_code_hash, &code)
            .await
            .unwrap();
        assert_eq!(step, SignedIn::SignUpRequired);
        c.sign_up("9996621234", &sent.phone_code_hash, "Ada", "")
            .await
            .unwrap();
    });
    // Nothing new within the wait: 404 with the reason.
    let (status, body) = http(admin, "GET", "/codes?phone=9996621234&wait=1", "");
    assert_eq!(status, 404, "{body}");
    let (_, users) = http(admin, "GET", "/users", "");
    assert!(users.contains("\"phone\":\"9996621234\""), "{users}");
}

#[test]
fn users_and_sessions_made_by_the_api_log_a_client_in() {
    let (dc, admin) = spawn();
    let (status, created) = http(
        admin,
        "POST",
        "/users",
        "phone=9996631234&first_name=Bo+Bo&password=hunter2",
    );
    assert_eq!(status, 201, "{created}");
    let user_id: i64 = field(&created, "id").parse().unwrap();
    assert_eq!(field(&created, "dc"), "3");
    let (status, again) = http(admin, "POST", "/users", "phone=9996631234");
    assert_eq!(status, 409, "{again}");
    let (status, session) = http(admin, "POST", "/sessions", &format!("user={user_id}"));
    assert_eq!(status, 201, "{session}");
    let key = AuthKey::from_bytes(hex_key(field(&session, "auth_key")));
    assert_eq!(
        format!("{:016x}", key.id() as u64),
        field(&session, "auth_key_id")
    );
    let port: u16 = field(&session, "port").parse().unwrap();
    assert_eq!(port, dc.addr(3).port(), "the user's home DC");
    rt().block_on(async {
        let opts = ConnectOptions::new(dc.addr(3), Framing::Intermediate);
        let transport = Transport::connect(&opts).await.unwrap();
        let mut client = Client::with_key(transport, key, 0);
        let me = client.get_me().await.unwrap();
        assert_eq!(me.id, user_id);
        assert_eq!(me.first_name.as_deref(), Some("Bo Bo"));
        let (_, sessions) = http(admin, "GET", &format!("/sessions?user={user_id}"), "");
        assert!(
            sessions.contains(field(&session, "auth_key_id")),
            "{sessions}"
        );
        // Ended through the API: the key answers SESSION_REVOKED.
        let (status, ended) = http(admin, "DELETE", &format!("/sessions?user={user_id}"), "");
        assert_eq!(status, 200, "{ended}");
        match client.get_me().await {
            Err(ClientError::Rpc(e)) => assert_eq!(e.message, "SESSION_REVOKED"),
            other => panic!("{other:?}"),
        }
    });
    let (status, bot) = http(admin, "POST", "/bots", "name=Echo&username=echo_bot");
    assert_eq!(status, 201, "{bot}");
    assert!(field(&bot, "token").contains(':'));
    let seed = "seed=%5B%5Busers%5D%5D%0Aphone+%3D+%229996611111%22%0A";
    let (status, report) = http(admin, "POST", "/seed", seed);
    assert_eq!(status, 200, "{report}");
    assert!(report.contains("created"), "{report}");
    let (_, report) = http(admin, "POST", "/seed", seed);
    assert!(
        report.contains("exists"),
        "applied twice, created once: {report}"
    );
}

#[test]
fn fault_rules_answer_errors_delay_and_drop_as_asked() {
    let (dc, admin) = spawn();
    rt().block_on(async {
        let mut c = dc.client(2).await.unwrap();
        let (status, added) = http(
            admin,
            "POST",
            "/faults",
            "method=auth.sendCode&error=FLOOD_WAIT_5&times=1",
        );
        assert_eq!(status, 201, "{added}");
        match c.send_code("9996621234").await {
            Err(ClientError::Rpc(e)) => {
                assert_eq!((e.code, e.message.as_str()), (420, "FLOOD_WAIT_5"))
            }
            other => panic!("{other:?}"),
        }
        c.send_code("9996621234")
            .await
            .expect("the rule was used up");
        let (_, listed) = http(admin, "GET", "/faults", "");
        assert_eq!(listed, "[]");

        http(
            admin,
            "POST",
            "/faults",
            "method=help.getNearestDc&delay_ms=400",
        );
        let started = Instant::now();
        let nearest: mtproto_auth::tl::enums::NearestDc = c
            .invoke(&mtproto_auth::tl::functions::help::GetNearestDc {})
            .await
            .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(400), "held back");
        drop(nearest);
        let (status, cleared) = http(admin, "DELETE", "/faults", "");
        assert_eq!((status, cleared.as_str()), (200, "{\"cleared\":1}"));

        http(
            admin,
            "POST",
            "/faults",
            "method=help.getNearestDc&drop=1&times=1",
        );
        let lost = c
            .invoke(&mtproto_auth::tl::functions::help::GetNearestDc {})
            .await;
        assert!(
            matches!(lost, Err(ClientError::Closed | ClientError::Io(_))),
            "{lost:?}"
        );
        let (status, bad) = http(admin, "POST", "/faults", "method=drop+table&error=X");
        assert_eq!(status, 400, "{bad}");
    });
    let (_, metrics) = http(admin, "GET", "/metrics", "");
    for line in [
        "mtproto_rpc_calls_total{method=\"auth.sendCode\"} 2",
        "mtproto_rpc_errors_total{method=\"auth.sendCode\",error=\"FLOOD_WAIT_X\"} 1",
        "mtproto_faults_injected_total 3",
        "mtproto_key_exchanges_total{kind=\"permanent\"} 1",
        "mtproto_connections_total{dc=\"2\",transport=\"intermediate\"} 1",
        "mtproto_cache_entries{cache=\"auth_keys_permanent\"} 1",
        "mtproto_cache_entries{cache=\"connections\"} ",
        "mtproto_cache_capacity{cache=\"connections\"} 20000",
    ] {
        assert!(metrics.contains(line), "{line} missing in\n{metrics}");
    }
}

#[test]
fn a_reset_forgets_users_keys_and_codes_and_the_dashboard_is_served() {
    let (dc, admin) = spawn();
    rt().block_on(async {
        let mut c = dc.client(2).await.unwrap();
        let sent = c.send_code("9996621234").await.unwrap();
        let code = dc.code("9996621234").unwrap();
        c.sign_in("9996621234", &sent.phone_code_hash, &code)
            .await
            .unwrap();
        c.sign_up("9996621234", &sent.phone_code_hash, "Ada", "")
            .await
            .unwrap();
        let (_, page) = http(admin, "GET", "/", "");
        assert!(page.contains("<title>mtproto-auth"), "{page}");
        let (_, overview) = http(admin, "GET", "/api/overview", "");
        assert!(overview.contains("\"phone\":\"9996621234\""), "{overview}");
        assert!(overview.contains("\"code\":\"22222\""), "{overview}");
        let (status, _) = http(admin, "POST", "/reset", "");
        assert_eq!(status, 200);
        let (_, users) = http(admin, "GET", "/users", "");
        assert_eq!(users, "[]");
        let (_, codes) = http(admin, "GET", "/codes", "");
        assert!(codes.starts_with("{\"codes\":[]"), "{codes}");
        // The client's key is gone with everything else: −404, and a new key works.
        assert!(matches!(
            c.get_me().await,
            Err(ClientError::Transport(-404))
        ));
        let mut fresh = dc.client(2).await.unwrap();
        fresh.send_code("9996621234").await.unwrap();
    });
    let (status, _) = http(admin, "POST", "/reset?user=42", "");
    assert_eq!(status, 404, "no such user");
    let (status, _) = http(admin, "GET", "/nothing", "");
    assert_eq!(status, 404);
    let (status, _) = http(admin, "PUT", "/users", "");
    assert_eq!(status, 405);
}
