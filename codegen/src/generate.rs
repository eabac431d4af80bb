//! Rust code generation for parsed TL schemas.
//!
//! Output shape, mounted by the main crate at `Config::root`:
//!
//! ```text
//! types::{ns::}Name       a struct per constructor, with serialize_bare / deserialize_bare
//! enums::{ns::}Type       an enum per boxed type, one variant per constructor
//! functions::{ns::}Name   a struct per function, with RemoteCall::Return
//! functions::Function     every function, decoded by its constructor id (server dispatch input)
//! deserialize_any         any constructor or function, boxed, by its id
//! name_for_id             the TL name of any constructor or function id
//! ```
//!
//! Wire rules follow core.telegram.org/mtproto/serialize. Fields of a boxed type that would make a
//! type contain itself (the type and the field's type are in one strongly connected component of
//! the "contains by value" graph) are boxed; vectors already break such cycles.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use crate::ast::{Category, Definition, ParamKind, Schema, TypeRef};
use crate::error::{Error, ErrorKind};

/// Where the generated code is mounted and where it finds its runtime.
#[derive(Debug, Clone)]
pub struct Config {
    /// Path of the module the generated file is included in, e.g. `crate::tl`.
    pub root: String,
    /// Path of the runtime (`Reader`, `DecodeError`, the traits and `write_*` helpers).
    pub runtime: String,
}

/// An error of one of the input schemas: its index in the slice given to `generate`, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateError {
    pub schema: usize,
    pub error: Error,
}

/// Generates one Rust source file for all `schemas` together (they share one name space).
pub fn generate(schemas: &[&Schema], config: &Config) -> Result<String, GenerateError> {
    let model = Model::build(schemas)?;
    let mut g = Gen {
        model: &model,
        root: config.root.clone(),
        rt: config.runtime.clone(),
        out: String::new(),
    };
    g.file();
    Ok(g.out)
}

/// How much larger than the next variant an enum variant may be before it is boxed.
const LARGE_VARIANT_MARGIN: usize = 128;

/// Names the generated code uses unqualified; no generated item may shadow them.
const PRELUDE_NAMES: [&str; 8] = [
    "Box", "Vec", "String", "Option", "Some", "None", "Ok", "Err",
];

const RUST_KEYWORDS: [&str; 51] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// A field type, resolved against the schema.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Int,
    Long,
    Double,
    Int128,
    Int256,
    Str,
    Bytes,
    Bool,
    /// `flags.N?true`: a bit, no bytes.
    True,
    Vector {
        boxed: bool,
        elem: Box<Ty>,
    },
    /// A boxed type: the enum of its constructors.
    Enum(usize),
    /// A bare constructor: its struct without the id.
    Bare(usize),
    /// `!X`: a generic function value.
    Generic(String),
}

struct Field {
    name: String,
    ident: String,
    kind: FieldKind,
}

enum FieldKind {
    Flags,
    Value {
        ty: Ty,
        flag: Option<(String, u32)>,
        /// Boxed to break a by-value cycle.
        boxed: bool,
    },
}

struct Ctor {
    def: Definition,
    schema: usize,
    rust_name: String,
    /// Index into `Model::types`.
    type_index: usize,
    fields: Vec<Field>,
}

struct TypeDef {
    full_name: String,
    namespace: Option<String>,
    rust_name: String,
    ctors: Vec<usize>,
    variants: Vec<String>,
    /// Per variant: whether the enum holds the constructor's struct boxed (see
    /// `box_large_variants`).
    boxed: Vec<bool>,
}

struct Func {
    def: Definition,
    rust_name: String,
    variant: String,
    fields: Vec<Field>,
    result: Ty,
}

struct Model {
    types: Vec<TypeDef>,
    ctors: Vec<Ctor>,
    funcs: Vec<Func>,
}

fn pascal(name: &str) -> String {
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
fn field_ident(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "self" => "is_self".to_string(),
        n if RUST_KEYWORDS.contains(&n) => format!("r#{n}"),
        _ => lower,
    }
}

fn module_ident(ns: &str) -> String {
    if RUST_KEYWORDS.contains(&ns) {
        format!("r#{ns}")
    } else {
        ns.to_string()
    }
}

