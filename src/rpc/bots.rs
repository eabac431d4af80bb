//! Bots [doc: method/auth.importBotAuthorization; bots "Creating a new bot"]: operators create
//! them (`mtproto-auth bots create`), each a user with the bot flag, a name, an optional unique
//! username ending in "bot", and a token `BOT_ID:SECRET` (32 random bytes in base64url, kept as
//! SHA256). auth.importBotAuthorization logs a key in as the bot on its home DC
//! (USER_MIGRATE_X elsewhere, as Telegram); a revoked token answers ACCESS_TOKEN_EXPIRED. Bots
//! may not call the user-only account and login methods (BOT_METHOD_INVALID).

use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::auth::{log_in, new_user_id, nonzero_i64};
use super::{RpcContext, RpcError};
use crate::crypto::sha256;
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt, Read};
use crate::store::records::{bot_token_key, encode_i64, user_key, username_key, BotToken, User};
use crate::store::{Batch, Commit, Store};
use crate::tl::{enums, functions};

/// Bytes of a token's secret.
const SECRET_LEN: usize = 32;
/// The longest token looked at.
const MAX_TOKEN_LEN: usize = 128;
/// A bot's name, as a user's first name.
const MAX_NAME_CHARS: usize = 64;

/// Whether `name` is a user-only account or login method, which a bot may not call
/// (BOT_METHOD_INVALID).
pub fn refused_for_bots(name: &str) -> bool {
    const OPEN: &[&str] = &[
        "auth.logOut",
        "auth.exportAuthorization",
        "auth.importAuthorization",
    ];
    (name.starts_with("account.") || name.starts_with("auth.")) && !OPEN.contains(&name)
}

/// A username Telegram would give a bot: 5–32 of `[A-Za-z0-9_]`, a letter first, "bot" last.
pub fn valid_username(u: &str) -> bool {
    (5..=32).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && u.as_bytes()[0].is_ascii_alphabetic()
        && u.to_ascii_lowercase().ends_with("bot")
}

/// A new bot and its token (shown once; only its hash is kept).
#[derive(Debug)]
pub struct NewBot {
    pub user: User,
    pub token: String,
}

/// Creates a bot on `home_dc` (durable when it returns).
pub fn create(
    store: &dyn Store,
    rng: &mut dyn Rng,
    name: &str,
    username: Option<&str>,
    home_dc: i32,
    now: i64,
) -> Result<NewBot, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err("a bot's name is 1–64 characters".into());
    }
    let username = username.map(str::trim).filter(|u| !u.is_empty());
    if let Some(u) = username {
        if !valid_username(u) {
            return Err(format!(
                "username {u:?}: 5–32 letters, digits and _, a letter first, ending in \"bot\""
            ));
        }
    }
    let acc = Accounts::new(store);
    let e = |e: crate::store::StoreError| e.to_string();
    let mut secret = [0u8; SECRET_LEN];
    rng.fill(&mut secret);
    let user = User {
        id: new_user_id(rng),
        access_hash: nonzero_i64(rng),
        phone: String::new(),
        first_name: name.into(),
        last_name: String::new(),
        home_dc,
        created: now,
        bot: true,
        username: username.unwrap_or_default().into(),
    };
    let mut b = Batch::default();
    b.swap(user_key(user.id), None, Some(user.encode()));
    if let Some(u) = username {
        b.swap(username_key(u), None, Some(encode_i64(user.id)));
    }
    let token = BotToken {
        secret_hash: sha256(&[&secret]),
        created: now,
        revoked: false,
    };
    b.swap(bot_token_key(user.id), None, Some(token.encode()));
    match acc.commit(&b).map_err(e)? {
        Commit::Applied { .. } => {}
        Commit::Conflict => {
            return Err(match username {
                Some(u) if acc.user_by_username(u).map_err(e)?.is_some() => {
                    format!("username @{u} is taken")
                }
                _ => "the bot could not be stored; try again".into(),
            })
        }
    }
    store.sync().map_err(|e| e.to_string())?;
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    Ok(NewBot {
        token: format!("{}:{secret}", user.id),
        user,
    })
}

/// Revokes a bot's token and ends its sessions (durable when it returns); how many ended.
pub fn revoke(store: &dyn Store, bot_id: i64, now: i64) -> Result<usize, String> {
    let acc = Accounts::new(store);
    let e = |e: crate::store::StoreError| e.to_string();
    let old = acc
        .bot_token(bot_id)
        .map_err(e)?
        .ok_or_else(|| format!("no bot with id {bot_id}"))?;
    let revoked = BotToken {
        revoked: true,
        ..old.value.clone()
    };
    let mut b = Batch::default();
    b.swap(
        bot_token_key(bot_id),
        Some(&old.raw),
        Some(revoked.encode()),
    );
    if !matches!(acc.commit(&b).map_err(e)?, Commit::Applied { .. }) {
        return Err("the bot changed meanwhile; try again".into());
    }
    let ended = acc
        .end_authorizations(|a| a.authorizations_of(bot_id), Some(now))
        .map_err(e)?;
    store.sync().map_err(|e| e.to_string())?;
    Ok(ended)
}

fn token_invalid() -> RpcError {
    RpcError::new(400, "ACCESS_TOKEN_INVALID")
}

/// The bot a token names, if its secret is right (ACCESS_TOKEN_INVALID otherwise,
/// ACCESS_TOKEN_EXPIRED once revoked).
fn bot_of(acc: &Accounts<'_>, token: &str) -> Result<(User, Read<BotToken>), RpcError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(token_invalid());
    }
    let (id, secret) = token.split_once(':').ok_or_else(token_invalid)?;
    let id: i64 = id
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(token_invalid)?;
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(secret)
        .map_err(|_| token_invalid())?;
    let stored = acc.bot_token(id)?.ok_or_else(token_invalid)?;
    if !bool::from(sha256(&[&secret]).ct_eq(&stored.value.secret_hash)) {
        return Err(token_invalid());
    }
    if stored.value.revoked {
        return Err(RpcError::new(400, "ACCESS_TOKEN_EXPIRED"));
    }
    let user = acc.user(id)?.filter(|u| u.bot).ok_or_else(token_invalid)?;
    Ok((user, stored))
}

