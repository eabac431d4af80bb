//! The pytest plugin (`python/pytest-mtproto-auth`) runs its own tests and the README's
//! quickstarts against this build's server binary: in `.venv` with Telethon and Kurigram, and
//! in each Pyrogram fork's venv (`scripts/test-all` installs the plugin and pytest into all
//! four). The quickstarts are the README's text: a test checks that they match.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::root;

fn plugin() -> PathBuf {
    root().join("python/pytest-mtproto-auth")
}

/// `python -m pytest PATHS` against this build's binary; fails the test with pytest's output.
fn pytest(python: PathBuf, paths: &[&str]) {
    let out = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .args(paths.iter().map(|p| plugin().join(p)))
        .env("MTPROTO_AUTH_BIN", env!("CARGO_BIN_EXE_mtproto-auth"))
        .current_dir(plugin())
        .output()
        .unwrap_or_else(|e| panic!("{} does not run: {e}", python.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} pytest failed:\n{text}",
        python.display()
    );
    assert!(text.contains(" passed"), "{text}");
}

#[test]
fn the_plugin_and_the_quickstarts_pass_with_telethon_and_kurigram() {
    pytest(common::python(), &["tests", "examples"]);
}

#[test]
fn the_plugin_passes_with_every_pyrogram_fork() {
    for fork in ["pyrogram", "pyrofork", "hydrogram"] {
        pytest(common::python_of(fork), &["tests"]);
    }
}

#[test]
fn the_readme_shows_the_quickstarts_as_they_are_tested() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for example in ["test_telethon_quickstart.py", "test_kurigram_quickstart.py"] {
        let text = std::fs::read_to_string(plugin().join("examples").join(example)).unwrap();
        assert!(
            readme.contains(&text),
            "README.md does not show examples/{example} as it is"
        );
    }
}
