//! The parsed form of a TL schema: definitions, parameters and type references.
//!
//! Follows the grammar of core.telegram.org/mtproto/TL (combinator declarations) as far as the
//! real Telegram schemas use it.

use std::fmt;

/// Which section of the schema a definition stands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// `---types---`: a constructor of a boxed type.
    Type,
    /// `---functions---`: an RPC function and its result type.
    Function,
}

/// One parsed schema file.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The `// LAYER N` line, when the file has one.
    pub layer: Option<u32>,
    /// Every definition, in file order.
    pub definitions: Vec<Definition>,
}

/// One combinator: `ns.name#id {X:Type} params... = ResultType;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// 1-based line of the definition's first token.
    pub line: usize,
    pub category: Category,
    /// `auth` in `auth.sentCode`.
    pub namespace: Option<String>,
    /// `sentCode` in `auth.sentCode`.
    pub name: String,
    /// The `#id` as written, if any.
    pub declared_id: Option<u32>,
    /// CRC32 of the normalized definition (see `ids`).
    pub computed_id: u32,
    /// The id the wire uses: the declared one, or the computed one when none is written.
    pub id: u32,
    /// `{X:Type}` parameters, by name.
    pub generics: Vec<String>,
    pub params: Vec<Param>,
    pub result: TypeRef,
    /// The definition as written, whitespace collapsed (used for doc comments).
    pub source: String,
}

impl Definition {
    /// `auth.sentCode`.
    pub fn full_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A parameter: `name:type`, `name:#` or `name:flags.N?type`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    /// `name:#`, a flags word whose bits the conditional parameters after it read.
    Flags,
    /// A value, present always or only when `flag` is set.
    Value { ty: TypeRef, flag: Option<Flag> },
}

/// `flags2.5?` in `flags2.5?Vector<Username>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub word: String,
    pub bit: u32,
}

/// A reference to a type: `int`, `auth.SentCode`, `Vector<long>`, `vector<future_salt>`,
/// `%Message`, `!X`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    pub namespace: Option<String>,
    pub name: String,
    /// Lowercase first letter, or written with `%`: no constructor id on the wire.
    pub bare: bool,
    /// Written with a leading `%`.
    pub percent: bool,
    /// `!X`: the serialized value of a function whose result type is `X`.
    pub generic_ref: bool,
    /// `T` in `Vector<T>`.
    pub arg: Option<Box<TypeRef>>,
}

impl TypeRef {
    /// The type's name with its namespace: `auth.SentCode`.
    pub fn full_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

impl fmt::Display for TypeRef {
    /// The type as the schema writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.generic_ref {
            f.write_str("!")?;
        }
        if self.percent {
            f.write_str("%")?;
        }
        f.write_str(&self.full_name())?;
        if let Some(arg) = &self.arg {
            write!(f, "<{arg}>")?;
        }
        Ok(())
    }
}
