//! Per-layer schemas (PROTOCOL-CHECKLIST AC-3): which variant of every constructor and function
//! each sampled API layer uses, read from `index.tl`, and the static tables the server encodes
//! and decodes other layers with.
//!
//! `index.tl` holds every definition of the sampled layers once, each preceded by
//! `// layers A-B,C` naming the sampled layers whose schema holds that exact line; its first
//! line lists the sampled layers (`(exactly: 133 140 …)`). A name can have several variants
//! (`user#3ff6ecb0` … `user#b1b8cc83`), each in its own range of layers.
//!
//! This module only reads the index and writes data: the tables name, per variant, its id, its
//! layers (a bit per sampled layer), its parameters with their wire types and flag conditions,
//! and its result type. The runtime (`crate::tl::layer`) maps a value between two variants of
//! one name field by field (by parameter name, flags recomputed, missing fields dropped or
//! defaulted); how a layer is encoded is therefore decided here, in one place, from the index.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::ast::{Category, Definition, ParamKind, Schema, TypeRef};
use crate::error::Error;

/// The built-in lines of the published schemas that are not ordinary definitions: the wire
/// forms of Bool, `true` and Vector are primitives, `error` and `null` are never sent.
const BUILT_INS: [&str; 6] = [
    "boolFalse#",
    "boolTrue#",
    "true#",
    "vector#",
    "error#",
    "null#",
];

/// The most sampled layers the tables can name (a bit each in a `u128`).
const MAX_LAYERS: usize = 128;

/// The parsed index: the sampled layers, and every definition with the layers that hold it.
#[derive(Debug, Clone)]
pub struct History {
    /// The sampled layers, ascending.
    pub layers: Vec<u32>,
    pub entries: Vec<Entry>,
}

/// One definition of the index.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Bit `i` set: `layers[i]` holds this definition.
    pub layers: u128,
    pub def: Definition,
}

/// Parses `index.tl`.
pub fn parse_index(text: &str) -> Result<History, Error> {
    let first = text.lines().next().unwrap_or("");
    let listed = first
        .split_once("(exactly:")
        .and_then(|(_, rest)| rest.split_once(')'))
        .ok_or_else(|| Error::syntax(1, "the first line does not list the sampled layers"))?
        .0;
    let layers: Vec<u32> = listed
        .split_whitespace()
        .map(|n| n.parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|e| Error::syntax(1, format!("sampled layers: {e}")))?;
    if layers.is_empty() || layers.len() > MAX_LAYERS || layers.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::syntax(
            1,
            "sampled layers must be 1 to 128 ascending numbers",
        ));
    }

    // Blank the built-ins (keeping line numbers) and remember each definition's layer comment.
    let mut code = String::with_capacity(text.len());
    let mut sets: HashMap<usize, u128> = HashMap::new();
    let mut pending: Option<u128> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if let Some(spec) = trimmed.strip_prefix("// layers ") {
            pending = Some(layer_set(spec, &layers).map_err(|m| Error::syntax(number, m))?);
            code.push('\n');
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with("//") || trimmed.starts_with("---") {
            code.push_str(line);
            code.push('\n');
            continue;
        }
        let set = pending
            .take()
            .ok_or_else(|| Error::syntax(number, "a definition without a '// layers' line"))?;
        if BUILT_INS.iter().any(|b| trimmed.starts_with(b)) {
            code.push('\n');
            continue;
        }
        sets.insert(number, set);
        code.push_str(line);
        code.push('\n');
    }
    let schema = crate::parse(&code)?;
    let entries = schema
        .definitions
        .into_iter()
        .map(|def| {
            let layers = sets
                .get(&def.line)
                .copied()
                .ok_or_else(|| Error::syntax(def.line, "a definition must stand on one line"))?;
            Ok(Entry { layers, def })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(History { layers, entries })
}

/// `133-222,230` → the bits of the sampled layers from 133 to 222, and 230.
fn layer_set(spec: &str, layers: &[u32]) -> Result<u128, String> {
    let mut set = 0u128;
    for part in spec.trim().split(',') {
        let (from, to) = match part.split_once('-') {
            Some((a, b)) => (a, b),
            None => (part, part),
        };
        let parse = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|e| format!("layers {spec:?}: {e}"))
        };
        let (from, to) = (parse(from)?, parse(to)?);
        let mut any = false;
        for (i, &l) in layers.iter().enumerate() {
            if (from..=to).contains(&l) {
                set |= 1 << i;
                any = true;
            }
        }
        if !any || !layers.contains(&from) || !layers.contains(&to) {
            return Err(format!("layers {spec:?} name a layer that is not sampled"));
        }
    }
    Ok(set)
}

