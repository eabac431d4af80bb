//! The `mtproto-auth` command line.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::{Arg, ArgAction, Command};

fn cli() -> Command {
    Command::new("mtproto-auth")
        .about("MTProto 2.0 authentication server with Telegram test-DC emulation")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("serve")
                .about("Run the server: every DC in one process, sharing one store")
                // A flag given again (after a --config file's) replaces the earlier value.
                .args_override_self(true)
                .arg(
                    Arg::new("config")
                        .long("config")
                        .value_name("FILE")
                        .help("every option below from a TOML file (key = value, `_` or `-`); flags given here override it"),
                )
                .arg(
                    Arg::new("data-dir")
                        .long("data-dir")
                        .value_name("DIR")
                        .default_value("./data")
                        .help("store and RSA key (created on first start)"),
                )
                .arg(
                    Arg::new("listen")
                        .long("listen")
                        .value_name("HOST:PORT")
                        .default_value("127.0.0.1:4431")
                        .help("DC 1's address; DC i listens on PORT+i-1 (port 0: every DC on a free port, named in the ready line)"),
                )
                .arg(
                    Arg::new("log-format")
                        .long("log-format")
                        .value_name("FORMAT")
                        .value_parser(["text", "json"])
                        .default_value("text")
                        .help("stderr logs as text lines or one JSON object per line (ts, level, target, fields)"),
                )
                .arg(
                    Arg::new("ephemeral")
                        .long("ephemeral")
                        .action(clap::ArgAction::SetTrue)
                        .help("keep every record in memory and turn the flood limits off (the flags still apply); without --data-dir the keys, outbox and admin socket go to a fresh private temporary dir, removed at exit"),
                )
                .arg(
                    Arg::new("admin-http")
                        .long("admin-http")
                        .value_name("HOST:PORT")
                        .help("serve the admin API over HTTP there (health, codes, reset, users, bots, sessions, faults, /metrics, a dashboard at /); port 0 picks a free one, named in the ready line. Loopback only unless --admin-http-public"),
                )
                .arg(
                    Arg::new("admin-http-public")
                        .long("admin-http-public")
                        .action(clap::ArgAction::SetTrue)
                        .help("allow --admin-http on a non-loopback address (a container's port mapping): whoever reaches it controls the server"),
                )
                .arg(
                    Arg::new("public-host")
                        .long("public-host")
                        .value_name("IP")
                        .help("the IP address clients are told to dial (help.getConfig, the ready line) instead of the address bound, e.g. behind a container's port mapping"),
                )
                .arg(
                    Arg::new("seed")
                        .long("seed")
                        .value_name("FILE")
                        .help("create the users, bots and sessions FILE describes at start (idempotent; see `mtproto-auth seed`)"),
                )
                .arg(
                    Arg::new("ready-file")
                        .long("ready-file")
                        .value_name("PATH")
                        .help("also write the ready line (the JSON printed on stdout once listening) to PATH"),
                )
                .arg(
                    Arg::new("dcs")
                        .long("dcs")
                        .value_name("N")
                        .default_value("3")
                        .value_parser(clap::value_parser!(i32).range(1..=5))
                        .help("number of DCs"),
                )
                .arg(
                    Arg::new("dc-addr")
                        .long("dc-addr")
                        .value_name("N=HOST:PORT")
                        .action(ArgAction::Append)
                        .help("address of DC N (repeatable), e.g. 2=127.0.0.2:443"),
                )
                .arg(
                    Arg::new("handshake-rate")
                        .long("handshake-rate")
                        .value_name("N")
                        .value_parser(clap::value_parser!(u32))
                        .help(format!(
                            "key-exchange steps with RSA/DH work per second per client address, \
                             burst 4×N (a key takes two; loopback clients are not limited; 0: off) \
                             [default: {}]",
                            mtproto_auth::server::DEFAULT_HANDSHAKE_RATE
                        )),
                )
                .args(login_args()),
        )
        .subcommand(
            Command::new("login")
                .about("Log in (or sign up) a phone number against a running server, interactively")
                .arg(
                    Arg::new("phone")
                        .long("phone")
                        .value_name("NUMBER")
                        .required_unless_present_any(["qr", "bot"])
                        .conflicts_with_all(["qr", "bot"])
                        .help("e.g. 9996621234: test numbers 99966XYYYY live on DC X, code XXXXX"),
                )
                .arg(
                    Arg::new("bot")
                        .long("bot")
                        .value_name("TOKEN")
                        .conflicts_with("qr")
                        .help("log a bot in with the token `bots create` printed (USER_MIGRATE_X is followed)"),
                )
                .arg(
                    Arg::new("qr")
                        .long("qr")
                        .action(clap::ArgAction::SetTrue)
                        .help("log in by QR code: print the tg://login link and its QR code and wait for a logged-in session to accept it"),
                )
                .arg(
                    dc_arg("the DC to start on (PHONE_MIGRATE_X is followed)"),
                )
                .arg(
                    Arg::new("addr")
                        .long("addr")
                        .value_name("HOST:PORT")
                        .help("that DC's address [default: 127.0.0.1:(4430 + X)]"),
                )
                .arg(
                    data_dir_arg()
                        .help("the server's data dir, for its public key (rsa_public.pem)"),
                )
                .arg(
                    Arg::new("public-key")
                        .long("public-key")
                        .value_name("PEM")
                        .help("the server's public key [default: DIR/rsa_public.pem]"),
                ),
        )
        .subcommand(
            Command::new("users")
                .about("Registered users (a running server answers through DIR/admin.sock)")
                .subcommand_required(true)
                .subcommand(Command::new("list").about("List users").arg(data_dir_arg()))
                .subcommand(
                    Command::new("create")
                        .about("Create a user (a test fixture): it logs in with its code, then its password if given")
                        .arg(data_dir_arg())
                        .arg(Arg::new("phone").long("phone").value_name("NUMBER").required(true))
                        .arg(Arg::new("first").long("first").value_name("NAME").required(true))
                        .arg(Arg::new("last").long("last").value_name("NAME").default_value(""))
                        .arg(
                            Arg::new("password")
                                .long("password")
                                .value_name("PASSWORD")
                                .help("a cloud password (2FA)"),
                        )
                        .arg(
                            Arg::new("login-email")
                                .long("login-email")
                                .value_name("ADDRESS")
                                .help("codes go to this address (emails.txt)"),
                        )
                        .arg(
                            dc_arg("home DC (a test number's is its X)"),
                        ),
                ),
        )
        .subcommand(
            Command::new("bots")
                .about("Bots: create one (its token is printed once), list, revoke")
                .subcommand_required(true)
                .subcommand(
                    Command::new("create")
                        .about("Create a bot; prints its token BOT_ID:SECRET for auth.importBotAuthorization")
                        .arg(data_dir_arg())
                        .arg(
                            Arg::new("name")
                                .long("name")
                                .value_name("NAME")
                                .required(true)
                                .help("its name (1–64 characters)"),
                        )
                        .arg(
                            Arg::new("username")
                                .long("username")
                                .value_name("U")
                                .help("a unique username: 5–32 letters, digits and _, ending in \"bot\""),
                        )
                        .arg(
                            dc_arg("its home DC"),
                        ),
                )
                .subcommand(Command::new("list").about("List bots").arg(data_dir_arg()))
                .subcommand(
                    Command::new("revoke")
                        .about("Revoke a bot's token (ACCESS_TOKEN_EXPIRED) and end its sessions")
                        .arg(data_dir_arg())
                        .arg(
                            Arg::new("id")
                                .value_name("BOT_ID")
                                .required(true)
                                .value_parser(clap::value_parser!(i64)),
                        ),
                ),
        )
        .subcommand(
            Command::new("codes")
                .about("The login and email codes the server delivered (DIR/outbox.txt, DIR/emails.txt)")
                .arg(data_dir_arg())
                .arg(
                    Arg::new("phone")
                        .long("phone")
                        .value_name("NUMBER")
                        .help("only this number's login codes"),
                )
                .arg(
                    Arg::new("email")
                        .long("email")
                        .value_name("ADDRESS")
                        .conflicts_with("phone")
                        .help("only codes mailed to this address"),
                )
                .arg(
                    Arg::new("next")
                        .long("next")
                        .action(clap::ArgAction::SetTrue)
                        .help("wait for the next matching code, print the code alone and exit (1 after --timeout)"),
                )
                .arg(
                    Arg::new("follow")
                        .long("follow")
                        .action(clap::ArgAction::SetTrue)
                        .conflicts_with("next")
                        .help("print matching codes as they arrive"),
                )
                .arg(
                    Arg::new("timeout")
                        .long("timeout")
                        .value_name("SECONDS")
                        .value_parser(clap::value_parser!(u64))
                        .help("how long --next waits [default: 30] or --follow runs [default: until killed]"),
                ),
        )
        .subcommand(
            Command::new("web-token")
                .about("Mint a web login token for a user (auth.importWebTokenAuthorization; once, 5 minutes)")
                .arg(data_dir_arg())
                .arg(user_id_arg().required(true)),
        )
        .subcommand(
            Command::new("sessions")
                .about("Logged-in sessions (authorizations)")
                .subcommand_required(true)
                .subcommand(
                    Command::new("list")
                        .about("List sessions")
                        .arg(data_dir_arg())
                        .arg(
                            Arg::new("user")
                                .long("user")
                                .value_name("USER_ID")
                                .value_parser(clap::value_parser!(i64))
                                .help("only this user's"),
                        ),
                )
                .subcommand(
                    Command::new("create")
                        .about("Make a logged-in session for a user (a test fixture): prints its auth key, a secret")
                        .arg(data_dir_arg())
                        .arg(user_id_arg().required(true))
                        .arg(
                            Arg::new("dc")
                                .long("dc")
                                .value_name("X")
                                .value_parser(clap::value_parser!(i32).range(1..=5))
                                .help("its DC [default: the user's home DC]"),
                        ),
                )
                .subcommand(
                    Command::new("revoke")
                        .about("End sessions: they answer SESSION_REVOKED from then on")
                        .arg(data_dir_arg())
                        .arg(
                            Arg::new("key")
                                .value_name("AUTH_KEY_ID")
                                .help("the session's auth key id, as `sessions list` shows it"),
                        )
                        .arg(
                            Arg::new("user")
                                .long("user")
                                .value_name("USER_ID")
                                .value_parser(clap::value_parser!(i64))
                                .conflicts_with("key")
                                .required_unless_present("key")
                                .help("every session of this user"),
                        ),
                ),
        )
        .subcommands(mtproto_auth::tools::admin_cli::commands())
        .subcommand(mtproto_auth::tools::admin_cli::health_command())
        .subcommand(bench_cli())
        .subcommand(
            Command::new("tl")
                .about("TL tools")
                .subcommand_required(true)
                .subcommand(
                    Command::new("decode")
                        .about("Read one serialized boxed TL value from stdin and print it")
                        .arg(
                            Arg::new("hex").long("hex").action(ArgAction::SetTrue).help(
                                "stdin is hex text (white space ignored) instead of raw bytes",
                            ),
                        )
                        .arg(
                            Arg::new("roundtrip")
                                .long("roundtrip")
                                .action(ArgAction::SetTrue)
                                .help(
                                    "fail (exit 3) unless re-encoding reproduces the input exactly",
                                ),
                        )
                        .arg(
                            Arg::new("layer")
                                .long("layer")
                                .value_name("N")
                                .value_parser(clap::value_parser!(i32).range(1..))
                                .help("read API values in the constructors of layer N (133-230; between two sampled layers the older is used)"),
                        ),
                ),
        )
}

