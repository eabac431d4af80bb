//! AC-3 without a stock client: for each of several layers, a session declaring it signs a
//! number up, reads it back, logs a second session in (which pushes updates to the first) and
//! logs out, through the client library over TCP; every message the server sent is then checked
//! to hold only constructors that `schema/index.tl` lists for that layer, read independently of
//! the server's tables (parsed here with `codegen`).

mod common;

use std::collections::HashSet;

use common::TestServer;
use mtproto_auth::client::login::{with_init_layer, SignedIn};
use mtproto_auth::client::{Client, ConnectOptions};
use mtproto_auth::handshake::client::{ClientConfig, InnerData, RsaScheme};
use mtproto_auth::tl::layer::{self, Form, Layer};
use mtproto_auth::tl::{functions, name_for_id};
use mtproto_auth::transport::Framing;

const LAYERS: [i32; 10] = [133, 158, 163, 181, 198, 220, 222, 227, 229, 230];

/// The ids `index.tl` lists for the sampled layer serving `declared`.
fn ids_of_layer(declared: i32) -> HashSet<u32> {
    let text = std::fs::read_to_string(common::root().join("schema/index.tl")).unwrap();
    let history = codegen::layers::parse_index(&text).unwrap();
    let sampled = history
        .layers
        .iter()
        .rposition(|&l| l as i32 <= declared)
        .unwrap_or(0);
    history
        .entries
        .iter()
        .filter(|e| e.layers & (1 << sampled) != 0)
        .map(|e| e.def.id)
        .collect()
}

async fn connect(server: &TestServer) -> Client {
    let opts = ConnectOptions::new(server.addr(1), Framing::Intermediate);
    let cfg = ClientConfig {
        scheme: RsaScheme::RsaPad,
        inner: InnerData::Plain,
        keys: vec![server.public_key()],
    };
    Client::connect(&opts, &cfg).await.unwrap()
}

/// A client of `declared` that has sent its invokeWithLayer(initConnection(help.getConfig)).
async fn client_of_layer(server: &TestServer, declared: i32) -> Client {
    let mut c = connect(server).await;
    c.set_layer(declared);
    c.record();
    c.invoke(&with_init_layer(
        functions::help::GetConfig {},
        "layer test",
        declared,
    ))
    .await
    .unwrap();
    c
}

/// Every constructor the server sent `client`, with the layer's own reading of each message.
fn check_received(client: &Client, declared: i32, allowed: &HashSet<u32>) -> HashSet<&'static str> {
    let rec = client.recorded().unwrap();
    let form = Form::Layer(Layer::serving(declared));
    let mut seen = HashSet::new();
    for body in &rec.received {
        let id = u32::from_le_bytes(body[..4].try_into().unwrap());
        let payload_and_type = match id {
            // rpc_result: the answer's type is the request's.
            0xf35c6d01 => {
                let req = i64::from_le_bytes(body[4..12].try_into().unwrap());
                let (_, sent) = rec.sent.iter().find(|(m, _)| *m == req).unwrap();
                let mut result = body[12..].to_vec();
                if let Some(unpacked) = mtproto_auth::session::gzip::unpack(&result, 1 << 20) {
                    result = unpacked.unwrap();
                }
                let rpc_error = 0x2144ca19u32.to_le_bytes();
                match layer::answer_type(sent, form) {
                    Some(_) if result[..4] == rpc_error => continue,
                    Some(ty) => (result, ty),
                    // A service function wrapped (ping in invokeWithoutUpdates): not API.
                    None => continue,
                }
            }
            // MTProto service messages are the same in every layer.
            _ if name_for_id(id).is_some() && layer::by_id(id, Form::Any).is_none() => continue,
            _ => (body.clone(), layer::type_named("Updates").unwrap()),
        };
        let (payload, ty) = payload_and_type;
        let value = layer::decode(&payload, ty, form)
            .unwrap_or_else(|e| panic!("layer {declared}: a message not in the layer's form: {e}"));
        value.each_object(&mut |def| {
            assert!(
                allowed.contains(&def.id),
                "layer {declared}: {}#{:08x} is not in index.tl for this layer",
                def.name,
                def.id
            );
            seen.insert(def.name);
        });
    }
    seen
}

#[test]
fn every_layer_signs_up_and_logs_in_in_its_own_constructors() {
    let server = TestServer::start(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for (i, &declared) in LAYERS.iter().enumerate() {
            let phone = format!("999661{:04}", 3000 + i);
            let code = "11111";
            let mut first = client_of_layer(&server, declared).await;
            let sent = first.send_code(&phone).await.unwrap();
            let step = first
                .sign_in(&phone, &sent.phone_code_hash, code)
                .await
                .unwrap();
            assert_eq!(step, SignedIn::SignUpRequired, "layer {declared}");
            let user = first
                .sign_up(
                    &phone,
                    &sent.phone_code_hash,
                    "Layer",
                    &declared.to_string(),
                )
                .await
                .unwrap();
            let me = first.get_me().await.unwrap();
            assert_eq!(
                (me.id, me.last_name.as_deref()),
                (user.id, Some(&*declared.to_string()))
            );
            first
                .invoke(&functions::updates::GetState {})
                .await
                .unwrap();

            // A second session logs the number in: the first hears of the code and of the new
            // login (updateNewAuthorization exists from layer 163 on; index.tl first lists it
            // at 164, so 163 is served as 162 and never gets it).
            let mut second = client_of_layer(&server, declared).await;
            let sent = second.send_code(&phone).await.unwrap();
            assert!(
                sent.in_app,
                "layer {declared}: the code goes to the logged-in session"
            );
            let step = second
                .sign_in(&phone, &sent.phone_code_hash, code)
                .await
                .unwrap();
            assert!(matches!(step, SignedIn::User(_)), "layer {declared}");
            let gets_new_authorization = Layer::serving(declared).number() >= 164;
            let mut updates = vec![first.next_update().await.unwrap()];
            if gets_new_authorization {
                updates.push(first.next_update().await.unwrap());
            }
            // Anything pushed after that would be seen by the ping's round trip.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            first.ping(1).await.unwrap();
            second.log_out().await.unwrap();
            first.log_out().await.unwrap();

            let allowed = ids_of_layer(declared);
            let seen = check_received(&first, declared, &allowed);
            check_received(&second, declared, &allowed);
            for name in [
                "config",
                "auth.sentCode",
                "auth.authorization",
                "user",
                "updates.state",
            ] {
                assert!(
                    seen.contains(name),
                    "layer {declared}: no {name} checked: {seen:?}"
                );
            }
            assert!(
                seen.contains("updateServiceNotification"),
                "layer {declared}"
            );
            assert_eq!(
                seen.contains("updateNewAuthorization"),
                gets_new_authorization,
                "layer {declared}: {seen:?}"
            );
            // The updates the client read were turned into current types from that layer.
            assert!(!updates.is_empty());
        }
    });
}
