use super::*;
use crate::tl::{enums, types, Deserializable, Serializable};

fn user() -> enums::User {
    let stored = crate::store::records::User {
        id: 9_996_611_234,
        access_hash: 77,
        phone: "9996611234".into(),
        first_name: "Ada".into(),
        last_name: String::new(),
        home_dc: 1,
        created: 1_700_000_000,
        ..Default::default()
    };
    crate::rpc::user_object(&stored, true)
}

fn layer(n: i32) -> Layer {
    let l = Layer::serving(n);
    assert_eq!(l.number(), n, "{n} is a sampled layer");
    l
}

#[test]
fn declared_layers_map_to_the_sampled_one_at_or_below() {
    assert_eq!(Layer::serving(0), Layer::CURRENT);
    assert_eq!(Layer::serving(1).number(), 133);
    assert_eq!(Layer::serving(133).number(), 133);
    assert_eq!(Layer::serving(163).number(), 162);
    assert_eq!(Layer::serving(228).number(), 222);
    assert_eq!(Layer::serving(10_000), Layer::CURRENT);
    assert_eq!(Layer::CURRENT.number(), crate::tl::LAYER);
}

#[test]
fn a_user_is_written_in_each_layers_constructor() {
    let ty = type_named("User").unwrap();
    let bytes = user().to_bytes();
    for (n, id) in [
        (133, 0x3ff6ecb0u32),
        (158, 0x8f97c628),
        (181, 0x215c4438),
        (198, 0x4b46c37e),
        (222, 0x31774388),
        (230, 0xb1b8cc83),
    ] {
        let old = downgrade(&bytes, ty, layer(n)).unwrap();
        assert_eq!(
            u32::from_le_bytes(old[..4].try_into().unwrap()),
            id,
            "layer {n}"
        );
        // It reads back in its own layer, and only there (or where the variant is the same).
        let v = decode(&old, ty, Form::Layer(layer(n))).unwrap();
        let Value::Object(o) = &v else { panic!() };
        assert!(o.def.in_layer(layer(n)));
        let text = v.to_string();
        assert!(text.contains("first_name: \"Ada\""), "{text}");
        assert!(text.contains("self: true"), "{text}");
        // And back to the current form, the same value.
        let again = transcode(&old, ty, Form::Layer(layer(n)), Layer::CURRENT).unwrap();
        assert_eq!(
            enums::User::from_bytes(&again).unwrap(),
            user(),
            "layer {n}"
        );
    }
    assert!(decode(&bytes, ty, Form::Layer(layer(158))).is_err());
}

#[test]
fn a_constructor_the_layer_lacks_is_never_written() {
    let update: enums::Update = types::UpdateNewAuthorization {
        unconfirmed: false,
        hash: 5,
        date: Some(1),
        device: Some("pc".into()),
        location: Some("here".into()),
    }
    .into();
    let short: enums::Updates = types::UpdateShort { update, date: 1 }.into();
    let ty = type_named("Updates").unwrap();
    assert_eq!(
        downgrade(&short.to_bytes(), ty, layer(158)).unwrap_err(),
        LayerError::NotInLayer {
            name: "updateNewAuthorization",
            layer: 158
        }
    );
    assert!(downgrade(&short.to_bytes(), ty, layer(164)).is_ok());
    // In a vector it is left out, and the vector's count says so.
    let many: enums::Updates = types::Updates {
        // (the schema ties date, device and location to unconfirmed's bit)
        updates: vec![types::UpdateNewAuthorization {
            unconfirmed: true,
            hash: 5,
            date: Some(1),
            device: Some("pc".into()),
            location: Some("here".into()),
        }
        .into()],
        users: vec![user()],
        chats: vec![],
        date: 1,
        seq: 0,
    }
    .into();
    let old = downgrade(&many.to_bytes(), ty, layer(158)).unwrap();
    let text = decode(&old, ty, Form::Layer(layer(158)))
        .unwrap()
        .to_string();
    assert!(
        text.starts_with("updates#74ae4240 { updates: [], users: [user#8f97c628"),
        "{text}"
    );
}

#[test]
fn old_requests_decode_into_the_current_function() {
    use crate::tl::functions::Function;
    // auth.signUp#80eee427 of layer 158: no flags word.
    let mut old = Vec::new();
    crate::tl::write_u32(&mut old, 0x80eee427);
    for s in ["9996611234", "hash", "Ada", ""] {
        crate::tl::write_bytes(&mut old, s.as_bytes());
    }
    let wrapped = crate::tl::functions::InvokeWithLayer {
        layer: 158,
        query: crate::tl::functions::help::GetConfig {},
    }
    .to_bytes();
    let mut request = wrapped[..8].to_vec();
    request.extend_from_slice(&old);
    let Function::InvokeWithLayer(w) = decode_function(&request).unwrap() else {
        panic!()
    };
    let Function::AuthSignUp(s) = *w.query else {
        panic!()
    };
    assert_eq!(
        (s.phone_number.as_str(), s.first_name.as_str()),
        ("9996611234", "Ada")
    );
    assert!(!s.no_joined_notifications);
    // updates.getDifference#25939651 with pts_total_limit set.
    let mut old = Vec::new();
    crate::tl::write_u32(&mut old, 0x25939651);
    crate::tl::write_u32(&mut old, 1);
    for x in [7, 100, 1_700_000_000, 3] {
        crate::tl::write_i32(&mut old, x);
    }
    let Function::UpdatesGetDifference(d) = decode_function(&old).unwrap() else {
        panic!()
    };
    assert_eq!(
        (d.pts, d.pts_total_limit, d.date, d.qts, d.pts_limit),
        (7, Some(100), 1_700_000_000, 3, None)
    );
    // auth.resendCode#3ef1a9bf: no flags word, no reason.
    let mut old = Vec::new();
    crate::tl::write_u32(&mut old, 0x3ef1a9bf);
    for s in ["9996611234", "hash"] {
        crate::tl::write_bytes(&mut old, s.as_bytes());
    }
    let Function::AuthResendCode(r) = decode_function(&old).unwrap() else {
        panic!()
    };
    assert_eq!(
        (
            r.phone_number.as_str(),
            r.phone_code_hash.as_str(),
            r.reason
        ),
        ("9996611234", "hash", None)
    );
    // Garbage keeps the current decoder's error.
    assert!(decode_function(&[0x27, 0x44, 0xee, 0x80, 1]).is_err());
}

