//! `mtproto-auth bench` as an operator runs it, in short windows: it starts its own server (and
//! echo server), or drives a running one, and reports what it measured.

mod common;

use std::process::Command;

use common::TestServer;

fn bench(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mtproto-auth"))
        .arg("bench")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "bench {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The number after the first `"key":` at or after `from`.
fn number(json: &str, from: &str, key: &str) -> f64 {
    let start = json
        .find(from)
        .unwrap_or_else(|| panic!("{from} in {json}"));
    let pat = format!("\"{key}\":");
    let at = start
        + json[start..]
            .find(&pat)
            .unwrap_or_else(|| panic!("{key} in {json}"));
    let rest = &json[at + pat.len()..];
    let end = rest.find([',', '}']).unwrap();
    rest[..end].parse().unwrap()
}

#[test]
fn handshake_bench_makes_keys_and_reads_the_server_cpu() {
    let json = bench(&[
        "handshake",
        "--connections",
        "2",
        "--seconds",
        "2",
        "--no-baseline",
        "--json",
    ]);
    assert!(number(&json, "\"result\"", "ops") >= 1.0, "{json}");
    assert_eq!(number(&json, "\"result\"", "errors"), 0.0, "{json}");
    assert!(
        number(&json, "\"result\"", "server_cpu_us_per_op") > 0.0,
        "{json}"
    );
    assert!(json.contains("\"openssl\":null"), "{json}");
}

#[test]
fn rpc_bench_pings_and_measures_the_echo_baseline() {
    let json = bench(&["rpc", "--connections", "3", "--seconds", "1", "--json"]);
    assert_eq!(number(&json, "\"bench\"", "frame_bytes"), 88.0);
    assert!(number(&json, "\"result\"", "ops") >= 3.0, "{json}");
    assert_eq!(number(&json, "\"result\"", "errors"), 0.0, "{json}");
    assert!(number(&json, "\"echo\"", "ops") >= 3.0, "{json}");
    assert_eq!(number(&json, "\"echo\"", "errors"), 0.0, "{json}");
    assert!(number(&json, "\"bench\"", "ratio") > 0.0, "{json}");
}

#[test]
fn login_bench_signs_up_numbers_and_logs_them_in() {
    let json = bench(&["login", "--connections", "3", "--seconds", "1", "--json"]);
    assert_eq!(number(&json, "\"bench\"", "numbers"), 60.0, "{json}");
    assert!(
        number(&json, "\"bench\"", "sign_ups_per_sec") > 0.0,
        "{json}"
    );
    assert!(number(&json, "\"result\"", "ops") >= 3.0, "{json}");
    assert_eq!(number(&json, "\"result\"", "errors"), 0.0, "{json}");
    assert!(
        number(&json, "\"result\"", "server_cpu_us_per_op") > 0.0,
        "{json}"
    );
}

#[test]
fn password_bench_sets_passwords_and_checks_them() {
    let json = bench(&[
        "password",
        "--connections",
        "2",
        "--seconds",
        "2",
        "--no-baseline",
        "--json",
    ]);
    assert_eq!(number(&json, "\"bench\"", "connections"), 2.0, "{json}");
    assert!(number(&json, "\"result\"", "ops") >= 2.0, "{json}");
    assert_eq!(number(&json, "\"result\"", "errors"), 0.0, "{json}");
    assert!(
        number(&json, "\"result\"", "server_cpu_us_per_op") > 0.0,
        "{json}"
    );
    assert!(json.contains("\"openssl\":null"), "{json}");
}

#[test]
fn benches_drive_a_running_server_by_address_and_pid() {
    let server = TestServer::start(1);
    let addr = server.addr(1).to_string();
    let pid = std::process::id().to_string();
    let key = server.public_key_pem();
    let key = key.to_str().unwrap();
    let attach = [
        "--addr",
        &addr,
        "--server-pid",
        &pid,
        "--public-key",
        key,
        "--json",
    ];
    let mut args = vec!["idle", "--connections", "40"];
    args.extend(attach);
    let json = bench(&args);
    assert_eq!(number(&json, "\"bench\"", "connections"), 40.0);
    assert!(number(&json, "\"bench\"", "rss_after") > 0.0, "{json}");
    assert_eq!(
        server.state.counts().1,
        40,
        "one session per idle connection"
    );
    let keys_before = server.state.counts().0;
    let mut args = vec!["keys", "--connections", "5"];
    args.extend(attach);
    let json = bench(&args);
    assert_eq!(number(&json, "\"bench\"", "keys"), 5.0, "{json}");
    assert!(number(&json, "\"bench\"", "rss_after") > 0.0, "{json}");
    assert_eq!(
        server.state.counts().0,
        keys_before + 10,
        "five warm-up keys and five measured, all cached"
    );
    let mut args = vec![
        "rpc",
        "--connections",
        "2",
        "--seconds",
        "1",
        "--no-baseline",
    ];
    args.extend(attach);
    let json = bench(&args);
    assert!(number(&json, "\"result\"", "ops") >= 2.0, "{json}");
    assert!(json.contains("\"echo\":null"), "{json}");
}

#[test]
fn soak_bench_keeps_connections_alive_with_a_mix_and_reports_each_interval() {
    let json = bench(&[
        "soak",
        "--connections",
        "40",
        "--seconds",
        "4",
        "--interval-secs",
        "2",
        "--json",
    ]);
    assert_eq!(number(&json, "\"bench\"", "errors"), 0.0, "{json}");
    assert_eq!(json.matches("\"end_secs\":").count(), 2, "{json}");
    // Each connection is pinged every 10 s, first at the start.
    assert_eq!(number(&json, "\"end_secs\":2", "pings"), 40.0, "{json}");
    for key in ["logins", "keys", "rss_bytes"] {
        assert!(number(&json, "\"end_secs\":4", key) > 0.0, "{key}: {json}");
    }
    assert_eq!(number(&json, "\"end_secs\":4", "alive"), 40.0, "{json}");
}