/// Checks that `current` (the API schema the crate is generated from) is exactly the index's
/// view of its own layer, and writes the tables. `runtime` is the path of the module that
/// defines `Def`, `Param`, `Ty` and `Cond`.
pub fn generate_tables(
    history: &History,
    current: &Schema,
    runtime: &str,
) -> Result<String, Error> {
    let layer = current
        .layer
        .ok_or_else(|| Error::syntax(0, "the current schema has no // LAYER line"))?;
    let current_index = history
        .layers
        .iter()
        .position(|&l| l == layer)
        .ok_or_else(|| {
            Error::syntax(
                0,
                format!("layer {layer} is not a sampled layer of the index"),
            )
        })?;
    check_current(history, current, current_index)?;

    // Types by name, so that one type of two layers is one index.
    let mut type_names: BTreeSet<String> = BTreeSet::new();
    for e in &history.entries {
        collect_types(&e.def.result, &mut type_names);
        for p in &e.def.params {
            if let ParamKind::Value { ty, .. } = &p.kind {
                collect_types(ty, &mut type_names);
            }
        }
    }
    let type_names: Vec<String> = type_names.into_iter().collect();
    let type_index: HashMap<&str, usize> = type_names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();

    // Variants sorted by name, then by their first layer: a name's variants are one run.
    let mut order: Vec<&Entry> = history.entries.iter().collect();
    order.sort_by(|a, b| {
        (a.def.full_name(), a.layers.trailing_zeros(), a.def.id).cmp(&(
            b.def.full_name(),
            b.layers.trailing_zeros(),
            b.def.id,
        ))
    });

    let mut out = String::new();
    let rt = runtime;
    out.push_str(
        "// @generated by codegen from index.tl (the sampled API layers). Do not edit.\n\n",
    );
    let _ = writeln!(
        out,
        "/// The sampled layers, ascending; a variant's `layers` has bit i for `LAYERS[i]`."
    );
    let _ = writeln!(
        out,
        "pub static LAYERS: [i32; {}] = {:?};",
        history.layers.len(),
        history.layers
    );
    let _ = writeln!(
        out,
        "/// The index in `LAYERS` of the layer of `schema/api.tl`.\npub const CURRENT: usize = {current_index};"
    );
    let _ = writeln!(out, "/// Every type name of the sampled layers, sorted.");
    let _ = writeln!(out, "pub static TYPES: [&str; {}] = [", type_names.len());
    for n in &type_names {
        let _ = writeln!(out, "    {n:?},");
    }
    out.push_str("];\n");
    let _ = writeln!(
        out,
        "/// Every variant of every constructor and function, sorted by name, then by first layer."
    );
    let _ = writeln!(out, "pub static DEFS: [{rt}::Def; {}] = [", order.len());
    for e in &order {
        let d = &e.def;
        let mut params = String::new();
        for p in &d.params {
            let (ty, cond) = match &p.kind {
                ParamKind::Flags => (format!("{rt}::Ty::Flags"), "None".to_string()),
                ParamKind::Value { ty, flag } => {
                    let cond = match flag {
                        Some(f) => {
                            let word = d
                                .params
                                .iter()
                                .position(|q| q.name == f.word)
                                .ok_or_else(|| Error::syntax(d.line, "unknown flags word"))?;
                            format!("Some({rt}::Cond {{ word: {word}, bit: {} }})", f.bit)
                        }
                        None => "None".to_string(),
                    };
                    (ty_expr(ty, &d.generics, &type_index, rt, d.line)?, cond)
                }
            };
            let _ = write!(
                params,
                "{rt}::Param {{ name: {:?}, ty: {ty}, cond: {cond} }}, ",
                p.name
            );
        }
        let result = if d.generics.contains(&d.result.name) {
            format!("{rt}::Ty::Query")
        } else {
            ty_expr(&d.result, &d.generics, &type_index, rt, d.line)?
        };
        let _ = writeln!(
            out,
            "    {rt}::Def {{ id: 0x{:08x}, name: {:?}, layers: 0x{:x}, function: {}, result: {result}, params: &[{params}] }},",
            d.id,
            d.full_name(),
            e.layers,
            d.category == Category::Function
        );
    }
    out.push_str("];\n");
    let mut by_id: Vec<(u32, usize)> = order
        .iter()
        .enumerate()
        .map(|(i, e)| (e.def.id, i))
        .collect();
    by_id.sort();
    let _ = writeln!(
        out,
        "/// (id, index in `DEFS`) for every variant, sorted by id: one id may name several variants\n/// that differ only in `true` flags."
    );
    let _ = writeln!(out, "pub static BY_ID: [(u32, u16); {}] = [", by_id.len());
    let mut line = String::new();
    for (id, i) in by_id {
        let _ = write!(line, "(0x{id:08x}, {i}), ");
        if line.len() > 90 {
            let _ = writeln!(out, "    {}", line.trim_end());
            line.clear();
        }
    }
    if !line.is_empty() {
        let _ = writeln!(out, "    {}", line.trim_end());
    }
    out.push_str("];\n");
    Ok(out)
}

