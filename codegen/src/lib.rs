//! TL toolchain: parse a schema (`parse`), verify its constructor ids (`ids`) and generate Rust
//! code for it (`generate`).
//!
//! A pure library: it reads no files and no environment. `build.rs` of the main crate and the
//! small `codegen` CLI do the I/O.
//!
//! ```
//! let schema = codegen::parse("pong#347773c5 msg_id:long ping_id:long = Pong;\n").unwrap();
//! assert_eq!(codegen::verify(&schema).unwrap().verified, 1);
//! let config = codegen::Config { root: "crate::tl".into(), runtime: "crate::tl".into() };
//! let code = codegen::generate(&[&schema], &config).unwrap();
//! assert!(code.contains("pub struct Pong"));
//! ```

pub mod ast;
pub mod error;
pub mod generate;
pub mod ids;
pub mod layers;
pub mod parse;

pub use ast::{Category, Definition, Param, ParamKind, Schema, TypeRef};
pub use error::{Error, ErrorKind};
pub use generate::{generate, Config};
pub use ids::{verify, IdReport, KNOWN_EXCEPTIONS};
pub use parse::parse;
