//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root (where `schema/` and `tests/` are).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python interpreter with the interop requirements installed: `MTPROTO_PYTHON`, else the
/// venv that `scripts/test-all` creates. Missing, the interop tests fail: they are not optional.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("MTPROTO_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python for the interop tests: run scripts/test-all (it creates .venv from \
         tests/interop/requirements.txt) or set MTPROTO_PYTHON"
    );
    venv
}

pub fn hex(text: &str) -> Vec<u8> {
    mtproto_auth::tools::tl_decode::parse_hex(text.as_bytes()).expect("valid hex")
}

/// The value of `"key": ...` in one line of flat JSON (a string without escapes, or a number).
pub fn json_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\": ");
    let start = line.find(&pat)? + pat.len();
    let rest = &line[start..];
    if let Some(s) = rest.strip_prefix('"') {
        s.find('"').map(|end| &s[..end])
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim())
    }
}