impl Model {
    fn build(schemas: &[&Schema]) -> Result<Model, GenerateError> {
        let fail = |schema: usize, line: usize, kind: ErrorKind| GenerateError {
            schema,
            error: Error { line, kind },
        };
        let mut types: Vec<TypeDef> = Vec::new();
        let mut type_index: HashMap<String, usize> = HashMap::new();
        let mut ctors: Vec<Ctor> = Vec::new();
        let mut ctor_by_name: HashMap<String, usize> = HashMap::new();
        let mut ids: HashMap<u32, String> = HashMap::new();
        let mut rust_names: HashSet<(u8, Option<String>, String)> = HashSet::new();
        let mut func_defs: Vec<(usize, Definition)> = Vec::new();

        for (si, schema) in schemas.iter().enumerate() {
            for def in &schema.definitions {
                let full = def.full_name();
                if let Some(other) = ids.insert(def.id, full.clone()) {
                    return Err(fail(
                        si,
                        def.line,
                        ErrorKind::Duplicate(format!(
                            "id #{:08x} of {full} is also {other}",
                            def.id
                        )),
                    ));
                }
                let rust_name = pascal(&def.name);
                if PRELUDE_NAMES.contains(&rust_name.as_str()) || rust_name.is_empty() {
                    return Err(fail(
                        si,
                        def.line,
                        ErrorKind::Duplicate(format!(
                            "{full} would be named {rust_name:?} in Rust"
                        )),
                    ));
                }
                let kind = if def.category == Category::Type { 0 } else { 1 };
                if !rust_names.insert((kind, def.namespace.clone(), rust_name.clone())) {
                    return Err(fail(
                        si,
                        def.line,
                        ErrorKind::Duplicate(format!("{full} (Rust name {rust_name})")),
                    ));
                }
                match def.category {
                    Category::Function => func_defs.push((si, def.clone())),
                    Category::Type => {
                        if !def.generics.is_empty() {
                            return Err(fail(
                                si,
                                def.line,
                                ErrorKind::Syntax(format!(
                                    "generic constructor {full} is not supported"
                                )),
                            ));
                        }
                        if def.result.arg.is_some() || def.result.bare || is_primitive(&def.result)
                        {
                            return Err(fail(
                                si,
                                def.line,
                                ErrorKind::Syntax(format!(
                                    "constructor {full} has result type {}",
                                    def.result
                                )),
                            ));
                        }
                        let tname = def.result.full_name();
                        let ti = *type_index.entry(tname.clone()).or_insert_with(|| {
                            types.push(TypeDef {
                                full_name: tname.clone(),
                                namespace: def.result.namespace.clone(),
                                rust_name: pascal(&def.result.name),
                                ctors: Vec::new(),
                                variants: Vec::new(),
                                boxed: Vec::new(),
                            });
                            types.len() - 1
                        });
                        if ctor_by_name.insert(full.clone(), ctors.len()).is_some() {
                            return Err(fail(si, def.line, ErrorKind::Duplicate(full)));
                        }
                        types[ti].ctors.push(ctors.len());
                        ctors.push(Ctor {
                            def: def.clone(),
                            schema: si,
                            rust_name,
                            type_index: ti,
                            fields: Vec::new(),
                        });
                    }
                }
            }
        }
        for t in &types {
            if PRELUDE_NAMES.contains(&t.rust_name.as_str()) || t.rust_name.is_empty() {
                let c = &ctors[t.ctors[0]];
                return Err(fail(
                    c.schema,
                    c.def.line,
                    ErrorKind::Duplicate(format!(
                        "type {} would be named {:?}",
                        t.full_name, t.rust_name
                    )),
                ));
            }
        }

        let resolver = Resolver {
            type_index: &type_index,
            ctor_by_name: &ctor_by_name,
            types: &types,
        };
        for c in &mut ctors {
            c.fields = resolver
                .fields(&c.def)
                .map_err(|kind| fail(c.schema, c.def.line, kind))?;
        }
        let mut funcs = Vec::new();
        let mut variants = HashSet::new();
        for (si, def) in func_defs {
            let fields = resolver.fields(&def).map_err(|k| fail(si, def.line, k))?;
            let result =
                if def.generics.contains(&def.result.name) && def.result.namespace.is_none() {
                    Ty::Generic(def.result.name.clone())
                } else {
                    resolver
                        .resolve(&def.result)
                        .map_err(|k| fail(si, def.line, k))?
                };
            let variant = match &def.namespace {
                Some(ns) => format!("{}{}", pascal(ns), pascal(&def.name)),
                None => pascal(&def.name),
            };
            if !variants.insert(variant.clone()) {
                return Err(fail(
                    si,
                    def.line,
                    ErrorKind::Duplicate(format!("function variant {variant}")),
                ));
            }
            funcs.push(Func {
                rust_name: pascal(&def.name),
                variant,
                fields,
                result,
                def,
            });
        }

        let mut model = Model {
            types,
            ctors,
            funcs,
        };
        model.name_variants();
        model.box_cycles();
        model.box_large_variants();
        Ok(model)
    }

