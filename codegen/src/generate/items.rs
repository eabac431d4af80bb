//! One struct per constructor and function, with its identity, bare codecs and boxed traits.

use super::{Field, FieldKind, Gen, Ty};
use crate::ast::Definition;

impl Gen<'_> {
    pub(super) fn doc(&mut self, indent: usize, def: &Definition) {
        self.line(indent, &format!("/// `{}`", def.source.replace('`', "'")));
    }

    /// A struct for a constructor or function, with its bare (de)serializers and boxed traits.
    pub(super) fn item_struct(
        &mut self,
        def: &Definition,
        rust_name: &str,
        fields: &[Field],
        indent: usize,
    ) {
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

    pub(super) fn ctor_struct(&mut self, ci: usize, indent: usize) {
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

    pub(super) fn func_struct(&mut self, fi: usize, indent: usize) {
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
}