/// Every definition of `current` is the index's definition at its layer, and the other way
/// round: the tables then describe the generated types exactly.
fn check_current(history: &History, current: &Schema, layer: usize) -> Result<(), Error> {
    let at_layer: BTreeMap<String, &Definition> = history
        .entries
        .iter()
        .filter(|e| e.layers & (1 << layer) != 0)
        .map(|e| (e.def.full_name(), &e.def))
        .collect();
    for d in &current.definitions {
        match at_layer.get(&d.full_name()) {
            Some(h) if h.source == d.source => {}
            Some(h) => {
                return Err(Error::syntax(
                    d.line,
                    format!("{} differs from the index's {}", d.source, h.source),
                ))
            }
            None => {
                return Err(Error::syntax(
                    d.line,
                    format!("{} is not in the index at its layer", d.full_name()),
                ))
            }
        }
    }
    if at_layer.len() != current.definitions.len() {
        let names: BTreeSet<String> = current.definitions.iter().map(|d| d.full_name()).collect();
        let missing: Vec<&String> = at_layer
            .keys()
            .filter(|n| !names.contains(*n))
            .take(5)
            .collect();
        return Err(Error::syntax(
            0,
            format!("the schema lacks definitions the index has at its layer: {missing:?}"),
        ));
    }
    Ok(())
}

fn collect_types(t: &TypeRef, names: &mut BTreeSet<String>) {
    if let Some(arg) = &t.arg {
        return collect_types(arg, names);
    }
    if t.generic_ref || is_primitive(&t.full_name()) {
        return;
    }
    names.insert(t.full_name());
}

fn is_primitive(name: &str) -> bool {
    matches!(
        name,
        "int" | "long" | "double" | "int128" | "int256" | "string" | "bytes" | "Bool" | "true"
    )
}

/// The runtime `Ty` expression of a type reference.
fn ty_expr(
    t: &TypeRef,
    generics: &[String],
    types: &HashMap<&str, usize>,
    rt: &str,
    line: usize,
) -> Result<String, Error> {
    if t.generic_ref || (generics.contains(&t.name) && t.namespace.is_none()) {
        return Ok(format!("{rt}::Ty::Query"));
    }
    if let Some(arg) = &t.arg {
        if t.name != "Vector" {
            return Err(Error::syntax(
                line,
                format!("bare {t} is not supported in the index"),
            ));
        }
        return Ok(format!(
            "{rt}::Ty::Vector(&{})",
            ty_expr(arg, generics, types, rt, line)?
        ));
    }
    let prim = match t.full_name().as_str() {
        "int" => Some("Int"),
        "long" => Some("Long"),
        "double" => Some("Double"),
        "int128" => Some("Int128"),
        "int256" => Some("Int256"),
        "string" => Some("String"),
        "bytes" => Some("Bytes"),
        "Bool" => Some("Bool"),
        "true" => Some("True"),
        _ => None,
    };
    if let Some(p) = prim {
        return Ok(format!("{rt}::Ty::{p}"));
    }
    if t.bare {
        return Err(Error::syntax(
            line,
            format!("bare type {t} is not supported in the index"),
        ));
    }
    let i = types
        .get(t.full_name().as_str())
        .ok_or_else(|| Error::syntax(line, format!("unknown type {t}")))?;
    Ok(format!("{rt}::Ty::Boxed({i})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "// Sampled layers: 1-3 (exactly: 1 2 3).\n\
// \"// layers A-B\" before a line.\n\
\n\
---types---\n\
\n\
// layers 1-3\n\
boolFalse#bc799737 = Bool;\n\
// layers 1-2\n\
user#1 id:long = User;\n\
// layers 3\n\
user#2 flags:# id:long name:flags.0?string = User;\n\
---functions---\n\
// layers 1,3\n\
getUser#3 id:long = User;\n";

    #[test]
    fn index_lines_get_their_layers() {
        let h = parse_index(INDEX).unwrap();
        assert_eq!(h.layers, vec![1, 2, 3]);
        let got: Vec<(String, u128, u32)> = h
            .entries
            .iter()
            .map(|e| (e.def.full_name(), e.layers, e.def.id))
            .collect();
        assert_eq!(
            got,
            vec![
                ("user".into(), 0b011, 1),
                ("user".into(), 0b100, 2),
                ("getUser".into(), 0b101, 3)
            ]
        );
        assert!(parse_index("no list\n").is_err());
        assert!(layer_set("1-4", &h.layers).is_err());
    }

    #[test]
    fn tables_need_the_current_schema_to_match_its_layer() {
        let h = parse_index(INDEX).unwrap();
        let current = crate::parse(
            "// LAYER 3\nuser#2 flags:# id:long name:flags.0?string = User;\n---functions---\ngetUser#3 id:long = User;\n",
        )
        .unwrap();
        let code = generate_tables(&h, &current, "rt").unwrap();
        assert!(code.contains("pub const CURRENT: usize = 2;"));
        assert!(code.contains("name: \"user\", layers: 0x3"));
        assert!(code.contains("rt::Param { name: \"name\", ty: rt::Ty::String, cond: Some(rt::Cond { word: 0, bit: 0 }) }"));
        let stale = crate::parse("// LAYER 3\nuser#1 id:long = User;\n").unwrap();
        assert!(generate_tables(&h, &stale, "rt").is_err());
        let partial =
            crate::parse("// LAYER 3\nuser#2 flags:# id:long name:flags.0?string = User;\n")
                .unwrap();
        assert!(generate_tables(&h, &partial, "rt").is_err());
    }
}
