//! Writes a [`Value`] in the variants of a target layer: fields matched by name, flags words
//! recomputed from what was written, constructors the layer lacks left out where the schema
//! allows (an optional field, a vector element) and refused elsewhere.

use super::{variant, Def, Layer, LayerError, Object, Ty, Value, DEFS};
use crate::tl::{
    write_bytes, write_f64, write_i32, write_i64, write_u32, BOOL_FALSE_ID, BOOL_TRUE_ID, VECTOR_ID,
};

/// Writes `v` as a value of `ty` in layer `to`.
pub(super) fn write(v: &Value<'_>, ty: Ty, to: Layer, out: &mut Vec<u8>) -> Result<(), LayerError> {
    let mismatch = || LayerError::Unrepresentable {
        name: "a value",
        layer: to.number(),
    };
    match (ty, v) {
        (Ty::Int, Value::Int(x)) => write_i32(out, *x),
        (Ty::Int, Value::Long(x)) => write_i32(out, i32::try_from(*x).map_err(|_| mismatch())?),
        (Ty::Long, Value::Long(x)) => write_i64(out, *x),
        (Ty::Long, Value::Int(x)) => write_i64(out, i64::from(*x)),
        (Ty::Double, Value::Double(x)) => write_f64(out, *x),
        (Ty::Int128, Value::Int128(x)) => out.extend_from_slice(x),
        (Ty::Int256, Value::Int256(x)) => out.extend_from_slice(&x[..]),
        (Ty::String | Ty::Bytes, Value::Str(b) | Value::Bytes(b)) => write_bytes(out, b),
        (Ty::Bool, Value::Bool(b)) => write_u32(out, if *b { BOOL_TRUE_ID } else { BOOL_FALSE_ID }),
        (Ty::Vector(elem), Value::Vector(items)) => {
            write_u32(out, VECTOR_ID);
            let count_at = out.len();
            write_u32(out, 0);
            let mut written = 0u32;
            for item in items {
                let mark = out.len();
                match write(item, *elem, to, out) {
                    Ok(()) => written += 1,
                    // An element the layer cannot hold is left out of the vector.
                    Err(LayerError::NotInLayer { .. } | LayerError::Unrepresentable { .. }) => {
                        out.truncate(mark)
                    }
                    Err(e) => return Err(e),
                }
            }
            out[count_at..count_at + 4].copy_from_slice(&written.to_le_bytes());
        }
        (Ty::Boxed(_) | Ty::Query, Value::Object(o)) => {
            let target = variant(o.def.name, to).ok_or(LayerError::NotInLayer {
                name: o.def.name,
                layer: to.number(),
            })?;
            let fits = if ty == Ty::Query {
                target.function
            } else {
                !target.function && target.result == ty
            };
            if !fits {
                return Err(LayerError::Unrepresentable {
                    name: o.def.name,
                    layer: to.number(),
                });
            }
            object(o, target, to, out)?;
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// Writes `o` (read as some variant of its name) as the variant `target`.
///
/// Two passes: each field's bytes first (a field the layer cannot hold is left out if it may
/// be), then the flags words from what is present, then the fields in order. Fields can share a
/// flag bit (`files:flags.5?true file_max_size:flags.5?long`): a bit set by one of them makes
/// every field on it present, so one that could not be written gets its empty value.
fn object(
    o: &Object<'_>,
    target: &'static Def,
    to: Layer,
    out: &mut Vec<u8>,
) -> Result<(), LayerError> {
    let mut encoded: Vec<Option<Vec<u8>>> = Vec::with_capacity(target.params.len());
    let mut bits: Vec<u32> = vec![0; target.params.len()];
    for p in target.params {
        let source = source_field(o, p.name);
        let bytes = match (p.ty, source) {
            (Ty::Flags, _) => None,
            (Ty::True, Some(Value::True)) => Some(Vec::new()),
            (Ty::True, _) => None,
            (ty, Some(v)) => {
                let mut field = Vec::new();
                match write(v, ty, to, &mut field) {
                    Ok(()) => Some(field),
                    // An optional field whose value the layer cannot hold is left out.
                    Err(LayerError::NotInLayer { .. } | LayerError::Unrepresentable { .. })
                        if p.cond.is_some() =>
                    {
                        None
                    }
                    Err(e @ LayerError::NotInLayer { .. }) => return Err(e),
                    // A required field of another type in the source: its empty value.
                    Err(LayerError::Unrepresentable { .. }) => {
                        field.clear();
                        empty(ty, to, &mut field)?;
                        Some(field)
                    }
                    Err(e) => return Err(e),
                }
            }
            (_, None) => None,
        };
        if let (Some(_), Some(c)) = (&bytes, p.cond) {
            bits[usize::from(c.word)] |= 1 << c.bit;
        }
        encoded.push(bytes);
    }
    write_u32(out, target.id);
    for ((index, p), bytes) in target.params.iter().enumerate().zip(encoded) {
        if p.ty == Ty::Flags {
            write_u32(out, bits[index]);
            continue;
        }
        let present = match p.cond {
            None => true,
            Some(c) => bits[usize::from(c.word)] & (1 << c.bit) != 0,
        };
        match (present, bytes) {
            (false, _) => {}
            (true, Some(b)) => out.extend_from_slice(&b),
            (true, None) => empty(p.ty, to, out)?,
        }
    }
    Ok(())
}

/// The source's value of the field called `name`, if it has one (flags words excepted).
fn source_field<'v, 'a>(o: &'v Object<'a>, name: &str) -> Option<&'v Value<'a>> {
    o.def
        .params
        .iter()
        .zip(&o.fields)
        .find(|(p, _)| p.name == name && p.ty != Ty::Flags)
        .and_then(|(_, v)| v.as_ref())
}

/// The value Telegram gives a required field that a value's own layer lacks: 0, "", false, an
/// empty vector, or the type's constructor without required fields (`userStatusEmpty`).
fn empty(ty: Ty, to: Layer, out: &mut Vec<u8>) -> Result<(), LayerError> {
    match ty {
        Ty::Int => write_i32(out, 0),
        Ty::Long | Ty::Double => write_i64(out, 0),
        Ty::Int128 => out.extend_from_slice(&[0; 16]),
        Ty::Int256 => out.extend_from_slice(&[0; 32]),
        Ty::String | Ty::Bytes => write_bytes(out, &[]),
        Ty::Bool => write_u32(out, BOOL_FALSE_ID),
        Ty::Vector(_) => {
            write_u32(out, VECTOR_ID);
            write_u32(out, 0);
        }
        Ty::Flags | Ty::True => {}
        Ty::Boxed(_) => {
            let bare = DEFS
                .iter()
                .filter(|d| !d.function && d.result == ty && d.in_layer(to))
                .filter(|d| {
                    d.params
                        .iter()
                        .all(|p| p.ty == Ty::Flags || p.cond.is_some())
                })
                .min_by_key(|d| !d.name.ends_with("Empty"))
                .ok_or(LayerError::Unrepresentable {
                    name: "a required field",
                    layer: to.number(),
                })?;
            write_u32(out, bare.id);
            for p in bare.params {
                if p.ty == Ty::Flags {
                    write_u32(out, 0);
                }
            }
        }
        Ty::Query => {
            return Err(LayerError::Unrepresentable {
                name: "a query",
                layer: to.number(),
            })
        }
    }
    Ok(())
}
