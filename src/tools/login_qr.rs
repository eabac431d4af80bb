//! `mtproto-auth login --qr`: a QR login [doc: api/qr-login] as a desktop app does it. The
//! command exports a login token, prints its `tg://login?token=…` link and the QR code of it in
//! the terminal, and waits for a logged-in session to accept it (a new token every 30 s, as the
//! old one expires); then it is logged in, or follows loginTokenMigrateTo to the user's DC and
//! imports the token there, and asks for the password of an account that has one.

use std::io::{BufRead, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::login::{connect, logged_in, password_step, rpc_text, LoginOptions, Session};
use crate::client::qr::{login_url, QrLogin};
use crate::client::ClientError;
use crate::tl::types;

/// Tokens shown before the command gives up (five minutes of 30-second codes).
const MAX_TOKENS: usize = 10;

/// `text` as a QR code in terminal characters: two modules a character (upper and lower half
/// blocks), dark on the terminal's background, with the quiet zone the standard asks for.
pub fn render(text: &str) -> String {
    use qrcodegen::{QrCode, QrCodeEcc};
    let Ok(qr) = QrCode::encode_text(text, QrCodeEcc::Low) else {
        return String::new();
    };
    let quiet = 2;
    let size = qr.size();
    // Light modules are drawn as blocks so that the code reads on a dark terminal.
    let light =
        |x: i32, y: i32| !(0..size).contains(&x) || !(0..size).contains(&y) || !qr.get_module(x, y);
    let mut out = String::new();
    let mut y = -quiet;
    while y < size + quiet {
        for x in -quiet..size + quiet {
            out.push(match (light(x, y), light(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
        y += 2;
    }
    out
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn say(output: &mut dyn Write, text: &str) -> Result<(), String> {
    writeln!(output, "{text}").map_err(|e| e.to_string())?;
    output.flush().map_err(|e| e.to_string())
}

/// The password step when the account has one, else `answer`'s user.
async fn ended(
    s: &mut Session,
    answer: Result<QrLogin, ClientError>,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Result<QrLogin, String> {
    match answer {
        Ok(a) => Ok(a),
        Err(e) if rpc_text(&e) == Some("SESSION_PASSWORD_NEEDED") => {
            let user = password_step(s, input, output).await?;
            Ok(QrLogin::LoggedIn(Box::new(user)))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Runs the QR login; returns the user.
pub async fn qr_login(
    opts: &LoginOptions,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Result<types::User, String> {
    let mut s = connect(opts, opts.dc, opts.addr).await?;
    for _ in 0..MAX_TOKENS {
        let answer = s.client.export_login_token(Vec::new()).await;
        let answer = ended(&mut s, answer, input, output).await?;
        match answer {
            QrLogin::Token { token, expires } => {
                let url = login_url(&token);
                say(
                    output,
                    &format!(
                        "Scan this with a logged-in app, or accept the link from a logged-in \
                         session (auth.acceptLoginToken):\n{}{url}",
                        render(&url)
                    ),
                )?;
                let left = (i64::from(expires) - now()).clamp(1, 60) as u64;
                match tokio::time::timeout(Duration::from_secs(left), s.client.wait_login_token())
                    .await
                {
                    Ok(Ok(())) => say(output, "Accepted.")?,
                    Ok(Err(e)) => return Err(format!("waiting for the token: {e}")),
                    Err(_) => say(output, "The code expired; here is a new one.")?,
                }
            }
            QrLogin::MigrateTo { dc_id, token } => {
                let addr = s.addr_of(dc_id, &format!("loginTokenMigrateTo DC {dc_id}"))?;
                say(
                    output,
                    &format!("The account lives on DC {dc_id}; connecting to {addr}"),
                )?;
                s = connect(opts, dc_id, addr).await?;
                let imported = s.client.import_login_token(&token).await;
                if let QrLogin::LoggedIn(user) = ended(&mut s, imported, input, output).await? {
                    logged_in(output, &s, &user)?;
                    return Ok(*user);
                }
                return Err("auth.importLoginToken did not log in".into());
            }
            QrLogin::LoggedIn(user) => {
                logged_in(output, &s, &user)?;
                return Ok(*user);
            }
        }
    }
    Err("no session accepted the QR code".into())
}