    /// Variant names: the constructor's name without the type's name in front when that leaves
    /// a usable identifier (`auth.sentCodeSuccess` in `auth.SentCode` → `Success`), else whole.
    fn name_variants(&mut self) {
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

    /// Boxes every by-value field whose type lies in the same strongly connected component as
    /// the type holding it (Tarjan's algorithm over the "contains by value" graph of types).
    fn box_cycles(&mut self) {
        let n = self.types.len();
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
        for c in &self.ctors {
            for f in &c.fields {
                if let FieldKind::Value { ty, .. } = &f.kind {
                    if let Some(t) = self.by_value_type(ty) {
                        edges[c.type_index].push(t);
                    }
                }
            }
        }
        let comp = tarjan(&edges);
        let targets: Vec<Vec<Option<usize>>> = self
            .ctors
            .iter()
            .map(|c| {
                c.fields
                    .iter()
                    .map(|f| match &f.kind {
                        FieldKind::Value { ty, .. } => self.by_value_type(ty),
                        FieldKind::Flags => None,
                    })
                    .collect()
            })
            .collect();
        for (c, tv) in self.ctors.iter_mut().zip(targets) {
            for (f, target) in c.fields.iter_mut().zip(tv) {
                if let (FieldKind::Value { boxed, .. }, Some(t)) = (&mut f.kind, target) {
                    *boxed = comp[t] == comp[c.type_index];
                }
            }
        }
    }

    /// Boxes an enum's largest variant while it is more than `LARGE_VARIANT_MARGIN` bytes
    /// larger than the next one (the rule of clippy's `large_enum_variant`). Without it a rare
    /// variant inflates every value of the type: `auth.SentCode` would be ~700 bytes because
    /// `auth.sentCodeSuccess` holds a whole `User`, and moving that through decoding costs more
    /// than decoding the common `auth.sentCode` itself.
    fn box_large_variants(&mut self) {
        let mut sizes: Vec<Option<usize>> = vec![None; self.types.len()];
        for t in 0..self.types.len() {
            self.enum_size(t, &mut sizes, 0);
        }
    }

    /// Estimated in-memory size of enum `t`, deciding its boxed variants on the way. Only the
    /// boxing decision uses it, so rough layout rules are enough.
    fn enum_size(&mut self, t: usize, sizes: &mut Vec<Option<usize>>, depth: usize) -> usize {
        if let Some(size) = sizes[t] {
            return size;
        }
        if depth > 64 {
            return 8;
        }
        let ctors = self.types[t].ctors.clone();
        let mut payload: Vec<usize> = ctors
            .iter()
            .map(|&c| self.struct_size(c, sizes, depth + 1))
            .collect();
        let mut boxed = vec![false; payload.len()];
        while payload.len() > 1 {
            let mut order: Vec<usize> = (0..payload.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(payload[i]));
            let (largest, second) = (order[0], order[1]);
            if payload[largest] <= payload[second] + LARGE_VARIANT_MARGIN {
                break;
            }
            boxed[largest] = true;
            payload[largest] = 8;
        }
        let size = payload.iter().copied().max().unwrap_or(0) + 8;
        self.types[t].boxed = boxed;
        sizes[t] = Some(size);
        size
    }

    fn struct_size(&mut self, c: usize, sizes: &mut Vec<Option<usize>>, depth: usize) -> usize {
        let fields: Vec<(Ty, bool, bool)> = self.ctors[c]
            .fields
            .iter()
            .filter_map(|f| match &f.kind {
                FieldKind::Value { ty, flag, boxed } => Some((ty.clone(), flag.is_some(), *boxed)),
                FieldKind::Flags => None,
            })
            .collect();
        let mut total = 0;
        for (ty, optional, boxed) in fields {
            let size = match ty {
                _ if boxed => 8,
                Ty::Bool | Ty::True => 1,
                Ty::Int => 4,
                Ty::Long | Ty::Double | Ty::Generic(_) => 8,
                Ty::Int128 => 16,
                Ty::Int256 => 32,
                Ty::Str | Ty::Bytes | Ty::Vector { .. } => 24,
                Ty::Enum(u) => self.enum_size(u, sizes, depth + 1),
                Ty::Bare(b) => self.struct_size(b, sizes, depth + 1),
            };
            // Option of a scalar needs a tag; pointers and enums have a niche for it.
            let tagged = optional
                && matches!(
                    ty,
                    Ty::Int | Ty::Long | Ty::Double | Ty::Int128 | Ty::Int256
                );
            total += size + if tagged { 8 } else { 0 };
        }
        total
    }

    /// The type a field holds by value (not through a vector), if it is a schema type.
    fn by_value_type(&self, ty: &Ty) -> Option<usize> {
        match ty {
            Ty::Enum(t) => Some(*t),
            Ty::Bare(c) => Some(self.ctors[*c].type_index),
            _ => None,
        }
    }
}

fn tarjan(edges: &[Vec<usize>]) -> Vec<usize> {
    struct State<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        comp: Vec<usize>,
        next: usize,
        comps: usize,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for i in 0..s.edges[v].len() {
            let w = s.edges[v][i];
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(wi) if s.on_stack[w] => s.low[v] = s.low[v].min(wi),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                s.comp[w] = s.comps;
                if w == v {
                    break;
                }
            }
            s.comps += 1;
        }
    }
    let n = edges.len();
    let mut s = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        comp: vec![0; n],
        next: 0,
        comps: 0,
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.comp
}

/// The value behind `v`, an expression of type `&T` for a `Copy` T: `&self.x` → `self.x`.
fn by_value(v: &str) -> String {
    match v.strip_prefix('&') {
        Some(place) => place.to_string(),
        None => format!("*{v}"),
    }
}

/// `v` (`&self.x` or a reference variable) as a method-call receiver: auto-ref makes the `&`
/// redundant.
fn receiver(v: &str) -> &str {
    v.strip_prefix('&').unwrap_or(v)
}

fn is_primitive(t: &TypeRef) -> bool {
    t.namespace.is_none()
        && matches!(
            t.name.as_str(),
            "int" | "long" | "double" | "int128" | "int256" | "string" | "bytes" | "Bool" | "true"
        )
}

struct Resolver<'a> {
    type_index: &'a HashMap<String, usize>,
    ctor_by_name: &'a HashMap<String, usize>,
    types: &'a [TypeDef],
}

impl Resolver<'_> {
    fn fields(&self, def: &Definition) -> Result<Vec<Field>, ErrorKind> {
        let mut out: Vec<Field> = Vec::new();
        for p in &def.params {
            let kind = match &p.kind {
                ParamKind::Flags => FieldKind::Flags,
                ParamKind::Value { ty, flag } => {
                    let ty = if ty.generic_ref {
                        Ty::Generic(ty.name.clone())
                    } else {
                        self.resolve(ty)?
                    };
                    if ty == Ty::True && flag.is_none() {
                        return Err(ErrorKind::Syntax(format!(
                            "{} is true without a flag",
                            p.name
                        )));
                    }
                    FieldKind::Value {
                        ty,
                        flag: flag.as_ref().map(|f| (f.word.clone(), f.bit)),
                        boxed: false,
                    }
                }
            };
            let ident = field_ident(&p.name);
            if out.iter().any(|f| f.ident == ident) {
                return Err(ErrorKind::Duplicate(format!(
                    "parameter {} (Rust name {ident})",
                    p.name
                )));
            }
            out.push(Field {
                name: p.name.clone(),
                ident,
                kind,
            });
        }
        Ok(out)
    }

    fn resolve(&self, t: &TypeRef) -> Result<Ty, ErrorKind> {
        if let Some(arg) = &t.arg {
            return Ok(Ty::Vector {
                boxed: t.name == "Vector",
                elem: Box::new(self.resolve(arg)?),
            });
        }
        if t.namespace.is_none() && !t.percent {
            let prim = match t.name.as_str() {
                "int" => Some(Ty::Int),
                "long" => Some(Ty::Long),
                "double" => Some(Ty::Double),
                "int128" => Some(Ty::Int128),
                "int256" => Some(Ty::Int256),
                "string" => Some(Ty::Str),
                "bytes" => Some(Ty::Bytes),
                "Bool" => Some(Ty::Bool),
                "true" => Some(Ty::True),
                _ => None,
            };
            if let Some(p) = prim {
                return Ok(p);
            }
        }
        let full = t.full_name();
        if t.percent {
            let ti = self
                .type_index
                .get(&full)
                .ok_or_else(|| ErrorKind::UnknownType(format!("%{full}")))?;
            return match self.types[*ti].ctors.as_slice() {
                [only] => Ok(Ty::Bare(*only)),
                _ => Err(ErrorKind::UnknownType(format!(
                    "%{full} (a bare type needs exactly one constructor)"
                ))),
            };
        }
        if t.bare {
            return self
                .ctor_by_name
                .get(&full)
                .map(|c| Ty::Bare(*c))
                .ok_or(ErrorKind::UnknownType(full));
        }
        self.type_index
            .get(&full)
            .map(|i| Ty::Enum(*i))
            .ok_or(ErrorKind::UnknownType(full))
    }
}

