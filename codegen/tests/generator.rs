//! Generator tests: a golden file for a small schema that uses every construct, determinism,
//! and the schema errors the generator finds (unknown types, name clashes).

use codegen::{generate, parse, Config, ErrorKind};

fn config() -> Config {
    Config {
        root: "crate::tl".into(),
        runtime: "crate::tl".into(),
    }
}

fn golden_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// `UPDATE_GOLDEN=1 cargo test -p codegen` rewrites `small.rs` after a deliberate change.
#[test]
fn small_schema_matches_the_golden_file() {
    let dir = golden_dir();
    let schema = parse(&std::fs::read_to_string(dir.join("small.tl")).unwrap()).unwrap();
    assert_eq!(schema.layer, Some(7));
    codegen::verify(&schema).unwrap();
    let code = generate(&[&schema], &config()).unwrap();
    let path = dir.join("small.rs");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &code).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert!(
        code == expected,
        "generated code differs from {}; rerun with UPDATE_GOLDEN=1 if intended",
        path.display()
    );
}

#[test]
fn output_is_deterministic() {
    let text = std::fs::read_to_string(golden_dir().join("small.tl")).unwrap();
    let a = generate(&[&parse(&text).unwrap()], &config()).unwrap();
    let b = generate(&[&parse(&text).unwrap()], &config()).unwrap();
    assert_eq!(a, b);
}

fn gen_err(text: &str) -> (usize, ErrorKind) {
    let schema = parse(text).unwrap();
    let e = generate(&[&schema], &config()).unwrap_err();
    (e.error.line, e.error.kind)
}

#[test]
fn unknown_field_type_is_an_error_at_its_line() {
    let (line, kind) = gen_err("a = A;\nb x:Missing = B;\n");
    assert_eq!(line, 2);
    assert_eq!(kind, ErrorKind::UnknownType("Missing".into()));
}

#[test]
fn unknown_bare_constructor_is_an_error() {
    let (_, kind) = gen_err("b x:vector<nothing> = B;\n");
    assert_eq!(kind, ErrorKind::UnknownType("nothing".into()));
}

#[test]
fn percent_needs_a_single_constructor_type() {
    let (_, kind) = gen_err("a = A;\na2 x:int = A;\nb x:%A = B;\n");
    assert!(matches!(kind, ErrorKind::UnknownType(t) if t.starts_with("%A")));
}

#[test]
fn duplicate_ids_and_rust_names_are_errors() {
    let (line, kind) = gen_err("a#00000001 = A;\nb#00000001 = B;\n");
    assert_eq!(line, 2);
    assert!(matches!(kind, ErrorKind::Duplicate(m) if m.contains("#00000001")));
    let (_, kind) = gen_err("fooBar#00000001 = A;\nfoo_bar#00000002 = A;\n");
    assert!(matches!(kind, ErrorKind::Duplicate(m) if m.contains("FooBar")));
}

#[test]
fn fields_differing_only_in_case_are_an_error() {
    let (_, kind) = gen_err("a#00000001 x:int X:int = A;\n");
    assert!(matches!(kind, ErrorKind::Duplicate(m) if m.contains("Rust name x")));
}

#[test]
fn two_schemas_share_one_name_space() {
    let a = parse("a#00000001 = A;\n").unwrap();
    let b = parse("b#00000002 x:A = B;\n").unwrap();
    assert!(generate(&[&a, &b], &config()).is_ok());
    let c = parse("a#00000003 = A;\n").unwrap();
    let e = generate(&[&a, &c], &config()).unwrap_err();
    assert_eq!(e.schema, 1);
}

#[test]
fn recursive_types_are_boxed_and_others_are_not() {
    let text = std::fs::read_to_string(golden_dir().join("small.tl")).unwrap();
    let code = generate(&[&parse(&text).unwrap()], &config()).unwrap();
    assert!(code.contains("pub peer: Box<crate::tl::enums::InputPeer>,"));
    assert!(code.contains("pub numbers: crate::tl::enums::test::Numbers,"));
}
