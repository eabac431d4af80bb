//! The only entry point of the code `build.rs` generates from `schema/*.tl` into OUT_DIR.
#![allow(
    unused_variables,
    clippy::all,
    clippy::pedantic,
    missing_docs,
    non_camel_case_types,
    rustdoc::all
)]

include!(concat!(env!("OUT_DIR"), "/tl_generated.rs"));