#[test]
fn every_function_result_of_the_current_layer_is_known() {
    for &(id, name) in crate::tl::NAMES_BY_ID {
        if let Some(d) = by_id(id, Form::Layer(Layer::CURRENT)) {
            assert_eq!(d.name, name);
        }
    }
    let get_users = crate::tl::functions::users::GetUsers { id: vec![] };
    use crate::tl::Identifiable;
    assert_eq!(
        result_type(crate::tl::functions::users::GetUsers::CONSTRUCTOR_ID).map(Ty::name),
        Some("Vector<User>".to_string())
    );
    let _ = get_users;
    assert_eq!(
        result_type(crate::tl::functions::Ping::CONSTRUCTOR_ID),
        None
    );
}

/// The hand-made seeds of the `tl_layers` fuzz target are what the code writes today (a user in
/// six layers, a config, layer 158's auth.signUp); `MTPROTO_WRITE_SEEDS=1` rewrites them.
#[test]
fn tl_layers_fuzz_seeds_match_the_code() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/tl_layers");
    let cur = Layer::CURRENT.0;
    let idx = |n: i32| layer(n).0;
    let user = user().to_bytes();
    let ty = type_named("User").unwrap();
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    for n in [133, 158, 181, 198, 222, 230] {
        let old = downgrade(&user, ty, layer(n)).unwrap();
        seeds.push((
            format!("seed-user-{n}-to-230"),
            [vec![idx(n), cur], old.clone()].concat(),
        ));
        seeds.push((
            format!("seed-user-{n}-to-133"),
            [vec![idx(n), idx(133)], old].concat(),
        ));
    }
    let config = crate::rpc::login_tests::Fixture::new()
        .call(
            1,
            2,
            &crate::tl::functions::Function::HelpGetConfig(
                crate::tl::functions::help::GetConfig {},
            ),
        )
        .unwrap();
    seeds.push((
        "seed-config-230-to-158".into(),
        [vec![cur, idx(158)], config].concat(),
    ));
    let mut sign_up = Vec::new();
    crate::tl::write_u32(&mut sign_up, 0x80eee427);
    for s in ["9996611234", "hash", "Ada", ""] {
        crate::tl::write_bytes(&mut sign_up, s.as_bytes());
    }
    seeds.push((
        "seed-signup-158".into(),
        [vec![idx(158), cur], sign_up].concat(),
    ));
    for (name, bytes) in seeds {
        let path = dir.join(&name);
        if std::env::var_os("MTPROTO_WRITE_SEEDS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        assert_eq!(
            std::fs::read(&path).ok(),
            Some(bytes),
            "{name} differs from the code"
        );
        crate::fuzzing::tl_layers(&std::fs::read(&path).unwrap());
    }
}

#[test]
fn fields_sharing_a_flag_bit_are_written_together() {
    // account.initTakeoutSession: `files:flags.5?true file_max_size:flags.5?long` (int up to
    // layer 140). A size that does not fit layer 133's int leaves the field out, but `files`
    // still sets bit 5, so the size goes as 0 rather than missing (found by the tl_layers fuzzer).
    let mut request = Vec::new();
    crate::tl::write_u32(&mut request, 0x8ef3eab0);
    crate::tl::write_u32(&mut request, 1 << 5);
    crate::tl::write_i64(&mut request, 1 << 40);
    let old = transcode(&request, Ty::Query, Form::Layer(layer(158)), layer(133)).unwrap();
    let text = decode(&old, Ty::Query, Form::Layer(layer(133)))
        .unwrap()
        .to_string();
    assert_eq!(
        text,
        "account.initTakeoutSession#f05b4804 { files: true, file_max_size: 0 }"
    );
    // One that fits is kept.
    let mut request = request[..8].to_vec();
    crate::tl::write_i64(&mut request, 4096);
    let old = transcode(&request, Ty::Query, Form::Layer(layer(158)), layer(133)).unwrap();
    let text = decode(&old, Ty::Query, Form::Layer(layer(133)))
        .unwrap()
        .to_string();
    assert!(text.ends_with("file_max_size: 4096 }"), "{text}");
}
