//! Operator tools behind the CLI's subcommands, as plain functions over bytes.

pub mod bench;
pub mod tl_decode;
