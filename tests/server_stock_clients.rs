//! Stock clients against the server over TCP (issue 3 §8): Telethon 1.45.0 over full, abridged,
//! intermediate and obfuscated transports creates a key, gets help.getConfig, pings, and gets
//! 401 for users.getUsers([inputUserSelf]); Kurigram 2.2.26 connects and gets help.getConfig.

mod common;

use common::{json_field, run_python, TestServer};

#[test]
fn telethon_connects_configures_pings_and_gets_401_on_every_transport() {
    let server = TestServer::start(3);
    let dc2 = server.addr(2);
    let expected_options = server
        .addrs
        .iter()
        .map(|(id, a)| format!("{id}={}:{}", a.ip(), a.port()))
        .collect::<Vec<_>>()
        .join(",");
    for transport in ["full", "abridged", "intermediate", "obfuscated"] {
        let line = run_python(
            "telethon_client.py",
            &[
                server.public_key_pem().display().to_string(),
                dc2.ip().to_string(),
                dc2.port().to_string(),
                "2".into(),
                transport.into(),
            ],
        );
        let line = line.lines().last().unwrap_or_default();
        assert_eq!(
            json_field(line, "connected"),
            Some("true"),
            "{transport}: {line}"
        );
        assert_eq!(json_field(line, "this_dc"), Some("2"), "{line}");
        assert_eq!(json_field(line, "test_mode"), Some("true"), "{line}");
        assert_eq!(
            json_field(line, "dc_options"),
            Some(expected_options.as_str()),
            "{line}"
        );
        assert_eq!(json_field(line, "pong_ping_id"), Some("424242"), "{line}");
        assert_eq!(
            json_field(line, "get_users"),
            Some("401 AuthKeyUnregisteredError"),
            "{line}"
        );
        assert_eq!(json_field(line, "authorized"), Some("false"), "{line}");
    }
    // Every handshake stored a permanent key, and the client info of the last one was kept.
    let (keys, sessions) = server.state.counts();
    assert!(keys >= 4, "{keys} keys");
    assert!(sessions >= 4, "{sessions} sessions");
}

#[test]
fn kurigram_connects_and_gets_config() {
    let server = TestServer::start(3);
    let mut args = vec![server.public_key_pem().display().to_string()];
    args.extend(
        server
            .addrs
            .iter()
            .map(|(id, a)| format!("{id}={}:{}", a.ip(), a.port())),
    );
    let out = run_python("kurigram_client.py", &args);
    let line = out.lines().last().unwrap_or_default();
    assert_eq!(json_field(line, "connected"), Some("true"), "{out}");
    assert_eq!(json_field(line, "this_dc"), Some("2"), "{out}");
    assert_eq!(json_field(line, "test_mode"), Some("true"), "{out}");
    assert_eq!(json_field(line, "dc_count"), Some("3"), "{out}");
    // No bad_msg_notification or other complaint on the way (its ping is even-seqno).
    assert_eq!(json_field(line, "warnings"), Some("0"), "{out}");
}
