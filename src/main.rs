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
                        ),
                ),
        )
}

fn main() -> ExitCode {
    let matches = cli().get_matches();
    match matches.subcommand() {
        Some(("tl", tl)) => match tl.subcommand() {
            Some(("decode", m)) => tl_decode(m.get_flag("hex"), m.get_flag("roundtrip")),
            _ => unreachable!("clap requires a tl subcommand"),
        },
        _ => unreachable!("clap requires a subcommand"),
    }
}

fn tl_decode(hex: bool, roundtrip: bool) -> ExitCode {
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("error: reading stdin: {e}");
        return ExitCode::from(1);
    }
    match mtproto_auth::tools::tl_decode::run(&input, hex, roundtrip) {
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
