//! `mtproto-auth login --phone NUMBER`: an interactive phone login against a running server,
//! through the client library. It asks for the code (and for a name when the number is new),
//! follows PHONE_MIGRATE_X to the number's DC through help.getConfig, and prints the user.

use std::io::{BufRead, Write};
use std::net::SocketAddr;

use crate::client::login::{phone_migrate_dc, with_init, CodeSent, SignedIn};
use crate::client::{Client, ClientError, ConnectOptions};
use crate::crypto::rsa::RsaPublicKey;
use crate::handshake::client::{ClientConfig, InnerData, RsaScheme};
use crate::tl::{enums, functions, types};
use crate::transport::Framing;

pub struct LoginOptions {
    /// Empty for a QR login.
    pub phone: String,
    /// The DC to start on and its address.
    pub addr: SocketAddr,
    pub dc: i32,
    pub public_key: RsaPublicKey,
}

/// Tries a code or a name gets before the command gives up.
pub(super) const MAX_PROMPTS: usize = 5;

pub(super) fn rpc_text(e: &ClientError) -> Option<&str> {
    match e {
        ClientError::Rpc(r) => Some(r.message.as_str()),
        _ => None,
    }
}

pub(super) struct Session {
    pub(super) client: Client,
    pub(super) dc: i32,
    pub(super) addr: SocketAddr,
    pub(super) dcs: Vec<(i32, SocketAddr)>,
}

impl Session {
    /// The address help.getConfig gave for DC `dc` (`why` names the error that sent us there).
    pub(super) fn addr_of(&self, dc: i32, why: &str) -> Result<SocketAddr, String> {
        self.dcs
            .iter()
            .find(|(id, _)| *id == dc)
            .map(|(_, a)| *a)
            .ok_or_else(|| format!("{why}, but the server names no DC {dc}"))
    }
}

pub(super) async fn connect(
    opts: &LoginOptions,
    dc: i32,
    addr: SocketAddr,
) -> Result<Session, String> {
    let cfg = ClientConfig {
        scheme: RsaScheme::RsaPad,
        inner: InnerData::Plain,
        keys: vec![opts.public_key.clone()],
    };
    let mut client = Client::connect(&ConnectOptions::new(addr, Framing::Intermediate), &cfg)
        .await
        .map_err(|e| format!("connecting to DC {dc} at {addr}: {e}"))?;
    let enums::Config::Config(config) = client
        .invoke(&with_init(
            functions::help::GetConfig {},
            "mtproto-auth login",
        ))
        .await
        .map_err(|e| format!("help.getConfig: {e}"))?;
    let dcs = config
        .dc_options
        .iter()
        .filter_map(|enums::DcOption::DcOption(o)| {
            let ip: std::net::IpAddr = o.ip_address.parse().ok()?;
            Some((o.id, SocketAddr::new(ip, o.port as u16)))
        })
        .collect();
    Ok(Session {
        client,
        dc,
        addr,
        dcs,
    })
}

fn ask(input: &mut dyn BufRead, output: &mut dyn Write, prompt: &str) -> Result<String, String> {
    write!(output, "{prompt}").map_err(|e| e.to_string())?;
    output.flush().map_err(|e| e.to_string())?;
    let mut line = String::new();
    if input.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
        return Err("input ended".into());
    }
    Ok(line.trim().to_string())
}

