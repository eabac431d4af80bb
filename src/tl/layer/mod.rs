//! Every API layer a client may declare (PROTOCOL-CHECKLIST AC-3) [doc: api/invoking#layers].
//!
//! A client names its layer with `invokeWithLayer`; Telegram then answers it in the
//! constructors of that layer, and stock clients reject anything else (CLIENTS.md §1). The
//! handlers here build values of the current layer (`schema/api.tl`); this module re-encodes
//! them for an older layer (`downgrade`) and reads requests of any older layer into the current
//! form (`upgrade`, `decode_function`).
//!
//! The tables (`tables.rs` in OUT_DIR) come from `schema/index.tl` through the generator
//! (`codegen::layers`): per name, every variant with the sampled layers that use it. A value is
//! read into a [`Value`] tree following the variants of the layer it was written in, then
//! written in the variants of the target layer: fields matched by name, flags words recomputed,
//! a field the target lacks dropped, a field only the target has given its empty value (0, "",
//! false, an empty vector, the type's field-less constructor). A constructor the target layer
//! lacks altogether is never written: an optional field or vector element holding one is left
//! out, anything else fails with [`LayerError::NotInLayer`].
//!
//! A declared layer between two sampled ones is served as the older of them; one below the
//! oldest sampled layer as the oldest, one above the newest as the newest.

mod value;
mod write;

pub use value::{Object, Value};

use crate::tl::{DecodeError, DecodeErrorKind, Reader};

#[allow(clippy::all, clippy::pedantic)]
mod tables {
    include!(concat!(env!("OUT_DIR"), "/tl_layers.rs"));
}

pub use tables::{DEFS, LAYERS, TYPES};

/// One variant of a constructor or function: what one line of `index.tl` says.
#[derive(Debug)]
pub struct Def {
    pub id: u32,
    /// The TL name with its namespace, e.g. `auth.sentCode`.
    pub name: &'static str,
    /// Bit i: `LAYERS[i]` uses this variant.
    pub layers: u128,
    pub function: bool,
    /// The result type (`Ty::Query` for the generic `X` of the invoke wrappers).
    pub result: Ty,
    pub params: &'static [Param],
}

/// A parameter of a variant.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub ty: Ty,
    /// `flags.N?`: present when bit `bit` of the flags word at parameter index `word` is set.
    pub cond: Option<Cond>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cond {
    pub word: u8,
    pub bit: u8,
}

/// A parameter's wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// `#`: a flags word.
    Flags,
    /// `flags.N?true`: a bit, no bytes.
    True,
    Int,
    Long,
    Double,
    Int128,
    Int256,
    String,
    Bytes,
    Bool,
    /// A boxed type, by its index in `TYPES`.
    Boxed(u16),
    /// `Vector<T>`.
    Vector(&'static Ty),
    /// `!X`: a function value (the query of an invoke wrapper).
    Query,
}

impl Ty {
    /// Fewest bytes a value takes on the wire: bounds vector counts before allocating.
    fn min_size(self) -> usize {
        match self {
            Ty::Flags | Ty::True => 0,
            Ty::Long | Ty::Double | Ty::Vector(_) => 8,
            Ty::Int128 => 16,
            Ty::Int256 => 32,
            _ => 4,
        }
    }

    /// The type's TL name (`User`, `Vector<long>`).
    pub fn name(self) -> String {
        match self {
            Ty::Flags => "#".into(),
            Ty::True => "true".into(),
            Ty::Int => "int".into(),
            Ty::Long => "long".into(),
            Ty::Double => "double".into(),
            Ty::Int128 => "int128".into(),
            Ty::Int256 => "int256".into(),
            Ty::String => "string".into(),
            Ty::Bytes => "bytes".into(),
            Ty::Bool => "Bool".into(),
            Ty::Boxed(t) => TYPES[usize::from(t)].into(),
            Ty::Vector(e) => format!("Vector<{}>", e.name()),
            Ty::Query => "X".into(),
        }
    }
}

/// A sampled layer (an index into [`LAYERS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Layer(u8);

impl Layer {
    /// The layer of `schema/api.tl`, which the generated types and the handlers speak.
    pub const CURRENT: Layer = Layer(tables::CURRENT as u8);

