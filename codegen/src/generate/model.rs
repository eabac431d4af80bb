//! The schemas resolved: every boxed type with its constructors, every function, every field
//! with its resolved type.

use std::collections::{HashMap, HashSet};

use super::naming::{field_ident, pascal, PRELUDE_NAMES};
use super::{Ctor, Field, FieldKind, Func, GenerateError, Model, Ty, TypeDef};
use crate::ast::{Category, Definition, ParamKind, Schema, TypeRef};
use crate::error::{Error, ErrorKind};

impl Model {
    pub(super) fn build(schemas: &[&Schema]) -> Result<Model, GenerateError> {
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
}

pub(super) fn is_primitive(t: &TypeRef) -> bool {
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
    pub(super) fn fields(&self, def: &Definition) -> Result<Vec<Field>, ErrorKind> {
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

    pub(super) fn resolve(&self, t: &TypeRef) -> Result<Ty, ErrorKind> {
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
