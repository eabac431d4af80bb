//! What serving an older layer costs per answer (`cargo bench --bench layers`): the handlers'
//! current-layer bytes re-encoded for the client's layer (AC-3), against serializing the same
//! value in the current layer, measured in the same run. The values are what a login answers:
//! `auth.authorization` with the user, and `config`.

use criterion::{criterion_group, criterion_main, Criterion};
use mtproto_auth::store::records::User;
use mtproto_auth::tl::layer::{self, Layer};
use mtproto_auth::tl::{functions, types, Deserializable, Identifiable, Serializable};
use std::hint::black_box;

fn authorization() -> Vec<u8> {
    let user = User {
        id: 9_996_611_234,
        access_hash: 77,
        phone: "9996611234".into(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        home_dc: 1,
        created: 1_700_000_000,
        ..Default::default()
    };
    let auth: mtproto_auth::tl::enums::auth::Authorization = types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: None,
        user: mtproto_auth::rpc::user_object(&user, true),
    }
    .into();
    auth.to_bytes()
}

fn answers(c: &mut Criterion) {
    let sign_in = functions::auth::SignIn::CONSTRUCTOR_ID;
    let bytes = authorization();
    let value = bytes.clone();
    let mut group = c.benchmark_group("answer auth.signIn");
    group.bench_function("serialize (current layer)", |b| {
        let v = mtproto_auth::tl::enums::auth::Authorization::from_bytes(&value).unwrap();
        b.iter(|| black_box(&v).to_bytes())
    });
    for n in [229, 198, 158] {
        group.bench_function(format!("re-encode for layer {n}"), |b| {
            b.iter(|| {
                layer::answer_for_layer(sign_in, black_box(bytes.clone()), Layer::serving(n))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, answers);
criterion_main!(benches);
