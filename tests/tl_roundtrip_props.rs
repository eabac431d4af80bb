//! Round-trip properties of the generated types over the whole schema.
//!
//! An encoder independent of the generated code walks the parsed schema (`codegen::parse`) and
//! writes random, canonically encoded values of any constructor or function. The generated code
//! must decode each one, re-encode it to the same bytes, and decode that to an equal value.

mod common;

use std::collections::HashMap;

use codegen::{Category, Definition, ParamKind, Schema, TypeRef};
use mtproto_auth::tl::{self, functions::Function, Deserializable, Serializable};
use proptest::prelude::*;

/// SplitMix64: a small deterministic generator driven by proptest's seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

struct SchemaEncoder {
    defs: Vec<Definition>,
    by_type: HashMap<String, Vec<usize>>,
    by_name: HashMap<String, usize>,
    functions: Vec<usize>,
}

const SOFT_DEPTH: usize = 5;
const HARD_DEPTH: usize = 30;

impl SchemaEncoder {
    fn load() -> Self {
        let mut defs = Vec::new();
        for file in ["schema/mtproto.tl", "schema/api.tl"] {
            let text = std::fs::read_to_string(common::root().join(file)).unwrap();
            let schema: Schema = codegen::parse(&text).unwrap();
            defs.extend(schema.definitions);
        }
        let mut by_type: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_name = HashMap::new();
        let mut functions = Vec::new();
        for (i, d) in defs.iter().enumerate() {
            by_name.insert(d.full_name(), i);
            match d.category {
                Category::Type => by_type.entry(d.result.full_name()).or_default().push(i),
                Category::Function => functions.push(i),
            }
        }
        SchemaEncoder {
            defs,
            by_type,
            by_name,
            functions,
        }
    }

    /// How many by-value schema-typed fields a constructor requires (vectors may be empty).
    fn weight(&self, i: usize) -> usize {
        self.defs[i]
            .params
            .iter()
            .filter(|p| match &p.kind {
                ParamKind::Value { ty, flag: None } => ty.arg.is_none() && !is_primitive(ty),
                _ => false,
            })
            .count()
    }

    fn pick(&self, options: &[usize], rng: &mut Rng, depth: usize) -> usize {
        if depth < SOFT_DEPTH {
            options[rng.below(options.len() as u64) as usize]
        } else {
            *options.iter().min_by_key(|&&i| self.weight(i)).unwrap()
        }
    }

