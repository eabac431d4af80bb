//! What the generated types box: fields that would make a type contain itself, and enum
//! variants far larger than the rest.

use super::{FieldKind, Model, Ty};

/// How much larger than the next variant an enum variant may be before it is boxed.
const LARGE_VARIANT_MARGIN: usize = 128;

impl Model {
    /// Boxes every by-value field whose type lies in the same strongly connected component as
    /// the type holding it (Tarjan's algorithm over the "contains by value" graph of types).
    pub(super) fn box_cycles(&mut self) {
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
    pub(super) fn box_large_variants(&mut self) {
        let mut sizes: Vec<Option<usize>> = vec![None; self.types.len()];
        for t in 0..self.types.len() {
            self.enum_size(t, &mut sizes, 0);
        }
    }

    /// Estimated in-memory size of enum `t`, deciding its boxed variants on the way. Only the
    /// boxing decision uses it, so rough layout rules are enough.
    pub(super) fn enum_size(
        &mut self,
        t: usize,
        sizes: &mut Vec<Option<usize>>,
        depth: usize,
    ) -> usize {
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

    pub(super) fn struct_size(
        &mut self,
        c: usize,
        sizes: &mut Vec<Option<usize>>,
        depth: usize,
    ) -> usize {
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
    pub(super) fn by_value_type(&self, ty: &Ty) -> Option<usize> {
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
