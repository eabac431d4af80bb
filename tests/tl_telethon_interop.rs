//! Interop: TL values built and serialized by Telethon 1.45.0 in its layer, 229 (its schema
//! taken from `schema/index.tl`), decode with the generated types and re-encode to the same
//! bytes where layer 229 and the current layer share the constructor; the others go through
//! the layer tables: read in layer 229, moved to the current layer, decoded with the generated
//! types, and moved back to layer 229's bytes exactly.

mod common;

use std::collections::HashSet;
use std::process::Command;

use mtproto_auth::tl::layer::{self, Form, Layer, Ty};
use mtproto_auth::tl::{self, functions::Function, Deserializable, Serializable};

#[test]
fn telethon_values_decode_and_reencode_byte_identically() {
    let out = Command::new(common::python())
        .arg("tests/interop/telethon_values.py")
        .args(["schema/index.tl", "schema/mtproto.tl"])
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
    assert_eq!(common::json_field(header, "layer"), Some("229"));
    let telethon_layer = Layer::serving(229);
    assert_eq!(telethon_layer.number(), 229);
    let mut through_tables = 0;

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

        seen.insert(name.to_string());
        count += 1;
        if let Ok((got_id, value)) = tl::decode_any(&bytes) {
            assert_eq!(got_id, id, "{what}");
            assert_eq!(tl::name_for_id(id), Some(name), "{what}");
            assert_eq!(value.to_bytes(), bytes, "{what}: re-encoding differs");
            if let Ok(f) = Function::from_bytes(&bytes) {
                assert_eq!(f.name(), name, "{what}");
                assert_eq!(f.to_bytes(), bytes, "{what}");
            }
            continue;
        }
        // A value of layer 229 that the current layer writes otherwise.
        let Some(def) = layer::by_id(id, Form::Layer(telethon_layer)) else {
            // MTProto service values are the same in every layer: they must decode above.
            panic!("{what}: neither the current types nor layer 229 read it");
        };
        let ty = if def.function { Ty::Query } else { def.result };
        let current =
            match layer::transcode(&bytes, ty, Form::Layer(telethon_layer), Layer::CURRENT) {
                Ok(c) => c,
                // A constructor layer 230 dropped (inputPasskeyCredentialFirebasePNV): never sent.
                Err(layer::LayerError::NotInLayer { name, .. }) => {
                    assert!(
                        layer::variant(name, Layer::CURRENT).is_none(),
                        "{what}: {name}"
                    );
                    continue;
                }
                Err(e) => panic!("{what}: {e}"),
            };
        tl::decode_any(&current).unwrap_or_else(|e| panic!("{what}: current form: {e}"));
        let back = layer::transcode(&current, ty, Form::Layer(Layer::CURRENT), telethon_layer)
            .unwrap_or_else(|e| panic!("{what}: back: {e}"));
        assert_eq!(back, bytes, "{what}: layer 229 → current → 229 differs");
        through_tables += 1;
    }
    assert!(
        through_tables > 0,
        "no value differs between layer 229 and the current one"
    );

    // Everything the issue names is covered: every auth.* constructor, account.Password, User
    // (full and empty), Config and Updates.
    let index = std::fs::read_to_string(common::root().join("schema/index.tl")).unwrap();
    let history = codegen::layers::parse_index(&index).unwrap();
    let at = history.layers.iter().position(|&l| l == 229).unwrap();
    for e in history.entries.iter().filter(|e| e.layers & (1 << at) != 0) {
        let def = &e.def;
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
