//! `mtproto-auth login --bot TOKEN`: logs a bot in with the token `bots create` printed,
//! following USER_MIGRATE_X to the bot's DC.

use std::io::Write;

use super::login::{connect, logged_in, LoginOptions};
use crate::client::login::user_migrate_dc;
use crate::tl::types;

/// Runs the bot login; returns the bot's user.
pub async fn bot_login(
    opts: &LoginOptions,
    token: &str,
    output: &mut dyn Write,
) -> Result<types::User, String> {
    let mut s = connect(opts, opts.dc, opts.addr).await?;
    let user = match s.client.import_bot_authorization(token).await {
        Ok(u) => u,
        Err(e) => {
            let Some(home) = user_migrate_dc(&e) else {
                return Err(format!("auth.importBotAuthorization: {e}"));
            };
            let addr = s.addr_of(home, &format!("USER_MIGRATE_{home}"))?;
            writeln!(output, "The bot lives on DC {home}; connecting to {addr}")
                .map_err(|e| e.to_string())?;
            s = connect(opts, home, addr).await?;
            s.client
                .import_bot_authorization(token)
                .await
                .map_err(|e| format!("auth.importBotAuthorization on DC {home}: {e}"))?
        }
    };
    logged_in(output, &s, &user)?;
    Ok(user)
}
