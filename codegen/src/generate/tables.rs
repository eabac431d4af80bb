//! Tables over every id: names by id, and `deserialize_any`.

use std::fmt::Write as _;

use super::Gen;

impl Gen<'_> {
    pub(super) fn names_table(&mut self) {
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

    pub(super) fn deserialize_any(&mut self) {
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
