//! A TL value read by the layer tables instead of the generated types: what `transcode` carries
//! from one layer's variants to another's, and what `tl decode --layer` prints.

use std::fmt;

use super::{by_id, Def, Form, LayerError, Ty};
use crate::tl::Reader;

/// One value; strings and bytes borrow the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Int(i32),
    Long(i64),
    Double(f64),
    Int128([u8; 16]),
    Int256(Box<[u8; 32]>),
    /// A `string` (UTF-8 is checked where the value is finally decoded, not here).
    Str(&'a [u8]),
    Bytes(&'a [u8]),
    Bool(bool),
    /// A set `flags.N?true` bit.
    True,
    /// A flags word as read (the writer recomputes flags).
    Flags(u32),
    Object(Box<Object<'a>>),
    Vector(Vec<Value<'a>>),
}

/// A constructor or function with its fields, one per parameter of its variant (`None`: a
/// conditional field that is absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Object<'a> {
    pub def: &'static Def,
    pub fields: Vec<Option<Value<'a>>>,
}

impl<'a> Value<'a> {
    /// Calls `f` with every constructor and function in the value, outermost first.
    pub fn each_object(&self, f: &mut impl FnMut(&'static Def)) {
        match self {
            Value::Object(o) => {
                f(o.def);
                for v in o.fields.iter().flatten() {
                    v.each_object(f);
                }
            }
            Value::Vector(items) => items.iter().for_each(|v| v.each_object(f)),
            _ => {}
        }
    }
}

/// Reads a value of `ty` whose constructors are those of `form`.
pub(super) fn read<'a>(r: &mut Reader<'a>, ty: Ty, form: Form) -> Result<Value<'a>, LayerError> {
    Ok(match ty {
        Ty::Int => Value::Int(r.read_i32()?),
        Ty::Long => Value::Long(r.read_i64()?),
        Ty::Double => Value::Double(r.read_f64()?),
        Ty::Int128 => Value::Int128(r.read_int128()?),
        Ty::Int256 => Value::Int256(Box::new(r.read_int256()?)),
        Ty::String => Value::Str(r.read_bytes_slice()?),
        Ty::Bytes => Value::Bytes(r.read_bytes_slice()?),
        Ty::Bool => Value::Bool(r.read_bool()?),
        // Neither stands alone: `object` reads them as part of their constructor.
        Ty::Flags | Ty::True => Value::Flags(r.read_u32()?),
        Ty::Vector(elem) => {
            let n = r.read_vector_len(elem.min_size())?;
            let mut items = r.vec_for(n);
            for _ in 0..n {
                items.push(read(r, *elem, form)?);
            }
            Value::Vector(items)
        }
        Ty::Boxed(_) | Ty::Query => {
            r.enter()?;
            let id = r.read_u32()?;
            let def = by_id(id, form)
                .filter(|d| {
                    if ty == Ty::Query {
                        d.function
                    } else {
                        !d.function && d.result == ty
                    }
                })
                .ok_or_else(|| r.unknown_constructor(id))?;
            let v = object(r, def, form)?;
            r.leave();
            v
        }
    })
}

/// Reads any boxed constructor or function (the type unknown, as in a capture).
/// Returns the variant its id names with the value.
pub(super) fn read_any<'a>(
    r: &mut Reader<'a>,
    form: Form,
) -> Result<(&'static Def, Value<'a>), LayerError> {
    let id = r.peek_u32()?;
    let Some(def) = by_id(id, form) else {
        r.read_u32()?;
        return Err(r.unknown_constructor(id).into());
    };
    Ok((def, read(r, super::type_of(def), form)?))
}

/// The fields of `def`, its id already read.
fn object<'a>(r: &mut Reader<'a>, def: &'static Def, form: Form) -> Result<Value<'a>, LayerError> {
    let mut fields: Vec<Option<Value<'a>>> = Vec::with_capacity(def.params.len());
    for p in def.params {
        let present = match p.cond {
            None => true,
            Some(c) => match fields.get(usize::from(c.word)) {
                Some(Some(Value::Flags(w))) => w & (1 << c.bit) != 0,
                _ => false,
            },
        };
        let v = match (present, p.ty) {
            (false, _) => None,
            (true, Ty::True) => Some(Value::True),
            (true, Ty::Flags) => Some(Value::Flags(r.read_u32()?)),
            (true, ty) => Some(read(r, ty, form)?),
        };
        fields.push(v);
    }
    Ok(Value::Object(Box::new(Object { def, fields })))
}

/// TL-like text: `user#8f97c628 { id: 5, first_name: "Ada", … }`; with `{:#}` one field a line,
/// indented.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            let mut out = String::new();
            self.pretty(&mut out, 0);
            return f.write_str(&out);
        }
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Long(v) => write!(f, "{v}"),
            Value::Double(v) => write!(f, "{v}"),
            Value::Int128(v) => write!(f, "0x{}", hex(v)),
            Value::Int256(v) => write!(f, "0x{}", hex(&v[..])),
            Value::Str(s) => write!(f, "{:?}", String::from_utf8_lossy(s)),
            Value::Bytes(b) => write!(f, "bytes[{}] {}", b.len(), hex(b)),
            Value::Bool(b) => write!(f, "{b}"),
            Value::True => write!(f, "true"),
            Value::Flags(w) => write!(f, "0x{w:x}"),
            Value::Vector(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Object(o) => {
                write!(f, "{}#{:08x}", o.def.name, o.def.id)?;
                let set: Vec<_> = o
                    .def
                    .params
                    .iter()
                    .zip(&o.fields)
                    .filter(|(p, v)| p.ty != Ty::Flags && v.is_some())
                    .collect();
                if set.is_empty() {
                    return Ok(());
                }
                f.write_str(" { ")?;
                for (i, (p, v)) in set.into_iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if let Some(v) = v {
                        write!(f, "{}: {v}", p.name)?;
                    }
                }
                f.write_str(" }")
            }
        }
    }
}

impl Value<'_> {
    fn pretty(&self, out: &mut String, indent: usize) {
        use std::fmt::Write as _;
        let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n("    ", n));
        match self {
            Value::Vector(items) if !items.is_empty() => {
                out.push_str("[\n");
                for v in items {
                    pad(out, indent + 1);
                    v.pretty(out, indent + 1);
                    out.push_str(",\n");
                }
                pad(out, indent);
                out.push(']');
            }
            Value::Object(o) => {
                let _ = write!(out, "{}#{:08x}", o.def.name, o.def.id);
                let set: Vec<_> = o
                    .def
                    .params
                    .iter()
                    .zip(&o.fields)
                    .filter_map(|(p, v)| v.as_ref().filter(|_| p.ty != Ty::Flags).map(|v| (p, v)))
                    .collect();
                if set.is_empty() {
                    return;
                }
                out.push_str(" {\n");
                for (p, v) in set {
                    pad(out, indent + 1);
                    let _ = write!(out, "{}: ", p.name);
                    v.pretty(out, indent + 1);
                    out.push_str(",\n");
                }
                pad(out, indent);
                out.push('}');
            }
            other => {
                let _ = write!(out, "{other}");
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
