//! Interop: TL values built and serialized by Telethon 1.45.0 (layer 229) decode with the
//! generated types and re-encode to the same bytes.

mod common;

use std::collections::HashSet;
use std::process::Command;

use mtproto_auth::tl::{self, functions::Function, Deserializable, Serializable};

#[test]
fn telethon_values_decode_and_reencode_byte_identically() {
    let out = Command::new(common::python())
        .arg("tests/interop/telethon_values.py")
        .args(["schema/api.tl", "schema/mtproto.tl"])
        .current_dir(common::root())
        .output()
        .expect("run tests/interop/telethon_values.py");
    assert!(
        out.status.success(),
        "telethon_values.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    let mut lines = stdout.lines();
    let header = lines.next().expect("a header line");
    assert_eq!(common::json_field(header, "telethon"), Some("1.45.0"));
    assert_eq!(
        common::json_field(header, "layer"),
        Some(tl::LAYER.to_string().as_str())
    );

    let mut seen = HashSet::new();
    let mut count = 0;
    for line in lines {
        let name = common::json_field(line, "name").expect("name");
        let variant = common::json_field(line, "variant").expect("variant");
        let id: u32 = common::json_field(line, "id")
            .expect("id")
            .parse()
            .expect("numeric id");
        let bytes = common::hex(common::json_field(line, "hex").expect("hex"));
        let what = format!("{name} ({variant})");

        let (got_id, value) = tl::decode_any(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(got_id, id, "{what}");
        assert_eq!(tl::name_for_id(id), Some(name), "{what}");
        assert_eq!(value.to_bytes(), bytes, "{what}: re-encoding differs");

        if let Ok(f) = Function::from_bytes(&bytes) {
            assert_eq!(f.name(), name, "{what}");
            assert_eq!(f.to_bytes(), bytes, "{what}");
        }
        seen.insert(name.to_string());
        count += 1;
    }

    // Everything the issue names is covered: every auth.* constructor, account.Password, User
    // (full and empty), Config and Updates.
    let schema = std::fs::read_to_string(common::root().join("schema/api.tl")).unwrap();
    let schema = codegen::parse(&schema).unwrap();
    for def in &schema.definitions {
        let name = def.full_name();
        let result = def.result.full_name();
        let wanted = def.category == codegen::Category::Type
            && (name.starts_with("auth.")
                || ["account.Password", "User", "Config", "Updates"].contains(&result.as_str()));
        if wanted {
            assert!(seen.contains(&name), "no Telethon value for {name}");
        }
    }
    assert!(count >= 190, "only {count} values");
}

#[test]
fn typed_decoding_of_the_values_clients_send_first() {
    // users.getUsers([inputUserSelf]) as Telethon 1.45 serializes it.
    let bytes = common::hex("48a5910d 15c4b51c 01000000 3fb1c1f7");
    let Function::UsersGetUsers(req) = Function::from_bytes(&bytes).unwrap() else {
        panic!("not users.getUsers");
    };
    assert_eq!(
        req.id,
        vec![tl::enums::InputUser::InputUserSelf(
            tl::types::InputUserSelf {}
        )]
    );
    assert_eq!(req.to_bytes(), bytes);
}
