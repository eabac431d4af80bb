//! Parser and id-check tests: every construct the real schemas use, and every error.

use codegen::{parse, verify, Category, ErrorKind, ParamKind};

fn err(text: &str) -> (usize, String) {
    let e = parse(text).unwrap_err();
    match e.kind {
        ErrorKind::Syntax(m) => (e.line, m),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn sections_namespaces_and_explicit_ids() {
    let s = parse(
        "---types---\nauth.sentCode#5e002502 flags:# type:auth.SentCodeType phone_code_hash:string next_type:flags.1?auth.CodeType timeout:flags.2?int = auth.SentCode;\n---functions---\nhelp.getConfig#c4f9186b = Config;\n",
    )
    .unwrap();
    let [c, f] = &s.definitions[..] else { panic!() };
    assert_eq!(
        (c.category, f.category),
        (Category::Type, Category::Function)
    );
    assert_eq!(c.namespace.as_deref(), Some("auth"));
    assert_eq!(c.name, "sentCode");
    assert_eq!(c.declared_id, Some(0x5e002502));
    assert_eq!(c.computed_id, 0x5e002502);
    assert_eq!(c.result.full_name(), "auth.SentCode");
    assert_eq!((c.line, f.line), (2, 4));
    assert_eq!(f.full_name(), "help.getConfig");
}

#[test]
fn missing_id_is_computed() {
    let s = parse("tlsBlockZero length:int = TlsBlock;").unwrap();
    let d = &s.definitions[0];
    assert_eq!(d.declared_id, None);
    assert_eq!(d.id, d.computed_id);
    assert_eq!(d.id, crc32fast::hash(b"tlsBlockZero length:int = TlsBlock"));
}

#[test]
fn flags_words_and_conditional_fields() {
    let s =
        parse("x#1 flags:# a:flags.0?true b:flags.31?long flags2:# c:flags2.3?Vector<int> = X;")
            .unwrap();
    let p = &s.definitions[0].params;
    assert_eq!(p[0].kind, ParamKind::Flags);
    let ParamKind::Value { ty, flag: Some(f) } = &p[1].kind else {
        panic!()
    };
    assert_eq!(
        (ty.name.as_str(), f.word.as_str(), f.bit),
        ("true", "flags", 0)
    );
    let ParamKind::Value { flag: Some(f), .. } = &p[2].kind else {
        panic!()
    };
    assert_eq!(f.bit, 31);
    let ParamKind::Value { ty, flag: Some(f) } = &p[4].kind else {
        panic!()
    };
    assert_eq!((ty.name.as_str(), f.word.as_str()), ("Vector", "flags2"));
    assert_eq!(ty.arg.as_ref().unwrap().name, "int");
}

#[test]
fn generics_and_references() {
    let s = parse("invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;").unwrap();
    let d = &s.definitions[0];
    assert_eq!(d.generics, ["X"]);
    let ParamKind::Value { ty, .. } = &d.params[1].kind else {
        panic!()
    };
    assert!(ty.generic_ref);
    verify(&s).unwrap();
}

#[test]
fn boxed_bare_and_percent_types() {
    let s = parse("a#1 v:Vector<long> w:vector<future_salt> p:%Message b:bytes i:int128 j:int256 d:double = A;").unwrap();
    let tys: Vec<_> = s.definitions[0]
        .params
        .iter()
        .map(|p| match &p.kind {
            ParamKind::Value { ty, .. } => ty.clone(),
            ParamKind::Flags => panic!(),
        })
        .collect();
    assert!(!tys[0].bare && tys[1].bare);
    assert!(tys[1].arg.as_ref().unwrap().bare);
    assert!(tys[2].percent && tys[2].bare && tys[2].name == "Message");
    assert_eq!(tys[3].to_string(), "bytes");
    assert_eq!(tys[4].name, "int128");
}

#[test]
fn comments_layer_and_multi_line_declarations() {
    let s = parse("// header\n// LAYER 229\n\nuser#1 id:long // trailing comment\n  name:string = User; // after\nb#2 = B; c#3 = C;\n").unwrap();
    assert_eq!(s.layer, Some(229));
    assert_eq!(s.definitions.len(), 3);
    assert_eq!(s.definitions[0].line, 4);
    assert_eq!(
        s.definitions[0].source,
        "user#1 id:long name:string = User;"
    );
    assert_eq!(s.definitions[2].line, 6);
}

#[test]
fn normalization_matches_the_published_ids() {
    // `bytes` counts as `string` at the top of a parameter but not inside a vector, and
    // `flags.N?true` parameters are left out.
    let s = parse(concat!(
        "codeSettings#ad253d78 flags:# allow_flashcall:flags.0?true current_number:flags.1?true ",
        "allow_app_hash:flags.4?true allow_missed_call:flags.5?true allow_firebase:flags.7?true ",
        "unknown_number:flags.9?true logout_tokens:flags.6?Vector<bytes> token:flags.8?string ",
        "app_sandbox:flags.8?Bool = CodeSettings;\n",
        "resPQ#05162463 nonce:int128 server_nonce:int128 pq:bytes server_public_key_fingerprints:Vector<long> = ResPQ;\n",
        "invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;\n",
    ))
    .unwrap();
    let r = verify(&s).unwrap();
    assert_eq!((r.definitions, r.verified, r.known_exceptions), (3, 3, 0));
}

#[test]
fn id_mismatch_is_reported_with_its_line() {
    let s = parse(
        "\nping#7abe77ec ping_id:long = Pong;\npong#347773c6 msg_id:long ping_id:long = Pong;\n",
    )
    .unwrap();
    let errors = verify(&s).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 3);
    assert_eq!(
        errors[0].at("x.tl"),
        "x.tl:3: id mismatch for pong: declared #347773c6, CRC32 of the definition is #347773c5"
    );
}

#[test]
fn known_exceptions_are_counted_not_failed() {
    let s = parse("ipPortSecret#37982646 ipv4:int port:int secret:bytes = IpPort;").unwrap();
    let r = verify(&s).unwrap();
    assert_eq!((r.verified, r.known_exceptions), (0, 1));
}

#[test]
fn syntax_errors_name_their_line() {
    assert_eq!(
        err("a = A;\nb x:int B;\n"),
        (2, "missing '=' before the result type".into())
    );
    assert_eq!(err("a = A;\nb x:int = B\n").0, 2);
    assert_eq!(err("a#xyz = A;").1, "invalid constructor id #xyz");
    assert_eq!(
        err("a#123456789 = A;").1,
        "invalid constructor id #123456789"
    );
    assert_eq!(err("a x = A;").1, "parameter x is not name:type");
    assert_eq!(err("a x:int x:long = A;").1, "parameter x declared twice");
    assert_eq!(
        err("a x:flags.0?int = A;").1,
        "condition flags.0 names no earlier '#' parameter"
    );
    assert_eq!(
        err("a flags:# x:flags.32?int = A;").1,
        "condition flags.32: bit must be 0..31"
    );
    assert_eq!(
        err("a flags:# x:flags?int = A;").1,
        "condition flags is not flags.N"
    );
    assert_eq!(err("a x:!X = A;").1, "!X names no generic parameter");
    assert_eq!(err("a x:Vector<int = A;").1, "unclosed '<' in Vector<int");
    assert_eq!(
        err("a x:Maybe<int> = A;").1,
        "only Vector and vector take a type argument, not Maybe"
    );
    assert_eq!(err("a x:Vector = A;").1, "Vector needs a type argument");
    assert_eq!(
        err("a x:true = A;").1,
        "type true outside a flag condition in true"
    );
    assert_eq!(
        err("a {X:Type = A;").1,
        "unclosed generic parameter {X:Type"
    );
    assert_eq!(
        err("a {X:Int} = A;").1,
        "generic parameter {X:Int}: only ':Type' is supported"
    );
    assert_eq!(
        err("a x:int {X:Type} = A;").1,
        "generic parameter {X:Type} after a parameter"
    );
    assert_eq!(
        err("vector#1cb5c415 {t:Type} # [ t ] = Vector t;").1,
        "parameter # is not name:type"
    );
    assert_eq!(
        err("a = Vector t;").1,
        "result type Vector t: only the form Type or Type<Arg> is supported"
    );
    assert_eq!(err("a = A = B;").1, "more than one '='");
    assert_eq!(err("a-b = A;").1, "invalid identifier \"a-b\"");
    assert_eq!(err("---wat---").1, "unknown section marker ---wat---");
    assert_eq!(err("a = A;\nb x:int\n---functions---\n").0, 2);
}