    /// Writes definition `i` (with its id unless `bare`); `None` when nesting ran too deep.
    fn encode_def(
        &self,
        i: usize,
        bare: bool,
        rng: &mut Rng,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Option<()> {
        if depth > HARD_DEPTH {
            return None;
        }
        let d = &self.defs[i];
        if !bare {
            out.extend_from_slice(&d.id.to_le_bytes());
        }
        // Which flag bits are set, per flags word, decided per bit (parameters may share one).
        let mut set: HashMap<(&str, u32), bool> = HashMap::new();
        for p in &d.params {
            if let ParamKind::Value { flag: Some(f), .. } = &p.kind {
                let present = depth < SOFT_DEPTH && rng.chance();
                set.entry((f.word.as_str(), f.bit)).or_insert(present);
            }
        }
        for p in &d.params {
            match &p.kind {
                ParamKind::Flags => {
                    let word = set
                        .iter()
                        .filter(|((w, _), on)| *w == p.name && **on)
                        .fold(0u32, |acc, ((_, bit), _)| acc | (1 << bit));
                    out.extend_from_slice(&word.to_le_bytes());
                }
                ParamKind::Value { ty, flag } => {
                    if let Some(f) = flag {
                        if !set[&(f.word.as_str(), f.bit)] {
                            continue;
                        }
                    }
                    self.encode_type(ty, rng, depth + 1, out)?;
                }
            }
        }
        Some(())
    }

    fn encode_type(
        &self,
        ty: &TypeRef,
        rng: &mut Rng,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Option<()> {
        if ty.generic_ref {
            let f = if depth < SOFT_DEPTH {
                self.functions[rng.below(self.functions.len() as u64) as usize]
            } else {
                self.by_name["help.getConfig"]
            };
            return self.encode_def(f, false, rng, depth, out);
        }
        if let Some(arg) = &ty.arg {
            if ty.name == "Vector" {
                out.extend_from_slice(&tl::VECTOR_ID.to_le_bytes());
            }
            let n = if depth < SOFT_DEPTH {
                rng.below(3) as u32
            } else {
                0
            };
            out.extend_from_slice(&n.to_le_bytes());
            for _ in 0..n {
                self.encode_type(arg, rng, depth + 1, out)?;
            }
            return Some(());
        }
        if ty.namespace.is_none() {
            match ty.name.as_str() {
                "int" => out.extend_from_slice(&(rng.next() as u32).to_le_bytes()),
                "long" => out.extend_from_slice(&rng.next().to_le_bytes()),
                // Finite values only: NaN is never equal to itself.
                "double" => {
                    out.extend_from_slice(&((rng.next() >> 11) as f64 / 7.0 - 1e12).to_le_bytes())
                }
                "int128" => (0..16).for_each(|_| out.push(rng.next() as u8)),
                "int256" => (0..32).for_each(|_| out.push(rng.next() as u8)),
                "Bool" => out.extend_from_slice(
                    &if rng.chance() {
                        tl::BOOL_TRUE_ID
                    } else {
                        tl::BOOL_FALSE_ID
                    }
                    .to_le_bytes(),
                ),
                "true" => {}
                "string" => tl::write_bytes(out, random_text(rng).as_bytes()),
                "bytes" => {
                    let len = random_len(rng);
                    let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                    tl::write_bytes(out, &data);
                }
                _ => return self.encode_named(ty, rng, depth, out),
            }
            return Some(());
        }
        self.encode_named(ty, rng, depth, out)
    }

    fn encode_named(
        &self,
        ty: &TypeRef,
        rng: &mut Rng,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Option<()> {
        let full = ty.full_name();
        if ty.percent {
            return self.encode_def(self.by_type[&full][0], true, rng, depth, out);
        }
        if ty.bare {
            return self.encode_def(self.by_name[&full], true, rng, depth, out);
        }
        let i = self.pick(&self.by_type[&full], rng, depth);
        self.encode_def(i, false, rng, depth, out)
    }
}

fn is_primitive(t: &TypeRef) -> bool {
    t.namespace.is_none()
        && [
            "int", "long", "double", "int128", "int256", "string", "bytes", "Bool", "true",
        ]
        .contains(&t.name.as_str())
}

/// Lengths on both sides of the 253/254 boundary of the length prefix.
fn random_len(rng: &mut Rng) -> usize {
    match rng.below(4) {
        0 => 0,
        1 => rng.below(12) as usize,
        2 => 250 + rng.below(8) as usize,
        _ => rng.below(600) as usize,
    }
}

fn random_text(rng: &mut Rng) -> String {
    const PIECES: [&str; 6] = ["a", "Z", "7", "é", "Ж", "✓"];
    let len = random_len(rng);
    let mut s = String::new();
    while s.len() < len {
        s.push_str(PIECES[rng.below(PIECES.len() as u64) as usize]);
    }
    s
}

/// Checks one random value of definition `index`; false when the encoder gave up (too deep).
fn check_roundtrip(enc: &SchemaEncoder, index: usize, seed: u64) -> bool {
    let mut rng = Rng(seed);
    let mut bytes = Vec::new();
    if enc
        .encode_def(index, false, &mut rng, 0, &mut bytes)
        .is_none()
    {
        return false;
    }
    let def = &enc.defs[index];
    let what = format!("{} (seed {seed})", def.full_name());
    match def.category {
        Category::Function => {
            let f = Function::from_bytes(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(f.constructor_id(), def.id, "{what}");
            let again = f.to_bytes();
            assert_eq!(again, bytes, "{what}: re-encoding differs");
            assert_eq!(Function::from_bytes(&again).unwrap(), f, "{what}");
        }
        Category::Type => {
            let (id, value) = tl::decode_any(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(id, def.id, "{what}");
            let again = value.to_bytes();
            assert_eq!(again, bytes, "{what}: re-encoding differs");
            let (_, value2) = tl::decode_any(&again).unwrap();
            assert_eq!(format!("{value:?}"), format!("{value2:?}"), "{what}");
        }
    }
    true
}

fn encoder() -> &'static SchemaEncoder {
    static ENC: std::sync::OnceLock<SchemaEncoder> = std::sync::OnceLock::new();
    ENC.get_or_init(SchemaEncoder::load)
}

#[test]
fn every_constructor_and_function_round_trips() {
    let enc = encoder();
    let mut checked = 0;
    for i in 0..enc.defs.len() {
        for seed in 0..4 {
            checked += usize::from(check_roundtrip(enc, i, seed * 7919 + i as u64));
        }
    }
    // 2548 API + 58 service definitions; the encoder may give up on a rare deep draw only.
    assert_eq!(enc.defs.len(), 2606);
    assert!(
        checked > enc.defs.len() * 4 * 99 / 100,
        "only {checked} values checked"
    );
}

/// Boxed types decode through their enum: every constructor of `User` comes back as a `User`.
#[test]
fn typed_enum_round_trip() {
    let enc = encoder();
    for seed in 0..200 {
        let mut rng = Rng(seed);
        let user = enc.pick(&enc.by_type["User"], &mut rng, 0);
        let mut bytes = Vec::new();
        enc.encode_def(user, false, &mut rng, 0, &mut bytes)
            .unwrap();
        let v = tl::enums::User::from_bytes(&bytes).unwrap();
        assert_eq!(v.constructor_id(), enc.defs[user].id);
        assert_eq!(v.to_bytes(), bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn random_values_round_trip(index in 0usize..100_000, seed in any::<u64>()) {
        let enc = encoder();
        let _ = check_roundtrip(enc, index % enc.defs.len(), seed);
    }

    /// Truncating a valid encoding anywhere gives an error, never a panic or a value.
    #[test]
    fn truncated_values_fail_cleanly(index in 0usize..100_000, seed in any::<u64>(), cut in any::<prop::sample::Index>()) {
        let enc = encoder();
        let mut rng = Rng(seed);
        let mut bytes = Vec::new();
        if enc.encode_def(index % enc.defs.len(), false, &mut rng, 0, &mut bytes).is_some() {
            let cut = cut.index(bytes.len());
            prop_assert!(tl::decode_any(&bytes[..cut]).is_err());
        }
    }
}
