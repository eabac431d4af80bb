//! Constructor ids: the CRC32 of a definition's normalized text, and the check of declared ids.
//!
//! Normalization (core.telegram.org/mtproto/TL-abstract-types, and `shared/tl/README.md`): drop
//! the `#id`, drop `name:flags.N?true` parameters, write `bytes` as `string`, write `Vector<T>`
//! as `Vector T`, drop `{` and `}`, collapse white space.
//!
//! `bytes` becomes `string` only as a parameter's own type: inside a vector it stays `bytes`
//! (`codeSettings#ad253d78 ... logout_tokens:flags.6?Vector<bytes>` hashes as `Vector bytes`).

use crate::ast::{Definition, ParamKind, Schema, TypeRef};
use crate::error::{Error, ErrorKind};

/// Definitions whose published id is not the CRC32 of their text. These three come from the
/// MTProto service schema (core.telegram.org/schema/mtproto) and are used on the wire with the
/// published id regardless.
pub const KNOWN_EXCEPTIONS: [&str; 3] = ["ipPortSecret", "accessPointRule", "help.configSimple"];

/// The normalized text whose CRC32 is the definition's id.
pub fn normalized(def: &Definition) -> String {
    let mut s = def.full_name();
    for g in &def.generics {
        s.push(' ');
        s.push_str(g);
        s.push_str(":Type");
    }
    for p in &def.params {
        match &p.kind {
            ParamKind::Flags => {
                s.push(' ');
                s.push_str(&p.name);
                s.push_str(":#");
            }
            ParamKind::Value { ty, flag } => {
                if flag.is_some() && ty.name == "true" && ty.namespace.is_none() {
                    continue;
                }
                s.push(' ');
                s.push_str(&p.name);
                s.push(':');
                if let Some(f) = flag {
                    s.push_str(&format!("{}.{}?", f.word, f.bit));
                }
                push_type(&mut s, ty, true);
            }
        }
    }
    s.push_str(" = ");
    push_type(&mut s, &def.result, true);
    s
}

fn push_type(s: &mut String, ty: &TypeRef, top: bool) {
    if ty.generic_ref {
        s.push('!');
    }
    if ty.percent {
        s.push('%');
    }
    if top && ty.namespace.is_none() && ty.name == "bytes" {
        s.push_str("string");
    } else {
        s.push_str(&ty.full_name());
    }
    if let Some(arg) = &ty.arg {
        s.push(' ');
        push_type(s, arg, false);
    }
}

/// CRC32 (IEEE) of the normalized definition.
pub fn computed_id(def: &Definition) -> u32 {
    crc32fast::hash(normalized(def).as_bytes())
}

/// What `check` found in one schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdReport {
    pub definitions: usize,
    /// Declared ids equal to the computed CRC32.
    pub verified: usize,
    /// Declared ids that differ, on a definition listed in `KNOWN_EXCEPTIONS`.
    pub known_exceptions: usize,
}

/// Checks every declared id against its CRC32; returns every mismatch as an error with its line.
pub fn verify(schema: &Schema) -> Result<IdReport, Vec<Error>> {
    let mut report = IdReport {
        definitions: schema.definitions.len(),
        ..IdReport::default()
    };
    let mut errors = Vec::new();
    for def in &schema.definitions {
        let Some(declared) = def.declared_id else {
            continue;
        };
        if declared == def.computed_id {
            report.verified += 1;
        } else if KNOWN_EXCEPTIONS.contains(&def.full_name().as_str()) {
            report.known_exceptions += 1;
        } else {
            errors.push(Error {
                line: def.line,
                kind: ErrorKind::IdMismatch {
                    name: def.full_name(),
                    declared,
                    computed: def.computed_id,
                },
            });
        }
    }
    if errors.is_empty() {
        Ok(report)
    } else {
        Err(errors)
    }
}