/// Runs the login; returns the user.
/// After a right code for an account with a cloud password: asks for it (showing its hint)
/// until auth.checkPassword takes it.
pub(super) async fn password_step(
    s: &mut Session,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Result<types::User, String> {
    let p = s
        .client
        .get_password()
        .await
        .map_err(|e| format!("account.getPassword: {e}"))?;
    let hint = p.hint.map(|h| format!(" (hint: {h})")).unwrap_or_default();
    writeln!(output, "This account has a password{hint}.").map_err(|e| e.to_string())?;
    for _ in 0..MAX_PROMPTS {
        let password = ask(input, output, "Password: ")?;
        match s.client.check_password(&password).await {
            Ok(user) => return Ok(user),
            Err(e) if rpc_text(&e) == Some("PASSWORD_HASH_INVALID") => {
                writeln!(output, "That password is not right; try again.")
                    .map_err(|e| e.to_string())?;
            }
            Err(e) => return Err(format!("auth.checkPassword: {e}")),
        }
    }
    Err("too many wrong passwords".into())
}

/// sendCode answered auth.sentCodeTypeSetUpEmailRequired: asks for an address and the code it
/// got; the login code then goes there.
async fn set_up_login_email(
    s: &mut Session,
    phone: &str,
    hash: &str,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Result<CodeSent, String> {
    writeln!(output, "This server asks new accounts for a login email.")
        .map_err(|e| e.to_string())?;
    for _ in 0..MAX_PROMPTS {
        let email = ask(input, output, "Login email: ")?;
        match s
            .client
            .send_verify_email_code(Client::login_setup(phone, hash), &email)
            .await
        {
            Ok(_) => break,
            Err(e) if rpc_text(&e) == Some("EMAIL_INVALID") => {
                writeln!(output, "That is not an email address; try again.")
                    .map_err(|e| e.to_string())?;
            }
            Err(e) => return Err(format!("account.sendVerifyEmailCode: {e}")),
        }
    }
    for _ in 0..MAX_PROMPTS {
        let code = ask(
            input,
            output,
            "Code from the email (the server's emails.txt): ",
        )?;
        match s
            .client
            .verify_email(Client::login_setup(phone, hash), &code)
            .await
        {
            Ok((_, Some(sent))) => return Ok(sent),
            Ok((email, None)) => return Err(format!("{email} verified, but no login code sent")),
            Err(e) if rpc_text(&e) == Some("CODE_INVALID") => {
                writeln!(output, "That code is not right; try again.")
                    .map_err(|e| e.to_string())?;
            }
            Err(e) => return Err(format!("account.verifyEmail: {e}")),
        }
    }
    Err("too many tries at the login email".into())
}

pub async fn login(
    opts: &LoginOptions,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Result<types::User, String> {
    let say = |output: &mut dyn Write, text: String| {
        writeln!(output, "{text}").map_err(|e| e.to_string())
    };
    let mut s = connect(opts, opts.dc, opts.addr).await?;
    let sent = match s.client.send_code(&opts.phone).await {
        Ok(sent) => sent,
        Err(e) => {
            let Some(home) = phone_migrate_dc(&e) else {
                return Err(format!("auth.sendCode: {e}"));
            };
            let addr = s.addr_of(home, &format!("PHONE_MIGRATE_{home}"))?;
            say(
                output,
                format!("The number lives on DC {home}; connecting to {addr}"),
            )?;
            s = connect(opts, home, addr).await?;
            s.client
                .send_code(&opts.phone)
                .await
                .map_err(|e| format!("auth.sendCode on DC {home}: {e}"))?
        }
    };
    let sent = if sent.email_setup_required {
        set_up_login_email(&mut s, &opts.phone, &sent.phone_code_hash, input, output).await?
    } else {
        sent
    };
    let via = match (&sent.email_pattern, sent.in_app) {
        (Some(pattern), _) => format!("to the login email {pattern} (the server's emails.txt)"),
        (None, true) => "to your other sessions and the server's outbox".into(),
        (None, false) => "to the server's outbox".into(),
    };
    say(
        output,
        format!("A {}-digit code was sent {via}.", sent.length),
    )?;
    let by_email = sent.email_pattern.is_some();
    let hash = sent.phone_code_hash;
    let mut step = None;
    for _ in 0..MAX_PROMPTS {
        let code = ask(input, output, "Code: ")?;
        let signed_in = if by_email {
            s.client.sign_in_by_email(&opts.phone, &hash, &code).await
        } else {
            s.client.sign_in(&opts.phone, &hash, &code).await
        };
        match signed_in {
            Ok(done) => {
                step = Some(done);
                break;
            }
            Err(e) if rpc_text(&e) == Some("SESSION_PASSWORD_NEEDED") => {
                step = Some(SignedIn::User(Box::new(
                    password_step(&mut s, input, output).await?,
                )));
                break;
            }
            Err(e)
                if matches!(
                    rpc_text(&e),
                    Some("PHONE_CODE_INVALID" | "PHONE_CODE_EMPTY")
                ) =>
            {
                say(output, "That code is not right; try again.".into())?;
            }
            Err(e) => return Err(format!("auth.signIn: {e}")),
        }
    }
    let user = match step.ok_or("too many wrong codes")? {
        SignedIn::User(u) => *u,
        SignedIn::SignUpRequired => {
            say(output, "This number has no account yet; signing up.".into())?;
            let mut user = None;
            for _ in 0..MAX_PROMPTS {
                let first = ask(input, output, "First name: ")?;
                let last = ask(input, output, "Last name (optional): ")?;
                match s.client.sign_up(&opts.phone, &hash, &first, &last).await {
                    Ok(u) => {
                        user = Some(u);
                        break;
                    }
                    Err(e)
                        if matches!(
                            rpc_text(&e),
                            Some("FIRSTNAME_INVALID" | "LASTNAME_INVALID")
                        ) =>
                    {
                        say(output, format!("{e}; names are 1–64 characters."))?;
                    }
                    Err(e) => return Err(format!("auth.signUp: {e}")),
                }
            }
            user.ok_or("no valid name given")?
        }
    };
    logged_in(output, &s, &user)?;
    Ok(user)
}

/// The closing line: who is logged in, where, under which key.
pub(super) fn logged_in(
    output: &mut dyn Write,
    s: &Session,
    user: &types::User,
) -> Result<(), String> {
    let name = format!(
        "{} {}",
        user.first_name.as_deref().unwrap_or(""),
        user.last_name.as_deref().unwrap_or("")
    );
    let who = if user.bot {
        format!("bot @{}", user.username.as_deref().unwrap_or("-"))
    } else {
        format!("phone +{}", user.phone.as_deref().unwrap_or("?"))
    };
    writeln!(
        output,
        "Logged in as {} (user id {}, {who}) on DC {} at {}; auth key {:016x}",
        name.trim(),
        user.id,
        s.dc,
        s.addr,
        s.client.auth_key().id() as u64
    )
    .map_err(|e| e.to_string())
}