fn main() -> ExitCode {
    // `serve --config FILE`: the file's options first, so that the command line overrides them.
    let args = match mtproto_auth::tools::config_file::expand(std::env::args().collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let matches = cli().get_matches_from(args);
    match matches.subcommand() {
        Some(("serve", m)) => serve(m),
        Some(("login", m)) => login(m),
        Some(("users", u)) => match u.subcommand() {
            Some(("create", m)) => {
                let text = |k: &str| m.get_one::<String>(k).cloned();
                let new = mtproto_auth::rpc::seed_user::NewUser {
                    phone: text("phone").expect("required"),
                    first_name: text("first").expect("required"),
                    last_name: text("last").unwrap_or_default(),
                    password: text("password"),
                    login_email: text("login-email"),
                    home_dc: *m.get_one::<i32>("dc").expect("default"),
                };
                admin(m, mtproto_auth::tools::admin::AdminCommand::UserCreate(new))
            }
            Some((_, m)) => admin(m, mtproto_auth::tools::admin::AdminCommand::Users),
            None => unreachable!("clap requires a users subcommand"),
        },
        Some(("codes", m)) => {
            let next = m.get_flag("next");
            let opts = mtproto_auth::tools::codes::CodesOptions {
                data_dir: std::path::PathBuf::from(
                    m.get_one::<String>("data-dir").expect("default"),
                ),
                phone: m.get_one::<String>("phone").cloned(),
                email: m.get_one::<String>("email").cloned(),
                next,
                follow: m.get_flag("follow"),
                timeout: m
                    .get_one::<u64>("timeout")
                    .copied()
                    .or(next.then_some(30))
                    .map(std::time::Duration::from_secs),
            };
            match mtproto_auth::tools::codes::run(&opts, &mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Some((name @ ("reset" | "faults" | "seed"), m)) => {
            use mtproto_auth::tools::admin_cli;
            match admin_cli::command(name, m) {
                Ok(cmd) => admin_at(&admin_cli::data_dir_of(name, m), cmd),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some(("health", m)) => printed(mtproto_auth::tools::admin_cli::health(
            m.get_one::<String>("admin-http").expect("default"),
        )),
        Some(("web-token", m)) => admin(
            m,
            mtproto_auth::tools::admin::AdminCommand::WebToken(
                *m.get_one::<i64>("user").expect("required"),
            ),
        ),
        Some(("bots", b)) => {
            use mtproto_auth::tools::admin::AdminCommand;
            match b.subcommand() {
                Some(("create", m)) => {
                    let name = m.get_one::<String>("name").expect("required");
                    if name.trim().is_empty() || name.contains('\n') {
                        eprintln!("error: --name: 1–64 characters on one line");
                        return ExitCode::from(2);
                    }
                    let cmd = AdminCommand::BotCreate {
                        dc: *m.get_one::<i32>("dc").expect("default"),
                        username: m.get_one::<String>("username").cloned(),
                        name: name.trim().to_string(),
                    };
                    admin(m, cmd)
                }
                Some(("list", m)) => admin(m, AdminCommand::Bots),
                Some(("revoke", m)) => admin(
                    m,
                    AdminCommand::BotRevoke(*m.get_one::<i64>("id").expect("required")),
                ),
                _ => unreachable!("clap requires a bots subcommand"),
            }
        }
        Some(("sessions", s)) => match s.subcommand() {
            Some(("list", m)) => admin(
                m,
                mtproto_auth::tools::admin::AdminCommand::Sessions {
                    user: m.get_one::<i64>("user").copied(),
                },
            ),
            Some(("create", m)) => admin(
                m,
                mtproto_auth::tools::admin::AdminCommand::SessionCreate {
                    user: *m.get_one::<i64>("user").expect("required"),
                    dc: m.get_one::<i32>("dc").copied(),
                },
            ),
            Some(("revoke", m)) => {
                use mtproto_auth::tools::admin::{parse_key_id, AdminCommand};
                let cmd = match (m.get_one::<String>("key"), m.get_one::<i64>("user")) {
                    (Some(k), _) => match parse_key_id(k) {
                        Ok(k) => AdminCommand::RevokeKey(k),
                        Err(e) => {
                            eprintln!("error: {e}");
                            return ExitCode::from(2);
                        }
                    },
                    (None, Some(u)) => AdminCommand::RevokeUser(*u),
                    (None, None) => unreachable!("clap requires a key or --user"),
                };
                admin(m, cmd)
            }
            _ => unreachable!("clap requires a sessions subcommand"),
        },
        Some(("bench", b)) => bench(b),
        Some(("tl", tl)) => match tl.subcommand() {
            Some(("decode", m)) => tl_decode(
                m.get_flag("hex"),
                m.get_flag("roundtrip"),
                m.get_one::<i32>("layer").copied(),
            ),
            _ => unreachable!("clap requires a tl subcommand"),
        },
        _ => unreachable!("clap requires a subcommand"),
    }
}

/// The load flags without `--no-baseline` (a soak has none).
fn load_args_soak() -> Vec<Arg> {
    bench_load_args()
        .into_iter()
        .filter(|a| a.get_id() != "no-baseline")
        .collect()
}

fn bench_cli() -> Command {
    let load_args = bench_load_args();
    bench_cli_with(load_args)
}

fn bench_load_args() -> [Arg; 7] {
    [
        Arg::new("connections")
            .long("connections")
            .value_name("N")
            .value_parser(clap::value_parser!(u32).range(1..=50_000))
            .help("concurrent connections"),
        Arg::new("seconds")
            .long("seconds")
            .value_name("S")
            .default_value("10")
            .value_parser(clap::value_parser!(u64).range(1..=3600))
            .help("length of the measured window"),
        Arg::new("json")
            .long("json")
            .action(ArgAction::SetTrue)
            .help("print one JSON object instead of text"),
        Arg::new("addr")
            .long("addr")
            .value_name("HOST:PORT")
            .requires("server-pid")
            .help("drive a running server (one DC's address) instead of starting one"),
        Arg::new("server-pid")
            .long("server-pid")
            .value_name("PID")
            .requires("addr")
            .value_parser(clap::value_parser!(u32))
            .help("the running server's pid, for its CPU and memory accounting"),
        Arg::new("public-key")
            .long("public-key")
            .value_name("FILE")
            .help("the running server's rsa_public.pem [default: ./data/rsa_public.pem]"),
        Arg::new("no-baseline")
            .long("no-baseline")
            .action(ArgAction::SetTrue)
            .help("skip the baseline measurement"),
    ]
}

fn bench_cli_with(load_args: [Arg; 7]) -> Command {
    Command::new("bench")
        .about("Load benchmarks with the server's own CPU and memory accounting")
        .subcommand_required(true)
        .subcommand(
            Command::new("handshake")
                .about("new auth keys/s and server CPU per key, against openssl speed")
                .args(load_args.clone()),
        )
        .subcommand(
            Command::new("rpc")
                .about("encrypted pings/s, against a framed echo of the same frames")
                .args(load_args.clone()),
        )
        .subcommand(
            Command::new("idle")
                .about("server memory per idle connection (each with a session)")
                .args(load_args.clone()),
        )
        .subcommand(
            Command::new("keys")
                .about(
                    "server memory per cached auth key (--connections N temporary keys, one \
                     connection each; default 5,000)",
                )
                .args(load_args.clone()),
        )
        .subcommand(
            Command::new("login")
                .about(
                    "durable logins/s (sendCode + signIn of registered test numbers); a server \
                     given with --addr needs --codes-per-test-phone 0 --codes-per-key 0",
                )
                .args(load_args.clone()),
        )
        .subcommand(
            Command::new("password")
                .about(
                    "2FA checks/s (getPassword + the SRP check of getPasswordSettings) and server \
                     CPU per check, against one openssl ffdh2048 derivation",
                )
                .args(load_args),
        )
        .subcommand(
            Command::new("soak")
                .about("many connections kept alive with pings, logins and key exchanges for minutes: errors, p99 latency and server RSS per interval (not a test)")
                .args(load_args_soak())
                .arg(
                    Arg::new("minutes")
                        .long("minutes")
                        .value_name("M")
                        .value_parser(clap::value_parser!(u64).range(1..=1440))
                        .help("how long [default: 10; --seconds S for shorter runs]"),
                )
                .arg(
                    Arg::new("interval-secs")
                        .long("interval-secs")
                        .value_name("S")
                        .default_value("60")
                        .value_parser(clap::value_parser!(u64).range(1..=3600))
                        .help("one report line per interval"),
                ),
        )
        .subcommand(
            Command::new("echo-server")
                .about("the rpc baseline: a framed (intermediate) echo server")
                .arg(
                    Arg::new("listen")
                        .long("listen")
                        .value_name("HOST:PORT")
                        .default_value("127.0.0.1:4430"),
                ),
        )
}

fn bench(b: &clap::ArgMatches) -> ExitCode {
    use mtproto_auth::tools::bench;
    let (name, m) = b.subcommand().expect("clap requires a bench subcommand");
    if name == "echo-server" {
        let listen = match m.get_one::<String>("listen").expect("default").parse() {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: --listen: {e}");
                return ExitCode::from(2);
            }
        };
        let result = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .and_then(|rt| rt.block_on(bench::echo_server(listen)));
        if let Err(e) = result {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
        return ExitCode::SUCCESS;
    }
    let attach = match m.get_one::<String>("addr") {
        Some(a) => match a.parse() {
            Ok(addr) => Some((addr, *m.get_one::<u32>("server-pid").expect("required"))),
            Err(e) => {
                eprintln!("error: --addr: {e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let default_connections = match name {
        "handshake" => 4,
        "rpc" | "login" => 64,
        "password" => 4,
        "keys" => 5_000,
        _ => 10_000,
    };
    let opts = bench::Options {
        connections: m
            .get_one::<u32>("connections")
            .map_or(default_connections, |n| *n as usize),
        seconds: *m.get_one::<u64>("seconds").expect("default"),
        attach,
        public_key: m.get_one::<String>("public-key").map(Into::into),
        no_baseline: m
            .try_get_one::<bool>("no-baseline")
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false),
    };
    let json = m.get_flag("json");
    if name == "soak" {
        let mut opts = opts;
        // --minutes wins; --seconds (default 10) is for short runs.
        opts.seconds = m.get_one::<u64>("minutes").map_or(
            if m.value_source("seconds") == Some(clap::parser::ValueSource::CommandLine) {
                opts.seconds
            } else {
                600
            },
            |min| min * 60,
        );
        let interval =
            std::time::Duration::from_secs(*m.get_one::<u64>("interval-secs").expect("default"));
        return match bench::soak(&opts, interval) {
            Ok(r) => {
                println!("{}", if json { r.json() } else { r.text() }.trim_end());
                if r.errors() == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        };
    }
    let report = match name {
        "handshake" => bench::handshake(&opts).map(|r| if json { r.json() } else { r.text() }),
        "rpc" => bench::rpc(&opts).map(|r| if json { r.json() } else { r.text() }),
        "login" => bench::login(&opts).map(|r| if json { r.json() } else { r.text() }),
        "password" => bench::password(&opts).map(|r| if json { r.json() } else { r.text() }),
        "idle" => bench::idle(&opts).map(|r| if json { r.json() } else { r.text() }),
        "keys" => bench::keys(&opts).map(|r| if json { r.json() } else { r.text() }),
        _ => unreachable!("clap knows the bench subcommands"),
    };
    match report {
        Ok(text) => {
            println!("{}", text.trim_end());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn tl_decode(hex: bool, roundtrip: bool, layer: Option<i32>) -> ExitCode {
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("error: reading stdin: {e}");
        return ExitCode::from(1);
    }
    match mtproto_auth::tools::tl_decode::run_in_layer(&input, hex, roundtrip, layer) {
        Ok(text) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e @ mtproto_auth::tools::tl_decode::DecodeCommandError::RoundTrip { .. }) => {
            eprintln!("error: {e}");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// A tokio runtime (multi-threaded for the server), or the exit code after saying why not.
fn runtime(multi_thread: bool) -> Result<tokio::runtime::Runtime, ExitCode> {
    let mut b = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    b.enable_all().build().map_err(|e| {
        eprintln!("error: starting the runtime: {e}");
        ExitCode::from(1)
    })
}

/// `--dc X`, 1 to 5, default 2.
fn dc_arg(help: &'static str) -> Arg {
    Arg::new("dc")
        .long("dc")
        .value_name("X")
        .default_value("2")
        .value_parser(clap::value_parser!(i32).range(1..=5))
        .help(help)
}

/// `--user USER_ID`.
fn user_id_arg() -> Arg {
    Arg::new("user")
        .long("user")
        .value_name("USER_ID")
        .value_parser(clap::value_parser!(i64))
}

fn data_dir_arg() -> Arg {
    Arg::new("data-dir")
        .long("data-dir")
        .value_name("DIR")
        .default_value("./data")
        .help("the server's data dir")
}

/// `serve` flags for the login settings (rpc::LoginConfig); absent: the library defaults.
fn login_args() -> Vec<Arg> {
    use mtproto_auth::rpc::login as l;
    let n = |name: &'static str, help: String| {
        Arg::new(name)
            .long(name)
            .value_name("N")
            .value_parser(clap::value_parser!(i64).range(0..))
            .help(help)
    };
    vec![
        n("default-dc", "home DC of numbers that are neither test numbers nor registered [default: 2; 1 with --dcs 1]".into()),
        n("code-ttl", format!("seconds a login code stays valid [default: {}]", l::DEFAULT_CODE_TTL)),
        n("max-wrong-codes", format!("wrong codes per code before it is dead [default: {}]", l::DEFAULT_MAX_WRONG_CODES)),
        n("codes-per-phone", format!("sendCode/resendCode per phone number per hour, 0: off [default: {}]", l::DEFAULT_CODES_PER_PHONE)),
        n("codes-per-phone-daily", format!("… per phone number per day (PHONE_NUMBER_FLOOD), 0: off [default: {}]", l::DEFAULT_CODES_PER_PHONE_DAILY)),
        n("failed-sign-ins", format!("wrong codes per phone number per day, over all its codes (PHONE_PASSWORD_FLOOD), 0: off [default: {}]", l::DEFAULT_FAILED_SIGN_INS_PER_PHONE)),
        n("codes-per-address", format!("sendCode/resendCode per client address per hour, 0: off [default: {}]", l::DEFAULT_CODES_PER_ADDRESS)),
        n("failed-sign-ins-per-address", format!("wrong codes per client address per day, 0: off [default: {}]", l::DEFAULT_FAILED_SIGN_INS_PER_ADDRESS)),
        n("codes-per-test-phone", format!("sendCode/resendCode per test number per hour (test numbers are outside the limits above), 0: off [default: {}]", l::DEFAULT_CODES_PER_TEST_PHONE)),
        n("codes-per-key", format!("sendCode per auth key per hour, 0: off [default: {}]", l::DEFAULT_CODES_PER_KEY)),
        n("codes-global", format!("codes sent to numbers other than test numbers, over the server per hour, 0: off [default: {}]", l::DEFAULT_CODES_GLOBAL)),
        n("signups-per-address", format!("sign-ups of numbers other than test numbers per client address per hour, 0: off [default: {}]", l::DEFAULT_SIGNUPS_PER_ADDRESS)),
        n("signups-global", format!("… over the server per hour, 0: off [default: {}]", l::DEFAULT_SIGNUPS_GLOBAL)),
        Arg::new("dev-login-limits")
            .long("dev-login-limits")
            .action(clap::ArgAction::SetTrue)
            .help(format!("development only: {} codes per number an hour and no daily, failed-sign-in or address limits (up to 100 guesses an hour per number); the flags above still apply on top", l::DEVELOPMENT_CODES_PER_PHONE)),
        n("fresh-reset-secs", format!("age a session needs to end others (FRESH_RESET_AUTHORISATION_FORBIDDEN) [default: {}]", l::DEFAULT_FRESH_RESET_SECS)),
        n("password-failures-daily", format!("wrong passwords (and wrong email codes) per account a day, 0: off [default: {}]", l::DEFAULT_PASSWORD_FAILURES_PER_DAY)),
        n("password-free-failures", format!("wrong passwords in a row before each try waits 30 s, doubling up to an hour, 0: no waits [default: {}]", l::DEFAULT_PASSWORD_BACKOFF.free)),
        n("password-reset-wait", format!("seconds account.resetPassword waits before the password goes, and a declined reset blocks a new one [default: {}]", l::DEFAULT_PASSWORD_RESET_WAIT)),
        Arg::new("require-login-email")
            .long("require-login-email")
            .action(clap::ArgAction::SetTrue)
            .help("new accounts must set up a login email before their first code (auth.sentCodeTypeSetUpEmailRequired), as on Telegram's production DCs for some clients; codes then go to that address"),
    ]
}

/// The login settings `serve` was given, over the defaults with codes in DIR/outbox.txt.
fn login_config(
    m: &clap::ArgMatches,
    data_dir: &std::path::Path,
) -> mtproto_auth::rpc::LoginConfig {
    use mtproto_auth::rpc::login::{OutboxSender, RateLimit, DAY, DEFAULT_FLOOD_WINDOW};
    use mtproto_auth::rpc::LoginConfig;
    let sender = std::sync::Arc::new(OutboxSender::new(
        data_dir.join(mtproto_auth::server::OUTBOX_FILE),
    ));
    let mut c = if m.get_flag("ephemeral") {
        LoginConfig::without_limits(sender)
    } else if m.get_flag("dev-login-limits") {
        LoginConfig::development(sender)
    } else {
        LoginConfig::new(sender)
    };
    let get = |name: &str| m.get_one::<i64>(name).copied();
    let per = |window: i64| {
        move |n: i64| RateLimit {
            limit: n.min(i64::from(i32::MAX)) as i32,
            window,
        }
    };
    let (per_hour, per_day) = (per(DEFAULT_FLOOD_WINDOW), per(DAY));
    if let Some(v) = get("default-dc") {
        c.default_home_dc = v as i32;
    }
    if let Some(v) = get("code-ttl") {
        c.code_ttl = v;
    }
    if let Some(v) = get("max-wrong-codes") {
        c.max_wrong_codes = v.min(i64::from(i32::MAX)) as i32;
    }
    if let Some(v) = get("codes-per-phone") {
        c.codes_per_phone = per_hour(v);
    }
    if let Some(v) = get("codes-per-phone-daily") {
        c.codes_per_phone_daily = per_day(v);
    }
    if let Some(v) = get("failed-sign-ins") {
        c.failed_sign_ins_per_phone = per_day(v);
    }
    if let Some(v) = get("codes-per-address") {
        c.codes_per_address = per_hour(v);
    }
    if let Some(v) = get("failed-sign-ins-per-address") {
        c.failed_sign_ins_per_address = per_day(v);
    }
    if let Some(v) = get("codes-per-test-phone") {
        c.codes_per_test_phone = per_hour(v);
    }
    if let Some(v) = get("codes-per-key") {
        c.codes_per_key = per_hour(v);
    }
    if let Some(v) = get("codes-global") {
        c.codes_global = per_hour(v);
    }
    if let Some(v) = get("signups-per-address") {
        c.signups_per_address = per_hour(v);
    }
    if let Some(v) = get("signups-global") {
        c.signups_global = per_hour(v);
    }
    if let Some(v) = get("fresh-reset-secs") {
        c.fresh_reset_secs = v;
    }
    if let Some(v) = get("password-failures-daily") {
        c.password_failures_per_day = per_day(v);
    }
    match get("password-free-failures") {
        Some(0) => c.password_backoff = mtproto_auth::rpc::login::Backoff::OFF,
        Some(v) => c.password_backoff.free = v.min(i64::from(i32::MAX)) as i32,
        None => {}
    }
    if let Some(v) = get("password-reset-wait") {
        c.password_reset_wait = v;
    }
    c.require_login_email = m.get_flag("require-login-email");
    c
}

fn admin(m: &clap::ArgMatches, cmd: mtproto_auth::tools::admin::AdminCommand) -> ExitCode {
    admin_at(m.get_one::<String>("data-dir").expect("default"), cmd)
}

fn admin_at(data_dir: &str, cmd: mtproto_auth::tools::admin::AdminCommand) -> ExitCode {
    let data_dir = std::path::PathBuf::from(data_dir);
    printed(mtproto_auth::tools::admin::request(&data_dir, &cmd))
}

/// A command's text on stdout (0), or its error on stderr (1).
fn printed(out: Result<String, String>) -> ExitCode {
    match out {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn login(m: &clap::ArgMatches) -> ExitCode {
    let dc = *m.get_one::<i32>("dc").expect("default");
    let addr = match m.get_one::<String>("addr") {
        Some(a) => a.parse(),
        None => format!("127.0.0.1:{}", 4430 + dc).parse(),
    };
    let addr: std::net::SocketAddr = match addr {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: --addr: {e}");
            return ExitCode::from(2);
        }
    };
    let data_dir = std::path::PathBuf::from(m.get_one::<String>("data-dir").expect("default"));
    let key_path = m
        .get_one::<String>("public-key")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| data_dir.join(mtproto_auth::server::PUBLIC_KEY_FILE));
    let public_key = match std::fs::read_to_string(&key_path)
        .map_err(|e| e.to_string())
        .and_then(|pem| {
            mtproto_auth::crypto::rsa::RsaPublicKey::from_pkcs1_pem(&pem)
                .map_err(|e| format!("{e:?}"))
        }) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: public key {}: {e}", key_path.display());
            return ExitCode::from(2);
        }
    };
    let opts = mtproto_auth::tools::login::LoginOptions {
        phone: m.get_one::<String>("phone").cloned().unwrap_or_default(),
        addr,
        dc,
        public_key,
    };
    let runtime = match runtime(false) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut output = std::io::stdout();
    let done = if let Some(token) = m.get_one::<String>("bot") {
        runtime.block_on(mtproto_auth::tools::login_bot::bot_login(
            &opts,
            token,
            &mut output,
        ))
    } else if m.get_flag("qr") {
        runtime.block_on(mtproto_auth::tools::login_qr::qr_login(
            &opts,
            &mut input,
            &mut output,
        ))
    } else {
        runtime.block_on(mtproto_auth::tools::login::login(
            &opts,
            &mut input,
            &mut output,
        ))
    };
    match done {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn parse_dc_addr(s: &str) -> Result<(i32, std::net::SocketAddr), String> {
    let (dc, addr) = s
        .split_once('=')
        .ok_or_else(|| format!("--dc-addr {s:?}: expected N=HOST:PORT"))?;
    let dc = dc
        .parse()
        .map_err(|_| format!("--dc-addr {s:?}: {dc:?} is not a DC number"))?;
    let addr = addr
        .parse()
        .map_err(|_| format!("--dc-addr {s:?}: {addr:?} is not HOST:PORT"))?;
    Ok((dc, addr))
}

fn serve(m: &clap::ArgMatches) -> ExitCode {
    mtproto_auth::tools::logging::init(
        m.get_one::<String>("log-format").map(String::as_str) == Some("json"),
    );
    let ephemeral = m.get_flag("ephemeral");
    let explicit_dir = m.value_source("data-dir") == Some(clap::parser::ValueSource::CommandLine);
    // An ephemeral server without --data-dir leaves nothing behind: a fresh private dir for
    // its keys, outbox and socket, removed at exit.
    let temp_dir = (ephemeral && !explicit_dir).then(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        std::env::temp_dir().join(format!(
            "mtproto-auth-ephemeral-{}-{nanos}",
            std::process::id()
        ))
    });
    let data_dir = temp_dir.clone().unwrap_or_else(|| {
        std::path::PathBuf::from(m.get_one::<String>("data-dir").expect("default"))
    });
    let listen: std::net::SocketAddr = match m.get_one::<String>("listen").expect("default").parse()
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: --listen: {e}");
            return ExitCode::from(2);
        }
    };
    let dcs = *m.get_one::<i32>("dcs").expect("default");
    let mut overrides = Vec::new();
    for s in m.get_many::<String>("dc-addr").into_iter().flatten() {
        match parse_dc_addr(s) {
            Ok(o) if (1..=dcs).contains(&o.0) => overrides.push(o),
            Ok(o) => {
                eprintln!("error: --dc-addr: DC {} is not one of 1..={dcs}", o.0);
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let mut login = login_config(m, &data_dir);
    // Unregistered numbers live on DC 2 unless told otherwise; with one DC, on that one.
    if m.get_one::<i64>("default-dc").is_none() {
        login.default_home_dc = login.default_home_dc.min(dcs);
    }
    let mut config =
        mtproto_auth::server::ServerConfig::with_dcs(data_dir, listen, dcs, &overrides);
    config.login = Some(login);
    config.ephemeral = ephemeral;
    if let Some(host) = m.get_one::<String>("public-host") {
        // help.getConfig's dcOption carries an IP address, not a name.
        if host.parse::<std::net::IpAddr>().is_err() {
            eprintln!("error: --public-host {host:?} is not an IP address");
            return ExitCode::from(2);
        }
        config.public_host = Some(host.clone());
    }
    if let Some(a) = m.get_one::<String>("admin-http") {
        match a.parse::<std::net::SocketAddr>() {
            Ok(addr) if addr.ip().is_loopback() || m.get_flag("admin-http-public") => {
                config.admin_http = Some(addr)
            }
            Ok(addr) => {
                eprintln!("error: --admin-http {addr} is not a loopback address; the admin API controls the whole server (add --admin-http-public to mean it)");
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: --admin-http: {e}");
                return ExitCode::from(2);
            }
        }
    }
    // Absent: the library's default (Limits::default), or none for an ephemeral server.
    if let Some(&rate) = m.get_one::<u32>("handshake-rate") {
        config.limits.handshake_rate =
            (rate > 0).then(|| mtproto_auth::server::HandshakeRate::per_second(rate));
    } else if ephemeral {
        config.limits.handshake_rate = None;
    }
    mtproto_auth::server::admission::fit_file_limit(&mut config.limits);
    let runtime = match runtime(true) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let ready_file = m
        .get_one::<String>("ready-file")
        .map(std::path::PathBuf::from);
    let seed = m.get_one::<String>("seed").cloned();
    let result = runtime.block_on(async move {
        let server = mtproto_auth::server::Server::bind(config).await?;
        if let Some(file) = &seed {
            let text = std::fs::read_to_string(file)
                .map_err(|e| std::io::Error::new(e.kind(), format!("--seed {file}: {e}")))?;
            let applied = mtproto_auth::tools::seed::parse(&text).and_then(|s| {
                mtproto_auth::tools::seed::apply(
                    &*server.state().store,
                    &s,
                    mtproto_auth::tools::admin::unix_now(),
                )
            });
            match applied {
                // The report names tokens and keys: for the operator's terminal, not the log.
                Ok(report) => eprint!("{report}"),
                Err(e) => return Err(std::io::Error::other(format!("--seed {file}: {e}"))),
            }
        }
        for (dc, addr) in server.addrs() {
            tracing::info!("DC {dc} listening on {addr}");
        }
        // One JSON line on stdout (logs go to stderr) for harnesses; and the ready file.
        let line = mtproto_auth::server::ready::ready_line(&server)?;
        // The file first: whoever read the line may look for it at once.
        if let Some(path) = &ready_file {
            mtproto_auth::server::ready::write_ready_file(path, &line)?;
        }
        {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{line}")?;
            stdout.flush()?;
        }
        let fingerprint = server.state().rsa_keys[0].fingerprint();
        tracing::info!(
            "public key: {} (fingerprint {:016x}, signed {})",
            server.public_key_path().display(),
            fingerprint as u64,
            fingerprint
        );
        server.run(shutdown_signal()).await
    });
    if let Some(dir) = temp_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
