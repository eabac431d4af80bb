//! Replays every checked-in fuzz corpus (fuzz/corpus/TARGET/*) through the property its target
//! checks, so that `cargo test` on stable guards what fuzzing found. Each corpus directory must
//! belong to a target listed here.

mod common;

use mtproto_auth::fuzzing;

/// A target's property: panics when the input breaks it.
type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 6] = [
    ("tl_decode", fuzzing::tl_roundtrip),
    ("transport_chunks", fuzzing::transport_chunks),
    ("handshake_server", fuzzing::handshake_server),
    ("session_messages", fuzzing::session_messages),
    ("store_model", fuzzing::store_model),
    ("tl_layers", fuzzing::tl_layers),
];

#[test]
fn every_corpus_entry_satisfies_its_target_property() {
    let corpus = common::root().join("fuzz/corpus");
    let mut replayed = 0;
    for dir in std::fs::read_dir(&corpus).expect("fuzz/corpus exists") {
        let dir = dir.unwrap().path();
        let target = dir.file_name().unwrap().to_string_lossy().to_string();
        let (_, check) = TARGETS
            .iter()
            .find(|(name, _)| *name == target)
            .unwrap_or_else(|| panic!("fuzz/corpus/{target} has no target in this test"));
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            if let Err(panic) = std::panic::catch_unwind(|| check(&data)) {
                std::panic::resume_unwind(Box::new(format!("{}: {panic:?}", path.display())));
            }
            replayed += 1;
        }
    }
    assert!(replayed >= 100, "only {replayed} corpus entries");
}
