//! `codegen check` as CI and developers run it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn check(files: &[&Path]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .arg("check")
        .args(files)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn verifies_every_id_of_the_project_schemas() {
    let api = repo().join("schema/api.tl");
    let mtproto = repo().join("schema/mtproto.tl");
    let (ok, out, err) = check(&[&api, &mtproto]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "{}: 2548 definitions, 2548 ids verified, 0 known exceptions",
                api.display()
            ),
            format!(
                "{}: 58 definitions, 47 ids verified, 3 known exceptions",
                mtproto.display()
            ),
        ]
    );
}

/// Runs `check` on `text` written to a temporary file; returns the file's name and the stderr.
fn check_failing(name: &str, text: &str) -> (PathBuf, String) {
    let path = std::env::temp_dir().join(format!("codegen-cli-{name}-{}.tl", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let (ok, _, err) = check(&[&path]);
    std::fs::remove_file(&path).unwrap();
    assert!(!ok, "check accepted {name}");
    (path, err)
}

#[test]
fn a_corrupted_id_fails_with_file_and_line() {
    let text = std::fs::read_to_string(repo().join("schema/api.tl")).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("auth.sentCode#5e002502"))
        .unwrap()
        + 1;
    let corrupted = text.replace("auth.sentCode#5e002502", "auth.sentCode#5e002503");
    let (path, err) = check_failing("corrupted", &corrupted);
    assert_eq!(
        err.trim_end(),
        format!(
            "{}:{line}: id mismatch for auth.sentCode: declared #5e002503, CRC32 of the definition is #5e002502",
            path.display()
        )
    );
}

#[test]
fn a_syntax_error_fails_with_file_and_line() {
    let (path, err) = check_failing("syntax", "a#00000001 = A;\nb#00000002 x:int B;\n");
    assert_eq!(
        err.trim_end(),
        format!(
            "{}:2: syntax error: missing '=' before the result type",
            path.display()
        )
    );
}
