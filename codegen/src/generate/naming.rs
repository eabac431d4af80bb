//! Rust names for TL names: types, variants, fields and modules.

use std::collections::HashSet;

use super::Model;

/// Names the generated code uses unqualified; no generated item may shadow them.
pub(super) const PRELUDE_NAMES: [&str; 8] = [
    "Box", "Vec", "String", "Option", "Some", "None", "Ok", "Err",
];

pub(super) const RUST_KEYWORDS: [&str; 51] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

pub(super) fn pascal(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// The Rust name of a parameter: lowercase (`srp_B` → `srp_b`, `M1` → `m1`), `self` → `is_self`,
/// other keywords as raw identifiers.
pub(super) fn field_ident(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "self" => "is_self".to_string(),
        n if RUST_KEYWORDS.contains(&n) => format!("r#{n}"),
        _ => lower,
    }
}

pub(super) fn module_ident(ns: &str) -> String {
    if RUST_KEYWORDS.contains(&ns) {
        format!("r#{ns}")
    } else {
        ns.to_string()
    }
}

impl Model {
    /// Variant names: the constructor's name without the type's name in front when that leaves
    /// a usable identifier (`auth.sentCodeSuccess` in `auth.SentCode` → `Success`), else whole.
    pub(super) fn name_variants(&mut self) {
        for t in &mut self.types {
            let mut used = HashSet::new();
            let mut names = Vec::new();
            for &ci in &t.ctors {
                let full = &self.ctors[ci].rust_name;
                let stripped = full
                    .strip_prefix(t.rust_name.as_str())
                    .filter(|r| r.starts_with(|c: char| c.is_ascii_uppercase()))
                    .filter(|r| !RUST_KEYWORDS.contains(r) && !PRELUDE_NAMES.contains(r));
                let name = match stripped {
                    Some(r)
                        if !used.contains(r)
                            && !t.ctors.iter().any(|&o| self.ctors[o].rust_name == r) =>
                    {
                        r.to_string()
                    }
                    _ => full.clone(),
                };
                used.insert(name.clone());
                names.push(name);
            }
            t.variants = names;
        }
    }
}