struct Gen<'a> {
    model: &'a Model,
    root: String,
    rt: String,
    out: String,
}

/// Items of one kind grouped by namespace, in a stable order (`None` first, then by name).
type ByNamespace = BTreeMap<Option<String>, Vec<usize>>;

/// Indices of items grouped by their namespaces.
fn by_namespace<'a>(namespaces: impl Iterator<Item = &'a Option<String>>) -> ByNamespace {
    let mut groups = ByNamespace::new();
    for (i, ns) in namespaces.enumerate() {
        groups.entry(ns.clone()).or_default().push(i);
    }
    groups
}

impl Gen<'_> {
    fn line(&mut self, indent: usize, text: &str) {
        for _ in 0..indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn file(&mut self) {
        self.line(
            0,
            "// @generated by codegen from the TL schemas. Do not edit.",
        );
        self.line(0, "");
        let m = self.model;
        let ctor_ns = by_namespace(m.ctors.iter().map(|c| &c.def.namespace));
        self.section(
            "types",
            "One struct per constructor.",
            &ctor_ns,
            |g, i, ind| g.ctor_struct(i, ind),
        );
        let type_ns = by_namespace(m.types.iter().map(|t| &t.namespace));
        self.section(
            "enums",
            "One enum per boxed type, with a variant per constructor.",
            &type_ns,
            |g, i, ind| g.type_enum(i, ind),
        );
        let func_ns = by_namespace(m.funcs.iter().map(|f| &f.def.namespace));
        self.section(
            "functions",
            "One struct per function, and `Function`, the enum of them all.",
            &func_ns,
            |g, i, ind| g.func_struct(i, ind),
        );
        self.names_table();
        self.deserialize_any();
    }

    /// `pub mod NAME { ... }` holding one submodule per namespace; the `functions` module also
    /// holds the `Function` enum.
    fn section(
        &mut self,
        name: &str,
        doc: &str,
        groups: &ByNamespace,
        item: impl FnMut(&mut Self, usize, usize),
    ) {
        self.line(0, &format!("/// {doc}"));
        self.line(0, &format!("pub mod {name} {{"));
        self.modules(groups, item);
        if name == "functions" {
            self.function_enum();
        }
        self.line(0, "}");
        self.line(0, "");
    }

    fn modules(&mut self, groups: &ByNamespace, mut item: impl FnMut(&mut Self, usize, usize)) {
        for (ns, items) in groups {
            let indent = match ns {
                Some(ns) => {
                    self.line(1, &format!("pub mod {} {{", module_ident(ns)));
                    2
                }
                None => 1,
            };
            for &i in items {
                item(self, i, indent);
            }
            if ns.is_some() {
                self.line(1, "}");
            }
        }
    }

    fn path(&self, kind: &str, ns: &Option<String>, name: &str) -> String {
        match ns {
            Some(ns) => format!("{}::{kind}::{}::{name}", self.root, module_ident(ns)),
            None => format!("{}::{kind}::{name}", self.root),
        }
    }

    fn ctor_path(&self, ci: usize) -> String {
        let c = &self.model.ctors[ci];
        self.path("types", &c.def.namespace, &c.rust_name)
    }

    fn enum_path(&self, ti: usize) -> String {
        let t = &self.model.types[ti];
        self.path("enums", &t.namespace, &t.rust_name)
    }

    /// The Rust type of a value of `ty`.
    fn rust_type(&self, ty: &Ty) -> String {
        match ty {
            Ty::Int => "i32".into(),
            Ty::Long => "i64".into(),
            Ty::Double => "f64".into(),
            Ty::Int128 => "[u8; 16]".into(),
            Ty::Int256 => "[u8; 32]".into(),
            Ty::Str => "String".into(),
            Ty::Bytes => "Vec<u8>".into(),
            Ty::Bool | Ty::True => "bool".into(),
            Ty::Vector { elem, .. } => format!("Vec<{}>", self.rust_type(elem)),
            Ty::Enum(t) => self.enum_path(*t),
            Ty::Bare(c) => self.ctor_path(*c),
            Ty::Generic(x) => x.clone(),
        }
    }

    /// Fewest bytes a value of `ty` takes on the wire; bounds vector counts before allocating.
    fn min_size(&self, ty: &Ty, depth: usize) -> usize {
        match ty {
            Ty::Int | Ty::Str | Ty::Bytes | Ty::Bool | Ty::Enum(_) | Ty::Generic(_) => 4,
            Ty::Long | Ty::Double => 8,
            Ty::Int128 => 16,
            Ty::Int256 => 32,
            Ty::True => 0,
            Ty::Vector { boxed, .. } => {
                if *boxed {
                    8
                } else {
                    4
                }
            }
            Ty::Bare(c) if depth < 8 => self.model.ctors[*c]
                .fields
                .iter()
                .map(|f| match &f.kind {
                    FieldKind::Flags => 4,
                    FieldKind::Value { flag: Some(_), .. } => 0,
                    FieldKind::Value { ty, .. } => self.min_size(ty, depth + 1),
                })
                .sum(),
            Ty::Bare(_) => 0,
        }
    }

    /// An expression reading a `ty` from `__r` (a `&mut Reader`), `?` included.
    fn read_expr(&self, ty: &Ty, depth: usize) -> String {
        let rt = &self.rt;
        match ty {
            Ty::Int => "__r.read_i32()?".into(),
            Ty::Long => "__r.read_i64()?".into(),
            Ty::Double => "__r.read_f64()?".into(),
            Ty::Int128 => "__r.read_int128()?".into(),
            Ty::Int256 => "__r.read_int256()?".into(),
            Ty::Str => "__r.read_string()?".into(),
            Ty::Bytes => "__r.read_bytes()?".into(),
            Ty::Bool => "__r.read_bool()?".into(),
            Ty::True => "true".into(),
            Ty::Vector { boxed, elem } => {
                let min = self.min_size(elem, 0).max(1);
                let len = if *boxed {
                    "read_vector_len"
                } else {
                    "read_bare_vector_len"
                };
                format!(
                    "{{ let __n{depth} = __r.{len}({min})?; let mut __v{depth} = __r.vec_for(__n{depth}); for _ in 0..__n{depth} {{ __v{depth}.push({}); }} __v{depth} }}",
                    self.read_expr(elem, depth + 1)
                )
            }
            Ty::Enum(t) => format!(
                "<{} as {rt}::Deserializable>::deserialize(__r)?",
                self.enum_path(*t)
            ),
            Ty::Bare(c) => format!("{}::deserialize_bare(__r)?", self.ctor_path(*c)),
            Ty::Generic(x) => format!("<{x} as {rt}::Deserializable>::deserialize(__r)?"),
        }
    }

    /// A statement writing `v` (an expression of type `&T`) to `__buf`.
    fn write_stmt(&self, ty: &Ty, v: &str, depth: usize) -> String {
        let rt = &self.rt;
        match ty {
            Ty::Int => format!("{rt}::write_i32(__buf, {});", by_value(v)),
            Ty::Long => format!("{rt}::write_i64(__buf, {});", by_value(v)),
            Ty::Double => format!("{rt}::write_f64(__buf, {});", by_value(v)),
            Ty::Int128 | Ty::Int256 => format!("__buf.extend_from_slice({v});"),
            Ty::Str => format!("{rt}::write_bytes(__buf, {}.as_bytes());", receiver(v)),
            Ty::Bytes => format!("{rt}::write_bytes(__buf, {v});"),
            Ty::Bool => format!("{rt}::write_bool(__buf, {});", by_value(v)),
            Ty::True => String::new(),
            Ty::Vector { boxed, elem } => {
                let head = if *boxed {
                    format!("{rt}::write_vector_header(__buf, {}.len());", receiver(v))
                } else {
                    format!(
                        "{rt}::write_bare_vector_header(__buf, {}.len());",
                        receiver(v)
                    )
                };
                let e = format!("__e{depth}");
                format!(
                    "{head} for {e} in {}.iter() {{ {} }}",
                    receiver(v),
                    self.write_stmt(elem, &e, depth + 1)
                )
            }
            Ty::Enum(_) | Ty::Generic(_) => format!("{rt}::Serializable::serialize({v}, __buf);"),
            Ty::Bare(_) => format!("{}.serialize_bare(__buf);", receiver(v)),
        }
    }

    fn struct_fields(&mut self, fields: &[Field], indent: usize) {
        for f in fields {
            if let FieldKind::Value { ty, flag, boxed } = &f.kind {
                let mut t = self.rust_type(ty);
                if *boxed {
                    t = format!("Box<{t}>");
                }
                if flag.is_some() && *ty != Ty::True {
                    t = format!("Option<{t}>");
                }
                self.line(indent, &format!("pub {}: {t},", f.ident));
            }
        }
    }

    /// The flags word `word` as an expression: the OR of the bits of the fields present.
    fn flags_value(fields: &[Field], word: &str) -> String {
        let mut bits = Vec::new();
        for g in fields {
            if let FieldKind::Value {
                ty,
                flag: Some((w, bit)),
                ..
            } = &g.kind
            {
                if w == word {
                    let test = if *ty == Ty::True {
                        format!("self.{}", g.ident)
                    } else {
                        format!("self.{}.is_some()", g.ident)
                    };
                    bits.push(format!("if {test} {{ 1u32 << {bit} }} else {{ 0 }}"));
                }
            }
        }
        match bits.len() {
            0 => "0u32".to_string(),
            1 => bits.remove(0),
            _ => bits
                .iter()
                .map(|b| format!("({b})"))
                .collect::<Vec<_>>()
                .join(" | "),
        }
    }

    /// Writes the fields. Runs of fixed-size values (flags words and required int, long,
    /// double, Bool, int128, int256) go through one stack array and a single
    /// `extend_from_slice`: one capacity check per run instead of one per field, which matters
    /// for int-heavy objects such as `config`.
    fn serialize_bare_body(&mut self, fields: &[Field], indent: usize) {
        let rt = self.rt.clone();
        let mut run: Vec<(usize, String)> = Vec::new();
        for f in fields {
            let fixed = match &f.kind {
                FieldKind::Flags => Some((
                    4,
                    format!("&({}).to_le_bytes()", Self::flags_value(fields, &f.name)),
                )),
                FieldKind::Value { ty, flag: None, .. } => {
                    let v = format!("self.{}", f.ident);
                    match ty {
                        Ty::Int => Some((4, format!("&{v}.to_le_bytes()"))),
                        Ty::Long | Ty::Double => Some((8, format!("&{v}.to_le_bytes()"))),
                        Ty::Bool => Some((
                            4,
                            format!("&(if {v} {{ {rt}::BOOL_TRUE_ID }} else {{ {rt}::BOOL_FALSE_ID }}).to_le_bytes()"),
                        )),
                        Ty::Int128 => Some((16, format!("&{v}"))),
                        Ty::Int256 => Some((32, format!("&{v}"))),
                        _ => None,
                    }
                }
                FieldKind::Value { .. } => None,
            };
            if let Some(piece) = fixed {
                run.push(piece);
                continue;
            }
            self.flush_fixed_run(&mut run, indent);
            if let FieldKind::Value { ty, flag, .. } = &f.kind {
                if *ty == Ty::True {
                    continue;
                }
                let stmt = if flag.is_some() {
                    format!(
                        "if let Some(__x) = &self.{} {{ {} }}",
                        f.ident,
                        self.write_stmt(ty, "__x", 0)
                    )
                } else {
                    self.write_stmt(ty, &format!("&self.{}", f.ident), 0)
                };
                self.line(indent, &stmt);
            }
        }
        self.flush_fixed_run(&mut run, indent);
    }

    fn flush_fixed_run(&mut self, run: &mut Vec<(usize, String)>, indent: usize) {
        match run.len() {
            0 => {}
            1 => self.line(indent, &format!("__buf.extend_from_slice({});", run[0].1)),
            _ => {
                let total: usize = run.iter().map(|(n, _)| n).sum();
                let mut code = format!("{{ let mut __t = [0u8; {total}];");
                let mut at = 0;
                for (n, bytes) in run.iter() {
                    code.push_str(&format!(" __t[{at}..{}].copy_from_slice({bytes});", at + n));
                    at += n;
                }
                code.push_str(" __buf.extend_from_slice(&__t); }");
                self.line(indent, &code);
            }
        }
        run.clear();
    }

    fn deserialize_bare_body(&mut self, fields: &[Field], indent: usize) {
        let mut names = Vec::new();
        for f in fields {
            match &f.kind {
                FieldKind::Flags => {
                    self.line(
                        indent,
                        &format!("let __flags_{} = __r.read_u32()?;", f.name),
                    );
                }
                FieldKind::Value { ty, flag, boxed } => {
                    let mut read = self.read_expr(ty, 0);
                    if *boxed {
                        read = format!("Box::new({read})");
                    }
                    let expr = match flag {
                        Some((word, bit)) if *ty == Ty::True => {
                            format!("__flags_{word} & (1u32 << {bit}) != 0")
                        }
                        Some((word, bit)) => format!(
                            "if __flags_{word} & (1u32 << {bit}) != 0 {{ Some({read}) }} else {{ None }}"
                        ),
                        None => read,
                    };
                    self.line(indent, &format!("let {} = {expr};", f.ident));
                    names.push(f.ident.clone());
                }
            }
        }
        self.line(indent, &format!("Ok(Self {{ {} }})", names.join(", ")));
    }

    fn doc(&mut self, indent: usize, def: &Definition) {
        self.line(indent, &format!("/// `{}`", def.source.replace('`', "'")));
    }

    /// A struct for a constructor or function, with its bare (de)serializers and boxed traits.
    fn item_struct(&mut self, def: &Definition, rust_name: &str, fields: &[Field], indent: usize) {
        let rt = self.rt.clone();
        let generics = if def.generics.is_empty() {
            String::new()
        } else {
            format!("<{}>", def.generics.join(", "))
        };
        let bound = |tr: &str| {
            if def.generics.is_empty() {
                String::new()
            } else {
                let b: Vec<String> = def
                    .generics
                    .iter()
                    .map(|g| format!("{g}: {rt}::{tr}"))
                    .collect();
                format!("<{}>", b.join(", "))
            }
        };
        let (ser_bound, de_bound) = (bound("Serializable"), bound("Deserializable"));
        let has_values = fields
            .iter()
            .any(|f| matches!(f.kind, FieldKind::Value { .. }));
        self.doc(indent, def);
        self.line(indent, "#[derive(Debug, Clone, PartialEq)]");
        if has_values {
            self.line(indent, &format!("pub struct {rust_name}{generics} {{"));
            self.struct_fields(fields, indent + 1);
            self.line(indent, "}");
        } else {
            self.line(indent, &format!("pub struct {rust_name}{generics} {{}}"));
        }
        let ty = format!("{rust_name}{generics}");
        self.line(
            indent,
            &format!("impl{generics} {rt}::Identifiable for {ty} {{"),
        );
        self.line(
            indent + 1,
            &format!("const CONSTRUCTOR_ID: u32 = 0x{:08x};", def.id),
        );
        self.line(
            indent + 1,
            &format!("const NAME: &'static str = \"{}\";", def.full_name()),
        );
        self.line(indent, "}");
        self.line(indent, &format!("impl{ser_bound} {ty} {{"));
        self.line(
            indent + 1,
            "/// Writes the fields without the constructor id.",
        );
        self.line(
            indent + 1,
            "pub fn serialize_bare(&self, __buf: &mut Vec<u8>) {",
        );
        self.serialize_bare_body(fields, indent + 2);
        self.line(indent + 1, "}");
        self.line(indent, "}");
        self.line(indent, &format!("impl{de_bound} {ty} {{"));
        self.line(
            indent + 1,
            "/// Reads the fields; the constructor id is already consumed.",
        );
        self.line(
            indent + 1,
            &format!("pub fn deserialize_bare(__r: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{"),
        );
        self.deserialize_bare_body(fields, indent + 2);
        self.line(indent + 1, "}");
        self.line(indent, "}");
        self.line(
            indent,
            &format!("impl{ser_bound} {rt}::Serializable for {ty} {{"),
        );
        self.line(indent + 1, "fn serialize(&self, __buf: &mut Vec<u8>) {");
        self.line(
            indent + 2,
            &format!("{rt}::write_u32(__buf, 0x{:08x});", def.id),
        );
        self.line(indent + 2, "self.serialize_bare(__buf);");
        self.line(indent + 1, "}");
        self.line(indent, "}");
        self.line(
            indent,
            &format!("impl{de_bound} {rt}::Deserializable for {ty} {{"),
        );
        self.line(
            indent + 1,
            &format!(
                "fn deserialize(__r: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{"
            ),
        );
        self.line(
            indent + 2,
            &format!("__r.expect_constructor(0x{:08x})?;", def.id),
        );
        self.line(indent + 2, "Self::deserialize_bare(__r)");
        self.line(indent + 1, "}");
        self.line(indent, "}");
    }

    fn ctor_struct(&mut self, ci: usize, indent: usize) {
        let m = self.model;
        let c = &m.ctors[ci];
        self.item_struct(&c.def, &c.rust_name, &c.fields, indent);
        let t = &m.types[c.type_index];
        let vi = t.ctors.iter().position(|&x| x == ci).unwrap_or(0);
        let variant = t.variants[vi].clone();
        let value = if t.boxed[vi] { "Box::new(x)" } else { "x" };
        let enum_path = self.enum_path(c.type_index);
        self.line(
            indent,
            &format!("impl From<{}> for {enum_path} {{", c.rust_name),
        );
        self.line(
            indent + 1,
            &format!(
                "fn from(x: {}) -> Self {{ {enum_path}::{variant}({value}) }}",
                c.rust_name
            ),
        );
        self.line(indent, "}");
    }

    fn func_struct(&mut self, fi: usize, indent: usize) {
        let m = self.model;
        let f = &m.funcs[fi];
        self.item_struct(&f.def, &f.rust_name, &f.fields, indent);
        let rt = self.rt.clone();
        if let Ty::Generic(x) = &f.result {
            let g = f.def.generics.join(", ");
            let bounds: Vec<String> = f
                .def
                .generics
                .iter()
                .map(|g| format!("{g}: {rt}::RemoteCall"))
                .collect();
            self.line(
                indent,
                &format!(
                    "impl<{}> {rt}::RemoteCall for {}<{g}> {{ type Return = {x}::Return; }}",
                    bounds.join(", "),
                    f.rust_name
                ),
            );
        } else {
            let ret = self.rust_type(&f.result);
            self.line(
                indent,
                &format!(
                    "impl {rt}::RemoteCall for {} {{ type Return = {ret}; }}",
                    f.rust_name
                ),
            );
        }
    }

    fn type_enum(&mut self, ti: usize, indent: usize) {
        let rt = self.rt.clone();
        let m = self.model;
        let t = &m.types[ti];
        let name = t.rust_name.clone();
        self.line(
            indent,
            &format!(
                "/// Boxed type `{}`, one variant per constructor:",
                t.full_name
            ),
        );
        for &ci in &t.ctors {
            self.line(
                indent,
                &format!("/// * `{}`", m.ctors[ci].def.source.replace('`', "'")),
            );
        }
        self.line(indent, "#[derive(Debug, Clone, PartialEq)]");
        self.line(indent, &format!("pub enum {name} {{"));
        let arms: Vec<(String, String, u32, String)> = t
            .ctors
            .iter()
            .zip(&t.variants)
            .map(|(&ci, v)| {
                let c = &self.model.ctors[ci];
                (v.clone(), self.ctor_path(ci), c.def.id, c.def.full_name())
            })
            .collect();
        for ((v, path, _, _), boxed) in arms.iter().zip(&t.boxed) {
            if *boxed {
                self.line(indent + 1, &format!("{v}(Box<{path}>),"));
            } else {
                self.line(indent + 1, &format!("{v}({path}),"));
            }
        }
        self.line(indent, "}");
        self.line(indent, &format!("impl {name} {{"));
        self.line(indent + 1, "/// The constructor id of the variant held.");
        self.line(indent + 1, "pub fn constructor_id(&self) -> u32 {");
        self.line(indent + 2, "match self {");
        for (v, _, id, _) in &arms {
            self.line(indent + 3, &format!("Self::{v}(_) => 0x{id:08x},"));
        }
        self.line(indent + 2, "}");
        self.line(indent + 1, "}");
        self.line(indent, "}");
        self.line(indent, &format!("impl {rt}::Serializable for {name} {{"));
        self.line(indent + 1, "fn serialize(&self, __buf: &mut Vec<u8>) {");
        self.line(indent + 2, "match self {");
        for (v, _, _, _) in &arms {
            self.line(
                indent + 3,
                &format!("Self::{v}(x) => {rt}::Serializable::serialize(x, __buf),"),
            );
        }
        self.line(indent + 2, "}");
        self.line(indent + 1, "}");
        self.line(indent, "}");
        let calls: Vec<(String, String, u32)> = arms
            .iter()
            .zip(&t.boxed)
            .map(|((v, path, id, _), boxed)| {
                let read = format!("{path}::deserialize_bare(__r)?");
                let read = if *boxed {
                    format!("Box::new({read})")
                } else {
                    read
                };
                (v.clone(), read, *id)
            })
            .collect();
        self.decode_by_id(indent, &name, &calls);
    }

    /// `Deserializable` for an enum: read the id, then call one small function per variant.
    ///
    /// Each arm only moves a `Result<Self>` into place, which keeps the dispatching frame small
    /// in debug builds too; a `match` that builds every variant inline holds every arm's
    /// temporaries in one frame and overflows a 2 MiB stack well within `MAX_DEPTH` levels.
    fn decode_by_id(&mut self, indent: usize, name: &str, calls: &[(String, String, u32)]) {
        let rt = self.rt.clone();
        self.line(indent, &format!("impl {name} {{"));
        for (i, (v, call, _)) in calls.iter().enumerate() {
            self.line(
                indent + 1,
                &format!(
                    "fn __de{i}(__r: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{ Ok(Self::{v}({call})) }}"
                ),
            );
        }
        self.line(indent, "}");
        self.line(indent, &format!("impl {rt}::Deserializable for {name} {{"));
        self.line(
            indent + 1,
            &format!(
                "fn deserialize(__r: &mut {rt}::Reader<'_>) -> Result<Self, {rt}::DecodeError> {{"
            ),
        );
        self.line(indent + 2, "__r.enter()?;");
        self.line(indent + 2, "let __value = match __r.read_u32()? {");
        for (i, (_, _, id)) in calls.iter().enumerate() {
            self.line(indent + 3, &format!("0x{id:08x} => Self::__de{i}(__r),"));
        }
        self.line(indent + 3, "__id => Err(__r.unknown_constructor(__id)),");
        self.line(indent + 2, "};");
        self.line(indent + 2, "__r.leave();");
        self.line(indent + 2, "__value");
        self.line(indent + 1, "}");
        self.line(indent, "}");
    }

    fn function_enum(&mut self) {
        let rt = self.rt.clone();
        let m = self.model;
        let arms: Vec<(String, String, u32, String)> = m
            .funcs
            .iter()
            .map(|f| {
                let mut path = self.path("functions", &f.def.namespace, &f.rust_name);
                if !f.def.generics.is_empty() {
                    let args: Vec<String> = f
                        .def
                        .generics
                        .iter()
                        .map(|_| "Box<Function>".to_string())
                        .collect();
                    path = format!("{path}<{}>", args.join(", "));
                }
                (f.variant.clone(), path, f.def.id, f.def.full_name())
            })
            .collect();
        self.line(1, "/// Every function of the schemas: what a request decodes into (the server's dispatch input).");
        self.line(1, "/// Generic wrappers (`invokeWithLayer` and the like) hold the wrapped function boxed.");
        self.line(1, "#[derive(Debug, Clone, PartialEq)]");
        self.line(1, "pub enum Function {");
        for (v, path, _, name) in &arms {
            self.line(2, &format!("/// `{name}`"));
            self.line(2, &format!("{v}({path}),"));
        }
        self.line(1, "}");
        self.line(1, "impl Function {");
        self.line(2, "/// The constructor id of the function held.");
        self.line(2, "pub fn constructor_id(&self) -> u32 {");
        self.line(3, "match self {");
        for (v, _, id, _) in &arms {
            self.line(4, &format!("Self::{v}(_) => 0x{id:08x},"));
        }
        self.line(3, "}");
        self.line(2, "}");
        self.line(
            2,
            "/// The TL name of the function held, e.g. `auth.sendCode`.",
        );
        self.line(2, "pub fn name(&self) -> &'static str {");
        self.line(3, "match self {");
        for (v, _, _, name) in &arms {
            self.line(4, &format!("Self::{v}(_) => \"{name}\","));
        }
        self.line(3, "}");
        self.line(2, "}");
        self.line(1, "}");
        self.line(1, &format!("impl {rt}::Serializable for Function {{"));
        self.line(2, "fn serialize(&self, __buf: &mut Vec<u8>) {");
        self.line(3, "match self {");
        for (v, _, _, _) in &arms {
            self.line(
                4,
                &format!("Self::{v}(x) => {rt}::Serializable::serialize(x, __buf),"),
            );
        }
        self.line(3, "}");
        self.line(2, "}");
        self.line(1, "}");
        let calls: Vec<(String, String, u32)> = arms
            .iter()
            .map(|(v, path, id, _)| {
                let call = match path.split_once('<') {
                    Some((base, _)) => format!("{base}::<Box<Function>>::deserialize_bare(__r)?"),
                    None => format!("{path}::deserialize_bare(__r)?"),
                };
                (v.clone(), call, *id)
            })
            .collect();
        self.decode_by_id(1, "Function", &calls);
    }

    fn names_table(&mut self) {
        let m = self.model;
        let mut all: Vec<(u32, String)> = m
            .ctors
            .iter()
            .map(|c| (c.def.id, c.def.full_name()))
            .chain(m.funcs.iter().map(|f| (f.def.id, f.def.full_name())))
            .collect();
        all.sort();
        self.line(
            0,
            "/// Every constructor and function id with its TL name, sorted by id.",
        );
        self.line(0, "pub static NAMES_BY_ID: &[(u32, &str)] = &[");
        let mut s = String::new();
        for (id, name) in &all {
            let _ = writeln!(s, "    (0x{id:08x}, \"{name}\"),");
        }
        self.out.push_str(&s);
        self.line(0, "];");
        self.line(0, "");
        self.line(
            0,
            "/// The TL name of a constructor or function id of the schemas.",
        );
        self.line(0, "pub fn name_for_id(id: u32) -> Option<&'static str> {");
        self.line(
            1,
            "NAMES_BY_ID.binary_search_by_key(&id, |e| e.0).ok().map(|i| NAMES_BY_ID[i].1)",
        );
        self.line(0, "}");
        self.line(0, "");
    }

    fn deserialize_any(&mut self) {
        let rt = self.rt.clone();
        let m = self.model;
        self.line(
            0,
            "/// Decodes any boxed constructor or function of the schemas by its id.",
        );
        self.line(
            0,
            &format!("pub fn deserialize_any(__r: &mut {rt}::Reader<'_>) -> Result<Box<dyn {rt}::AnyObject>, {rt}::DecodeError> {{"),
        );
        // One generic helper per arm, for the same frame-size reason as `decode_by_id`.
        self.line(1, &format!("fn boxed<T: {rt}::Deserializable + {rt}::AnyObject + 'static>(__r: &mut {rt}::Reader<'_>) -> Result<Box<dyn {rt}::AnyObject>, {rt}::DecodeError> {{"));
        self.line(2, "Ok(Box::new(T::deserialize(__r)?))");
        self.line(1, "}");
        self.line(1, "match __r.peek_u32()? {");
        for ci in 0..m.ctors.len() {
            let id = m.ctors[ci].def.id;
            let path = self.ctor_path(ci);
            self.line(2, &format!("0x{id:08x} => boxed::<{path}>(__r),"));
        }
        self.line(
            2,
            &format!("_ => boxed::<{}::functions::Function>(__r),", self.root),
        );
        self.line(1, "}");
        self.line(0, "}");
    }
}