    /// The sampled layer that serves a client declaring `declared`: the newest sampled layer
    /// not above it, the oldest for anything older. 0 (nothing declared) is served the current
    /// layer.
    pub fn serving(declared: i32) -> Layer {
        if declared <= 0 {
            return Layer::CURRENT;
        }
        let newer = LAYERS.partition_point(|&l| l <= declared);
        Layer(newer.saturating_sub(1) as u8)
    }

    /// The layer's number, e.g. 158.
    pub fn number(self) -> i32 {
        LAYERS[usize::from(self.0)]
    }

    /// Every sampled layer, oldest first.
    pub fn all() -> impl Iterator<Item = Layer> {
        (0..LAYERS.len()).map(|i| Layer(i as u8))
    }

    fn bit(self) -> u128 {
        1 << self.0
    }
}

/// A variant is one line of the index: equal only to itself.
impl PartialEq for Def {
    fn eq(&self, other: &Def) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Def {
    /// Whether `layer` uses this variant.
    pub fn in_layer(&self, layer: Layer) -> bool {
        self.layers & layer.bit() != 0
    }

    /// The newest layer using this variant.
    fn newest(&self) -> u32 {
        127 - self.layers.leading_zeros()
    }
}

/// Which variants a reader takes an id for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Only the variants of this layer.
    Layer(Layer),
    /// Any variant of any sampled layer (the newest one of that id): a request does not say
    /// its layer, and ids are unique to a definition.
    Any,
}

/// Why a value could not be read or written in a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerError {
    /// The bytes are not a value of the type in the form read.
    Decode(DecodeError),
    /// The target layer has no variant of this constructor or function.
    NotInLayer { name: &'static str, layer: i32 },
    /// A field the target requires has a value of another type, or no empty value exists.
    Unrepresentable { name: &'static str, layer: i32 },
}

impl From<DecodeError> for LayerError {
    fn from(e: DecodeError) -> Self {
        LayerError::Decode(e)
    }
}

impl std::fmt::Display for LayerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayerError::Decode(e) => write!(f, "{e}"),
            LayerError::NotInLayer { name, layer } => write!(f, "layer {layer} has no {name}"),
            LayerError::Unrepresentable { name, layer } => {
                write!(f, "{name} cannot be written in layer {layer}")
            }
        }
    }
}

impl std::error::Error for LayerError {}

/// The variant an id names in `form`.
pub fn by_id(id: u32, form: Form) -> Option<&'static Def> {
    let start = tables::BY_ID.partition_point(|e| e.0 < id);
    let same = tables::BY_ID[start..]
        .iter()
        .take_while(|e| e.0 == id)
        .map(|e| &DEFS[usize::from(e.1)]);
    match form {
        Form::Layer(l) => same.into_iter().find(|d| d.in_layer(l)),
        Form::Any => same.max_by_key(|d| d.newest()),
    }
}

/// The variant of `name` that `layer` uses.
pub fn variant(name: &str, layer: Layer) -> Option<&'static Def> {
    let start = DEFS.partition_point(|d| d.name < name);
    DEFS[start..]
        .iter()
        .take_while(|d| d.name == name)
        .find(|d| d.in_layer(layer))
}

/// A boxed type by its TL name (`Updates`, `auth.Authorization`).
pub fn type_named(name: &str) -> Option<Ty> {
    TYPES.binary_search(&name).ok().map(|i| Ty::Boxed(i as u16))
}

/// The result type of a function of the current layer, by its id; `None` for MTProto service
/// functions, whose answers are the same in every layer.
pub fn result_type(function_id: u32) -> Option<Ty> {
    current_function(function_id).map(|d| d.result)
}

/// The current layer's function with this id (`None` for MTProto service functions).
fn current_function(function_id: u32) -> Option<&'static Def> {
    by_id(function_id, Form::Layer(Layer::CURRENT)).filter(|d| d.function)
}

/// The answer to the current layer's function `function_id` (as a handler built it) for a
/// client of layer `to`: in that layer's constructors and in the result type the function has
/// there. A function whose result became an object since (`auth.logOut`: `Bool` up to layer
/// 133, `auth.LoggedOut` after) answers `boolTrue` where it was Bool, as its success. MTProto
/// service functions' answers are returned as they are.
pub fn answer_for_layer(
    function_id: u32,
    answer: Vec<u8>,
    to: Layer,
) -> Result<Vec<u8>, LayerError> {
    if to == Layer::CURRENT {
        return Ok(answer);
    }
    let Some(current) = current_function(function_id) else {
        return Ok(answer);
    };
    let target = variant(current.name, to).map_or(current.result, |d| d.result);
    let v = decode(&answer, current.result, Form::Layer(Layer::CURRENT))?;
    let success = Value::Bool(true);
    let v = if target == Ty::Bool && matches!(v, Value::Object(_)) {
        &success
    } else {
        &v
    };
    let mut out = Vec::with_capacity(answer.len());
    write::write(v, target, to, &mut out)?;
    Ok(out)
}

