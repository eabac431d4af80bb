//! DC transfer over TCP with the client library: a login exported on the user's DC 2 and
//! imported by a new key on DC 3, listed among the user's sessions at home, refused the user's
//! own requests on DC 3 (USER_MIGRATE_2), and good only once.

mod common;

use common::{rpc_error, TestServer};
use mtproto_auth::client::login::SignedIn;
use mtproto_auth::transport::Framing;

#[test]
fn a_login_exported_on_dc_2_is_imported_on_dc_3() {
    let server = TestServer::start(3);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let phone = "9996629191";
            let mut home = server.client(2, Framing::Intermediate).await;
            let sent = home.send_code(phone).await.unwrap();
            assert_eq!(
                home.sign_in(phone, &sent.phone_code_hash, "22222")
                    .await
                    .unwrap(),
                SignedIn::SignUpRequired
            );
            let me = home
                .sign_up(phone, &sent.phone_code_hash, "Dc", "Hopper")
                .await
                .unwrap();
            let e = home.export_authorization(2).await.unwrap_err();
            assert_eq!(rpc_error(e), (400, "DC_ID_INVALID".into()));
            let (id, bytes) = home.export_authorization(3).await.unwrap();
            assert_eq!(id, me.id);
            let mut away = server.client(3, Framing::Abridged).await;
            let e = away
                .import_authorization(id, vec![1; 32])
                .await
                .unwrap_err();
            assert_eq!(rpc_error(e), (400, "AUTH_BYTES_INVALID".into()));
            assert_eq!(
                away.import_authorization(id, bytes.clone())
                    .await
                    .unwrap()
                    .id,
                me.id
            );
            assert_eq!(away.get_me().await.unwrap().id, me.id);
            let e = away.get_password().await.unwrap_err();
            assert_eq!(rpc_error(e), (303, "USER_MIGRATE_2".into()));
            let mut again = server.client(3, Framing::Intermediate).await;
            let e = again.import_authorization(id, bytes).await.unwrap_err();
            assert_eq!(rpc_error(e), (400, "AUTH_BYTES_INVALID".into()));
            let enums_list = home
                .invoke(&mtproto_auth::tl::functions::account::GetAuthorizations {})
                .await
                .unwrap();
            let mtproto_auth::tl::enums::account::Authorizations::Authorizations(list) = enums_list;
            assert_eq!(list.authorizations.len(), 2);
        });
}
