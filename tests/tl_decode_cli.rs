//! `mtproto-auth tl decode` as an operator runs it: stdin in, text out, exit codes.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtproto-auth"))
        .args(["tl", "decode"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn prints_name_id_and_every_field_of_a_hex_payload() {
    // auth.sentCode{type: sentCodeTypeSms{length: 5}, phone_code_hash: "abc", timeout: 60}
    let hex = "0225005e 04000000 a2bb00c0 05000000 03616263 3c000000";
    let (code, out, err) = run(&["--hex", "--roundtrip"], hex.as_bytes());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("auth.sentCode#5e002502 (24 bytes)\n"),
        "{out}"
    );
    for field in [
        "SentCodeTypeSms",
        "length: 5",
        "phone_code_hash: \"abc\"",
        "next_type: None",
        "timeout: Some(\n",
    ] {
        assert!(out.contains(field), "missing {field:?} in {out}");
    }
}

#[test]
fn reads_raw_bytes_too() {
    let raw = [0xb5, 0x75, 0x72, 0x99];
    let (code, out, _) = run(&[], &raw);
    assert_eq!(code, 0);
    assert!(out.starts_with("boolTrue#997275b5 (4 bytes)\ntrue"));
}

#[test]
fn bad_input_is_one_line_with_offset_and_cause_and_exit_1() {
    let (code, out, err) = run(&["--hex"], b"0225005e 04000000");
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        err,
        "error: at offset 8: unexpected end of input (4 more bytes needed)\n"
    );

    let (code, _, err) = run(&["--hex"], b"efbeadde");
    assert_eq!(
        (code, err.as_str()),
        (1, "error: at offset 0: unknown constructor 0xdeadbeef\n")
    );

    let (code, _, err) = run(&["--hex"], b"b5757299 00000000");
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: at offset 4: trailing data: 4 bytes after the value\n"
        )
    );

    let (code, _, err) = run(&["--hex"], b"b57572zz");
    assert_eq!(
        (code, err.as_str()),
        (1, "error: at offset 6 of the hex text: not a hex digit\n")
    );
}

#[test]
fn roundtrip_mismatch_exits_3() {
    // rpc_error with its message in the long length form where the short one is canonical.
    let hex = "19ca4421 90010000 fe010000 41000000";
    let (code, _, _) = run(&["--hex"], hex.as_bytes());
    assert_eq!(code, 0);
    let (code, _, err) = run(&["--hex", "--roundtrip"], hex.as_bytes());
    assert_eq!(code, 3);
    assert_eq!(err, "error: at offset 8: re-encoding differs from the input (16 bytes in, 12 bytes re-encoded)\n");
}

#[test]
fn layer_reads_an_older_clients_request_in_its_constructors() {
    // pyrogram 2.0.106's auth.signUp#80eee427 (layer 158: no flags word).
    let hex = "27e4ee80 0a393939 36363131 32333400 01680000 03416461 00000000";
    let (code, _, err) = run(&["--hex"], hex.as_bytes());
    assert_eq!(code, 1, "the current layer has no auth.signUp#80eee427");
    assert!(err.contains("unknown constructor 0x80eee427"), "{err}");
    let (code, out, err) = run(&["--hex", "--roundtrip", "--layer", "158"], hex.as_bytes());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("auth.signUp#80eee427 (28 bytes, layer 158)\n"),
        "{out}"
    );
    for field in [
        "phone_number: \"9996611234\"",
        "first_name: \"Ada\"",
        "last_name: \"\"",
    ] {
        assert!(out.contains(field), "missing {field:?} in {out}");
    }
    // Layer 181's auth.signUp is #aac7b717, with a flags word: not this request.
    let (code, _, _) = run(&["--hex", "--layer", "181"], hex.as_bytes());
    assert_eq!(code, 1);
}
