//! One enum per boxed type, and `Function`, the enum of every function, decoded by id.

use super::Gen;

impl Gen<'_> {
    pub(super) fn type_enum(&mut self, ti: usize, indent: usize) {
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
    pub(super) fn decode_by_id(
        &mut self,
        indent: usize,
        name: &str,
        calls: &[(String, String, u32)],
    ) {
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

    pub(super) fn function_enum(&mut self) {
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
}
