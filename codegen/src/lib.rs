//! TL toolchain: parse a schema (`parse`), verify its constructor ids (`ids`) and generate Rust
//! code for it (`generate`).
//!
//! A pure library: it reads no files and no environment. `build.rs` of the main crate and the
//! small `codegen` CLI do the I/O.

pub mod ast;
pub mod error;
pub mod generate;
pub mod ids;
pub mod parse;

pub use ast::{Category, Definition, Param, ParamKind, Schema, TypeRef};
pub use error::{Error, ErrorKind};
pub use generate::{generate, Config};
pub use ids::{verify, IdReport, KNOWN_EXCEPTIONS};
pub use parse::parse;
