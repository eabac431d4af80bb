//! Operator tools behind the CLI's subcommands, as plain functions over bytes.

pub mod admin;
pub mod admin_cli;
pub mod bench;
pub mod codes;
pub mod config_file;
pub mod logging;
pub mod login;
pub mod login_bot;
pub mod login_qr;
pub mod seed;
pub mod tl_decode;
