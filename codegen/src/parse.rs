//! TL schema parser: text in, `Schema` out, first error with its line.
//!
//! Grammar as used by the published schemas (core.telegram.org/mtproto/TL,
//! core.telegram.org/mtproto/TL-combinators):
//!
//! ```text
//! file        := { line }
//! line        := "---types---" | "---functions---" | "// LAYER N" | comment | declaration
//! declaration := full-name [ "#" hex-id ] { "{" ident ":Type}" } { param } "=" result ";"
//! param       := ident ":" ( "#" | [ ident "." bit "?" ] type )
//! type        := [ "!" | "%" ] [ ns "." ] ident [ "<" type ">" ]
//! ```
//!
//! A declaration may span lines; everything after `//` on a line is a comment.

use crate::ast::{Category, Definition, Flag, Param, ParamKind, Schema, TypeRef};
use crate::error::Error;
use crate::ids;

/// Parses a whole schema file.
pub fn parse(text: &str) -> Result<Schema, Error> {
    let mut layer = None;
    let mut category = Category::Type;
    let mut definitions = Vec::new();
    // Text of a declaration not yet closed by `;`, and the line it started on.
    let mut pending = String::new();
    let mut pending_line = 0;

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let (code, comment) = match raw.find("//") {
            Some(at) => (&raw[..at], Some(&raw[at + 2..])),
            None => (raw, None),
        };
        let code = code.trim();
        if code.is_empty() {
            if let Some(n) = comment.and_then(layer_number) {
                if pending.is_empty() {
                    layer = Some(n);
                }
            }
            continue;
        }
        if code == "---types---" || code == "---functions---" {
            if !pending.is_empty() {
                return Err(Error::syntax(
                    pending_line,
                    "declaration without a closing ';'",
                ));
            }
            category = if code == "---types---" {
                Category::Type
            } else {
                Category::Function
            };
            continue;
        }
        if code.starts_with("---") {
            return Err(Error::syntax(
                line,
                format!("unknown section marker {code}"),
            ));
        }
        let mut rest = code;
        while !rest.is_empty() {
            if pending.is_empty() {
                pending_line = line;
            } else {
                pending.push(' ');
            }
            match rest.find(';') {
                Some(at) => {
                    pending.push_str(&rest[..at]);
                    definitions.push(parse_declaration(&pending, pending_line, category)?);
                    pending.clear();
                    rest = rest[at + 1..].trim_start();
                }
                None => {
                    pending.push_str(rest);
                    rest = "";
                }
            }
        }
    }
    if !pending.is_empty() {
        return Err(Error::syntax(
            pending_line,
            "declaration without a closing ';'",
        ));
    }
    Ok(Schema { layer, definitions })
}

/// `LAYER 229` (the text after `//`) → 229.
fn layer_number(comment: &str) -> Option<u32> {
    comment.trim().strip_prefix("LAYER")?.trim().parse().ok()
}

fn parse_declaration(text: &str, line: usize, category: Category) -> Result<Definition, Error> {
    let err = |m: String| Error::syntax(line, m);
    let (lhs, rhs) = text
        .split_once('=')
        .ok_or_else(|| err("missing '=' before the result type".into()))?;
    if rhs.contains('=') {
        return Err(err("more than one '='".into()));
    }
    let mut tokens = lhs.split_whitespace();
    let head = tokens
        .next()
        .ok_or_else(|| err("missing combinator name".into()))?;
    let (full_name, declared_id) = match head.split_once('#') {
        Some((name, hex)) => {
            if hex.is_empty() || hex.len() > 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err(format!("invalid constructor id #{hex}")));
            }
            let id = u32::from_str_radix(hex, 16).map_err(|e| err(format!("#{hex}: {e}")))?;
            (name, Some(id))
        }
        None => (head, None),
    };
    let (namespace, name) = split_namespace(full_name).map_err(err)?;

    let mut generics: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    for token in tokens {
        if let Some(inner) = token.strip_prefix('{') {
            let inner = inner
                .strip_suffix('}')
                .ok_or_else(|| err(format!("unclosed generic parameter {token}")))?;
            let (gname, kind) = inner
                .split_once(':')
                .ok_or_else(|| err(format!("generic parameter {token} without ':Type'")))?;
            if kind != "Type" {
                return Err(err(format!(
                    "generic parameter {token}: only ':Type' is supported"
                )));
            }
            check_ident(gname).map_err(err)?;
            if !params.is_empty() {
                return Err(err(format!("generic parameter {token} after a parameter")));
            }
            generics.push(gname.to_string());
            continue;
        }
        let (pname, ptype) = token
            .split_once(':')
            .ok_or_else(|| err(format!("parameter {token} is not name:type")))?;
        check_ident(pname).map_err(err)?;
        if params.iter().any(|p| p.name == pname) {
            return Err(err(format!("parameter {pname} declared twice")));
        }
        let kind = parse_param_type(ptype, &params, &generics).map_err(err)?;
        params.push(Param {
            name: pname.to_string(),
            kind,
        });
    }

    let rhs = rhs.trim();
    if rhs.contains(char::is_whitespace) {
        return Err(err(format!(
            "result type {rhs}: only the form Type or Type<Arg> is supported"
        )));
    }
    let result = parse_type(rhs, &generics).map_err(err)?;
    if result.generic_ref || result.percent {
        return Err(err(format!(
            "result type {rhs} cannot be bare or a !reference"
        )));
    }

    let mut def = Definition {
        line,
        category,
        namespace,
        name,
        declared_id,
        computed_id: 0,
        id: 0,
        generics,
        params,
        result,
        source: String::new(),
    };
    def.computed_id = ids::computed_id(&def);
    def.id = declared_id.unwrap_or(def.computed_id);
    def.source = format!("{};", text.split_whitespace().collect::<Vec<_>>().join(" "));
    Ok(def)
}

