//! Schema errors, each tied to the line of the definition it concerns.

use std::fmt;

/// What is wrong with a schema, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// 1-based line in the schema file (0 when the error concerns the file as a whole).
    pub line: usize,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text does not follow the TL grammar.
    Syntax(String),
    /// A declared `#id` differs from the CRC32 of the normalized definition.
    IdMismatch {
        name: String,
        declared: u32,
        computed: u32,
    },
    /// Two definitions share a name, an id, or a generated Rust name.
    Duplicate(String),
    /// A parameter or result names a type that no definition provides.
    UnknownType(String),
    /// A conditional parameter names a flags word that is not declared before it.
    UnknownFlags(String),
}

impl Error {
    pub(crate) fn syntax(line: usize, message: impl Into<String>) -> Self {
        Error {
            line,
            kind: ErrorKind::Syntax(message.into()),
        }
    }

    /// Formats the error as `file:line: message`, the form build scripts and the CLI print.
    pub fn at(&self, file: &str) -> String {
        format!("{file}:{}: {}", self.line, self.kind)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Syntax(m) => write!(f, "syntax error: {m}"),
            ErrorKind::IdMismatch {
                name,
                declared,
                computed,
            } => write!(
                f,
                "id mismatch for {name}: declared #{declared:08x}, CRC32 of the definition is #{computed:08x}"
            ),
            ErrorKind::Duplicate(m) => write!(f, "duplicate: {m}"),
            ErrorKind::UnknownType(t) => write!(f, "unknown type {t}"),
            ErrorKind::UnknownFlags(m) => write!(f, "unknown flags word: {m}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

impl std::error::Error for Error {}