/// auth.importBotAuthorization: the key is logged in as the bot.
pub fn import(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    req: &functions::auth::ImportBotAuthorization,
) -> Result<enums::auth::Authorization, RpcError> {
    if req.api_id <= 0 || req.api_hash.is_empty() {
        return Err(RpcError::new(400, "API_ID_INVALID"));
    }
    let acc = Accounts::new(ctx.store);
    let (bot, token) = bot_of(&acc, req.bot_auth_token.trim())?;
    if bot.home_dc != ctx.this_dc {
        return Err(RpcError::new(303, format!("USER_MIGRATE_{}", bot.home_dc)));
    }
    super::auth::with_retries(|| {
        let mut b = Batch::default();
        // A token revoked meanwhile stops the login.
        b.expect(bot_token_key(bot.id), Some(token.raw.clone()));
        let login = log_in(ctx, rng, &acc, &bot, b)?;
        if login.is_some() {
            tracing::info!(bot_id = bot.id, dc = ctx.this_dc, "bot logged in");
        }
        Ok(login)
    })
}

#[cfg(test)]
mod tests {
    use super::super::login_tests::Fixture;
    use super::super::password_tests::err;
    use super::*;
    use crate::rand::SeededRng;
    use crate::tl::{types, Deserializable, Serializable};

    fn import_token(
        f: &Fixture,
        key: i64,
        dc: i32,
        token: &str,
    ) -> Result<enums::auth::Authorization, RpcError> {
        f.invoke(
            key,
            dc,
            &functions::auth::ImportBotAuthorization {
                flags: 0,
                api_id: 6,
                api_hash: "hash".into(),
                bot_auth_token: token.into(),
            },
        )
    }

    #[test]
    fn usernames_are_checked() {
        for good in ["echo_bot", "EchoBot", "a1234bot", "Abc_Bot"] {
            assert!(valid_username(good), "{good}");
        }
        for bad in [
            "bot",
            "1echobot",
            "echo",
            "echo-bot",
            &format!("{}bot", "a".repeat(30)),
        ] {
            assert!(!valid_username(bad), "{bad}");
        }
    }

    #[test]
    fn a_bot_logs_in_with_its_token_on_its_dc_until_it_is_revoked() {
        let f = Fixture::new();
        let mut rng = SeededRng::new(9);
        let bot = create(&f.store, &mut rng, "Echo", Some("echo_bot"), 2, 100).unwrap();
        let (id, secret) = bot.token.split_once(':').unwrap();
        assert_eq!(id, bot.user.id.to_string());
        assert_eq!(secret.len(), 43);
        assert_eq!(
            create(&f.store, &mut rng, "Other", Some("ECHO_BOT"), 2, 100).unwrap_err(),
            "username @ECHO_BOT is taken"
        );
        assert!(create(&f.store, &mut rng, " ", None, 2, 100).is_err());
        for bad in [
            "".to_string(),
            "nocolon".into(),
            format!("{id}:"),
            format!("{id}:{}", "A".repeat(43)),
            format!("0:{secret}"),
            format!("{}:{secret}", bot.user.id + 1),
            format!("{id}:{secret}{}", "x".repeat(100)),
        ] {
            assert_eq!(
                import_token(&f, 5, 2, &bad).unwrap_err(),
                err(400, "ACCESS_TOKEN_INVALID"),
                "{bad}"
            );
        }
        assert_eq!(
            import_token(&f, 5, 3, &bot.token).unwrap_err(),
            err(303, "USER_MIGRATE_2")
        );
        let a = import_token(&f, 5, 2, &bot.token).unwrap();
        let enums::auth::Authorization::Authorization(a) = a else {
            panic!()
        };
        let enums::User::User(u) = &a.user else {
            panic!()
        };
        assert!(u.bot && u.is_self);
        assert_eq!(
            (u.username.as_deref(), u.phone.as_deref()),
            (Some("echo_bot"), None)
        );
        assert_eq!(u.bot_info_version, Some(1));
        // Bots may not use the user-only account and login methods.
        for refused in [
            functions::account::GetPassword {}.to_bytes(),
            functions::account::GetAuthorizations {}.to_bytes(),
            functions::auth::ExportLoginToken {
                api_id: 6,
                api_hash: "h".into(),
                except_ids: vec![],
            }
            .to_bytes(),
        ] {
            let query = crate::tl::functions::Function::from_bytes(&refused).unwrap();
            assert_eq!(
                f.call(5, 2, &query).unwrap_err(),
                err(400, "BOT_METHOD_INVALID")
            );
        }
        let me = f
            .invoke(
                5,
                2,
                &functions::users::GetUsers {
                    id: vec![types::InputUserSelf {}.into()],
                },
            )
            .unwrap();
        assert_eq!(me.len(), 1);
        assert_eq!(revoke(&f.store, bot.user.id, 200).unwrap(), 1);
        assert_eq!(
            f.invoke(5, 2, &functions::users::GetUsers { id: vec![] })
                .unwrap_err(),
            err(401, "SESSION_REVOKED")
        );
        assert_eq!(
            import_token(&f, 6, 2, &bot.token).unwrap_err(),
            err(400, "ACCESS_TOKEN_EXPIRED")
        );
        assert!(revoke(&f.store, 12345, 200).is_err());
    }
}
