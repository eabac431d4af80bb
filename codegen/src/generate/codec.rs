//! The wire code of fields: Rust types, minimum sizes, read expressions, write statements and
//! the bodies of `serialize_bare` / `deserialize_bare`.

use super::{Field, FieldKind, Gen, Ty};

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

impl Gen<'_> {
    /// The Rust type of a value of `ty`.
    pub(super) fn rust_type(&self, ty: &Ty) -> String {
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
    pub(super) fn min_size(&self, ty: &Ty, depth: usize) -> usize {
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
    pub(super) fn read_expr(&self, ty: &Ty, depth: usize) -> String {
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
    pub(super) fn write_stmt(&self, ty: &Ty, v: &str, depth: usize) -> String {
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

    pub(super) fn struct_fields(&mut self, fields: &[Field], indent: usize) {
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
    pub(super) fn flags_value(fields: &[Field], word: &str) -> String {
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
    pub(super) fn serialize_bare_body(&mut self, fields: &[Field], indent: usize) {
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

    pub(super) fn flush_fixed_run(&mut self, run: &mut Vec<(usize, String)>, indent: usize) {
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

    pub(super) fn deserialize_bare_body(&mut self, fields: &[Field], indent: usize) {
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
}