fn parse_param_type(
    text: &str,
    earlier: &[Param],
    generics: &[String],
) -> Result<ParamKind, String> {
    if text == "#" {
        return Ok(ParamKind::Flags);
    }
    if let Some((cond, ty)) = text.split_once('?') {
        let (word, bit) = cond
            .split_once('.')
            .ok_or_else(|| format!("condition {cond} is not flags.N"))?;
        let declared = earlier
            .iter()
            .any(|p| p.name == word && p.kind == ParamKind::Flags);
        if !declared {
            return Err(format!("condition {cond} names no earlier '#' parameter"));
        }
        let bit: u32 = bit
            .parse()
            .ok()
            .filter(|b| *b < 32)
            .ok_or_else(|| format!("condition {cond}: bit must be 0..31"))?;
        let ty = parse_type(ty, generics)?;
        return Ok(ParamKind::Value {
            ty,
            flag: Some(Flag {
                word: word.to_string(),
                bit,
            }),
        });
    }
    let ty = parse_type(text, generics)?;
    if ty.name == "true" {
        return Err(format!("type true outside a flag condition in {text}"));
    }
    Ok(ParamKind::Value { ty, flag: None })
}

/// Parses a type reference; `generics` are the `{X:Type}` names in scope.
pub(crate) fn parse_type(text: &str, generics: &[String]) -> Result<TypeRef, String> {
    if let Some(name) = text.strip_prefix('!') {
        if !generics.iter().any(|g| g == name) {
            return Err(format!("!{name} names no generic parameter"));
        }
        return Ok(TypeRef {
            namespace: None,
            name: name.to_string(),
            bare: false,
            percent: false,
            generic_ref: true,
            arg: None,
        });
    }
    let (percent, text) = match text.strip_prefix('%') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (head, arg) = match text.split_once('<') {
        Some((head, rest)) => {
            let inner = rest
                .strip_suffix('>')
                .ok_or_else(|| format!("unclosed '<' in {text}"))?;
            if head != "Vector" && head != "vector" {
                return Err(format!(
                    "only Vector and vector take a type argument, not {head}"
                ));
            }
            (head, Some(Box::new(parse_type(inner, generics)?)))
        }
        None => (text, None),
    };
    if (head == "Vector" || head == "vector") && arg.is_none() {
        return Err(format!("{head} needs a type argument"));
    }
    let (namespace, name) = split_namespace(head)?;
    let bare = percent || name.starts_with(|c: char| c.is_ascii_lowercase());
    Ok(TypeRef {
        namespace,
        name,
        bare,
        percent,
        generic_ref: false,
        arg,
    })
}

fn split_namespace(full: &str) -> Result<(Option<String>, String), String> {
    match full.split_once('.') {
        Some((ns, name)) => {
            check_ident(ns)?;
            check_ident(name)?;
            Ok((Some(ns.to_string()), name.to_string()))
        }
        None => {
            check_ident(full)?;
            Ok((None, full.to_string()))
        }
    }
}

fn check_ident(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return Err(format!("invalid identifier {s:?}")),
    }
    if chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("invalid identifier {s:?}"))
    }
}
