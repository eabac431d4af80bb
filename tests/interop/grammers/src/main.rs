//! grammers 0.11.0 (layer 230) signs a test number up against our server (raw auth.sendCode,
//! auth.signIn and auth.signUp: grammers has no sign-up helper), reads it back with `get_me`,
//! updates.getState, `sign_out`, then logs back in on a fresh session with its own flow:
//! `request_login_code` (which follows PHONE_MIGRATE_X by itself) and `sign_in`. grammers decodes every answer with its
//! own layer-230 types: an answer it cannot read is an error here. Prints one JSON line.
//!
//! usage: grammers-interop HOME_DC START_DC PHONE DC=HOST:PORT...
//!
//! The sign-up runs on HOME_DC, the number's DC; the log-in starts on START_DC and follows
//! PHONE_MIGRATE_X as grammers does.

use std::net::{SocketAddrV4, SocketAddrV6};
use std::sync::Arc;
use std::time::Duration;

use grammers_client::{tl, Client};
use grammers_mtsender::SenderPool;
use grammers_session::storages::MemorySession;
use grammers_session::types::DcOption;
use grammers_session::Session;

type Error = Box<dyn std::error::Error + Send + Sync>;

const API_ID: i32 = 12345;
const API_HASH: &str = "0123456789abcdef0123456789abcdef";

/// A fresh in-memory session that knows our DCs and starts on `home`.
async fn session(home: i32, dcs: &[(i32, SocketAddrV4)]) -> Result<Arc<MemorySession>, Error> {
    let session = Arc::new(MemorySession::default());
    for &(id, ipv4) in dcs {
        let option = DcOption {
            id,
            ipv4,
            ipv6: SocketAddrV6::new(ipv4.ip().to_ipv6_mapped(), ipv4.port(), 0, 0),
            auth_key: None,
        };
        session.set_dc_option(&option).await?;
    }
    session.set_home_dc_id(home).await?;
    Ok(session)
}

/// A client over `session`, its sender pool running on this runtime.
fn client(session: &Arc<MemorySession>) -> Client {
    let pool = SenderPool::new(Arc::clone(session), API_ID);
    let client = Client::new(pool.handle);
    tokio::spawn(pool.runner.run());
    client
}

async fn walk(
    home: i32,
    start: i32,
    phone: &str,
    dcs: &[(i32, SocketAddrV4)],
) -> Result<String, Error> {
    let code = phone[5..6].repeat(5);
    let mut out = Vec::<(String, String)>::new();
    let mut put = |k: &str, v: String| out.push((k.to_string(), v));

    // The sign-up, on the number's own DC: grammers has no helper for it, so raw requests.
    let s = session(home, dcs).await?;
    let c = client(&s);
    put("authorized_before", c.is_authorized().await?.to_string());
    let sent = c
        .invoke(&tl::functions::auth::SendCode {
            phone_number: phone.to_string(),
            api_id: API_ID,
            api_hash: API_HASH.to_string(),
            settings: tl::types::CodeSettings {
                allow_flashcall: false,
                current_number: false,
                allow_app_hash: false,
                allow_missed_call: false,
                allow_firebase: false,
                logout_tokens: None,
                token: None,
                app_sandbox: None,
                unknown_number: false,
            }
            .into(),
        })
        .await?;
    let tl::enums::auth::SentCode::Code(sent) = sent else {
        return Err("sendCode: not auth.sentCode".into());
    };
    let step = c
        .invoke(&tl::functions::auth::SignIn {
            phone_number: phone.to_string(),
            phone_code_hash: sent.phone_code_hash.clone(),
            phone_code: Some(code.clone()),
            email_verification: None,
        })
        .await?;
    put(
        "sign_in",
        match step {
            tl::enums::auth::Authorization::SignUpRequired(_) => "signup required",
            tl::enums::auth::Authorization::Authorization(_) => "signed in",
        }
        .into(),
    );
    let signed_up = c
        .invoke(&tl::functions::auth::SignUp {
            no_joined_notifications: false,
            phone_number: phone.to_string(),
            phone_code_hash: sent.phone_code_hash,
            first_name: "Gram".into(),
            last_name: "Mers".into(),
        })
        .await?;
    put(
        "sign_up",
        matches!(signed_up, tl::enums::auth::Authorization::Authorization(_)).to_string(),
    );
    let me = c.get_me().await?;
    let id = me.id().bare_id().unwrap_or_default();
    put("user_id", id.to_string());
    put("first_name", me.first_name().unwrap_or_default().to_string());
    put("phone", me.phone().unwrap_or_default().to_string());
    put("is_self", me.is_self().to_string());
    let state = c
        .invoke(&tl::functions::updates::GetState {})
        .await?;
    put("state_date", (state_date(&state) > 0).to_string());
    c.sign_out().await?;
    put("authorized_after_logout", c.is_authorized().await?.to_string());
    c.disconnect();

    // The log-in with grammers' own flow, from `start` (PHONE_MIGRATE_X when that is not home).
    let s = session(start, dcs).await?;
    let c = client(&s);
    let token = c.request_login_code(phone, API_HASH).await?;
    let user = c
        .sign_in(&token, &code)
        .await
        .map_err(|e| format!("relogin: {e}"))?;
    put("relogin_user_id", user.id().bare_id().unwrap_or_default().to_string());
    put(
        "relogin_get_me",
        c.get_me().await?.id().bare_id().unwrap_or_default().to_string(),
    );
    put("relogin_home_dc", s.home_dc_id()?.to_string());
    c.disconnect();

    let fields: Vec<String> = out
        .iter()
        .map(|(k, v)| format!("\"{k}\": \"{v}\""))
        .collect();
    Ok(format!("{{{}}}", fields.join(", ")))
}

fn state_date(state: &tl::enums::updates::State) -> i32 {
    let tl::enums::updates::State::State(s) = state;
    s.date
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let home: i32 = args[0].parse().expect("HOME_DC");
    let start: i32 = args[1].parse().expect("START_DC");
    let phone = args[2].clone();
    let dcs: Vec<(i32, SocketAddrV4)> = args[3..]
        .iter()
        .map(|a| {
            let (id, addr) = a.split_once('=').expect("DC=HOST:PORT");
            (id.parse().expect("DC"), addr.parse().expect("HOST:PORT"))
        })
        .collect();
    match tokio::time::timeout(Duration::from_secs(60), walk(home, start, &phone, &dcs)).await {
        Ok(Ok(line)) => println!("{line}"),
        Ok(Err(e)) => {
            println!("{{\"error\": \"{}\"}}", e.to_string().replace('"', "'"));
            std::process::exit(3);
        }
        Err(_) => {
            println!("{{\"error\": \"timeout\"}}");
            std::process::exit(3);
        }
    }
}
