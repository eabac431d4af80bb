//! The CLI of the test-DC operations (`reset`, `faults add|list|clear`, `seed`): each becomes an
//! admin command for the server running on the data dir (its admin socket), as the admin HTTP
//! API's endpoints do.

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::admin::AdminCommand;

fn data_dir() -> Arg {
    Arg::new("data-dir")
        .long("data-dir")
        .value_name("DIR")
        .default_value("./data")
        .help("the server's data dir")
}

fn text(name: &'static str, value: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).value_name(value).help(help)
}

pub fn commands() -> Vec<Command> {
    vec![
        Command::new("reset")
            .about("Forget every user, key, session, code, counter and fault rule (or one user and all of theirs)")
            .arg(data_dir())
            .arg(
                Arg::new("user")
                    .long("user")
                    .value_name("USER_ID")
                    .value_parser(clap::value_parser!(i64))
                    .help("only this user"),
            ),
        Command::new("faults")
            .about("Fault rules of the running server: errors, delays and dropped connections on purpose")
            .subcommand_required(true)
            .subcommand(
                Command::new("add")
                    .about("For calls of a method: answer an error, delay, or drop the connection")
                    .arg(data_dir())
                    .arg(text("method", "METHOD", "e.g. auth.sendCode, or * for every method").required(true))
                    .arg(text("error", "TEXT", "answer this error, e.g. FLOOD_WAIT_5"))
                    .arg(text("code", "N", "its code [default: Telegram's for the text: 420 FLOOD_*, 303 *_MIGRATE_*, 401, 500, else 400]"))
                    .arg(text("delay-ms", "MS", "hold the answer this long"))
                    .arg(
                        Arg::new("drop")
                            .long("drop")
                            .action(ArgAction::SetTrue)
                            .help("close the connection instead of answering (the client re-sends)"),
                    )
                    .arg(text("times", "N", "only for the next N matching calls [default: until cleared]"))
                    .arg(text("fraction", "P", "only for this share of matching calls, 0 < P ≤ 1")),
            )
            .subcommand(Command::new("list").about("List the rules").arg(data_dir()))
            .subcommand(
                Command::new("clear")
                    .about("Remove a rule, or all")
                    .arg(data_dir())
                    .arg(
                        Arg::new("id")
                            .value_name("RULE_ID")
                            .value_parser(clap::value_parser!(u64)),
                    ),
            ),
        Command::new("seed")
            .about("Create the users, passwords, bots and sessions a seed file describes (idempotent)")
            .arg(data_dir())
            .arg(Arg::new("file").value_name("FILE").required(true)),
    ]
}

/// The admin command a `commands()` invocation stands for; `Err` for bad values.
pub fn command(name: &str, m: &ArgMatches) -> Result<AdminCommand, String> {
    match name {
        "reset" => Ok(AdminCommand::Reset(m.get_one::<i64>("user").copied())),
        "seed" => {
            let file = m.get_one::<String>("file").expect("required");
            // The server reads it: a path that means the same there.
            let path = std::fs::canonicalize(file).map_err(|e| format!("{file}: {e}"))?;
            Ok(AdminCommand::Seed(path.display().to_string()))
        }
        "faults" => match m.subcommand() {
            Some(("add", a)) => {
                let get = |name: &str| -> Option<String> {
                    match name {
                        "drop" => a.get_flag("drop").then(|| "1".into()),
                        _ => a.get_one::<String>(&name.replace('_', "-")).cloned(),
                    }
                };
                let rule = crate::server::admin_http::fault_rule(get)?;
                rule.validate()?;
                Ok(AdminCommand::FaultAdd(rule))
            }
            Some(("list", _)) => Ok(AdminCommand::Faults),
            Some(("clear", c)) => Ok(AdminCommand::FaultClear(c.get_one::<u64>("id").copied())),
            _ => Err("faults needs add, list or clear".into()),
        },
        other => Err(format!("{other} is not an admin command")),
    }
}

/// The data dir the invocation names (for `faults add`, the subcommand's).
pub fn data_dir_of(name: &str, m: &ArgMatches) -> String {
    let m = match (name, m.subcommand()) {
        ("faults", Some((_, sub))) => sub,
        _ => m,
    };
    m.get_one::<String>("data-dir").cloned().expect("default")
}

/// `mtproto-auth health --admin-http HOST:PORT`: GET /health; success when it answers 200 (a
/// container's health check, where no curl is at hand).
pub fn health(addr: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|e| format!("--admin-http {addr}: {e}"))?;
    let timeout = std::time::Duration::from_secs(5);
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET /health HTTP/1.1\r\nHost: health\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    match answer.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(format!("{body}\n")),
        _ => Err(format!(
            "unhealthy: {}",
            answer.lines().next().unwrap_or("no answer")
        )),
    }
}

pub fn health_command() -> Command {
    Command::new("health")
        .about("Ask a running server's admin HTTP API whether it is serving (exit 0) or not (1)")
        .arg(
            Arg::new("admin-http")
                .long("admin-http")
                .value_name("HOST:PORT")
                .default_value("127.0.0.1:8080"),
        )
}