/// The result type of a request as sent in `form` (its invoke wrappers looked through): what
/// its answer decodes as. `None` for MTProto service functions and undecodable bytes.
pub fn answer_type(request: &[u8], form: Form) -> Option<Ty> {
    let mut v = decode(request, Ty::Query, form).ok()?;
    loop {
        let Value::Object(o) = v else { return None };
        let o = *o;
        if o.def.result != Ty::Query {
            return Some(o.def.result);
        }
        let at = o.def.params.iter().position(|p| p.ty == Ty::Query)?;
        v = o.fields.into_iter().nth(at)??;
    }
}

/// Reads a whole value of `ty` written in `form`.
pub fn decode(bytes: &[u8], ty: Ty, form: Form) -> Result<Value<'_>, LayerError> {
    let mut r = Reader::new(bytes);
    let v = value::read(&mut r, ty, form)?;
    r.finish()?;
    Ok(v)
}

/// Reads a whole boxed value of any type, or a function, written in `form` (for tools): the
/// variant its id names, and the value.
pub fn decode_any(bytes: &[u8], form: Form) -> Result<(&'static Def, Value<'_>), LayerError> {
    let mut r = Reader::new(bytes);
    let read = value::read_any(&mut r, form)?;
    r.finish()?;
    Ok(read)
}

/// Writes a value in the variants of `to` (`decode` then `encode` in one layer re-encodes a
/// value canonically: flags recomputed).
pub fn encode(value: &Value<'_>, ty: Ty, to: Layer) -> Result<Vec<u8>, LayerError> {
    let mut out = Vec::new();
    write::write(value, ty, to, &mut out)?;
    Ok(out)
}

/// The type a boxed value of `def` is read as: its result, or a query for a function.
pub fn type_of(def: &Def) -> Ty {
    if def.function {
        Ty::Query
    } else {
        def.result
    }
}

/// Re-encodes a whole value of `ty` written in `from` in the variants of `to`.
pub fn transcode(bytes: &[u8], ty: Ty, from: Form, to: Layer) -> Result<Vec<u8>, LayerError> {
    if from == Form::Layer(to) {
        return Ok(bytes.to_vec());
    }
    let v = decode(bytes, ty, from)?;
    let mut out = Vec::with_capacity(bytes.len());
    write::write(&v, ty, to, &mut out)?;
    Ok(out)
}

/// A value of the current layer (as the handlers build it) in the constructors of `to`.
pub fn downgrade(bytes: &[u8], ty: Ty, to: Layer) -> Result<Vec<u8>, LayerError> {
    transcode(bytes, ty, Form::Layer(Layer::CURRENT), to)
}

/// The largest request `decode_function` re-encodes from an older layer. The value tree takes
/// up to ~10× its wire size in memory; real requests of older clients are a few hundred bytes.
pub const MAX_UPGRADE_LEN: usize = 256 * 1024;

/// Decodes a request: in the current form, or else, when it names a constructor or function
/// the current layer lacks, in the form of the older layer that has it (the older fields mapped
/// by name, missing ones empty). The error is the current form's when neither works.
pub fn decode_function(body: &[u8]) -> Result<crate::tl::functions::Function, DecodeError> {
    use crate::tl::Deserializable;
    let first = match crate::tl::functions::Function::from_bytes(body) {
        Ok(f) => return Ok(f),
        Err(e) => e,
    };
    if !matches!(first.kind, DecodeErrorKind::UnknownConstructor { .. })
        || body.len() > MAX_UPGRADE_LEN
    {
        return Err(first);
    }
    transcode(body, Ty::Query, Form::Any, Layer::CURRENT)
        .ok()
        .and_then(|current| crate::tl::functions::Function::from_bytes(&current).ok())
        .ok_or(first)
}

#[cfg(test)]
mod tests;
