//! `serve --config FILE`: every `serve` option from a TOML file [doc: toml.io, the subset
//! below], flags on the command line overriding it. The file is read into the same arguments
//! the flags are (`key = value` → `--key value`), so one parser checks both.
//!
//! The subset: `key = value` lines (`_` and `-` alike in keys), `#` comments, blank lines, an
//! optional `[serve]` table header; values are basic or literal strings, integers, `true`/
//! `false` (a flag, or nothing), and arrays of strings (a repeatable flag, e.g. `dc_addr`).

/// The arguments `text` stands for, or what is wrong with it (line numbers from 1).
pub fn args_from_toml(text: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let at = |e: &str| format!("line {}: {e}", n + 1);
        let line = strip_comment(raw).trim();
        if line.is_empty() || line == "[serve]" {
            continue;
        }
        if line.starts_with('[') {
            return Err(at("only the [serve] table is known"));
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| at("expected key = value"))?;
        let key = key.trim();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(at(&format!("{key:?} is not a key")));
        }
        let flag = format!("--{}", key.replace('_', "-"));
        let value = value.trim();
        match value {
            "true" => args.push(flag),
            "false" => {}
            v if v.starts_with('[') => {
                let inner = v
                    .strip_prefix('[')
                    .and_then(|v| v.strip_suffix(']'))
                    .ok_or_else(|| at("an array ends with ] on its line"))?;
                for item in inner.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                    args.push(flag.clone());
                    args.push(string(item).ok_or_else(|| at("arrays hold strings"))?);
                }
            }
            v => {
                let v = string(v)
                    .or_else(|| {
                        v.replace('_', "")
                            .parse::<i64>()
                            .ok()
                            .map(|i| i.to_string())
                    })
                    .ok_or_else(|| at(&format!("{v:?} is not a string, integer or boolean")))?;
                args.push(flag);
                args.push(v);
            }
        }
    }
    Ok(args)
}

/// A `"basic"` (with `\"`, `\\`, `\n`, `\t` escapes) or `'literal'` string's contents.
pub(crate) fn string(v: &str) -> Option<String> {
    if let Some(s) = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return (!s.contains('\'')).then(|| s.to_string());
    }
    let s = v.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(match chars.next()? {
                'n' => '\n',
                't' => '\t',
                '"' => '"',
                '\\' => '\\',
                _ => return None,
            }),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// The line without a `#` comment (a `#` inside a string stays).
pub(crate) fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// `serve … --config FILE …` with FILE's options put before the command line's, so that the
/// command line wins (clap keeps the last of a repeated option). Other commands unchanged.
pub fn expand(args: Vec<String>) -> Result<Vec<String>, String> {
    if args.get(1).map(String::as_str) != Some("serve") {
        return Ok(args);
    }
    let mut rest = Vec::new();
    let mut file = None;
    let mut it = args[2..].iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            file = Some(it.next().ok_or("--config needs a FILE")?.clone());
        } else if let Some(f) = a.strip_prefix("--config=") {
            file = Some(f.to_string());
        } else {
            rest.push(a.clone());
        }
    }
    let Some(file) = file else {
        return Ok(args);
    };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("--config {file}: {e}"))?;
    let from_file = args_from_toml(&text).map_err(|e| format!("--config {file}: {e}"))?;
    Ok([args[..2].to_vec(), from_file, rest].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subset_reads_into_arguments() {
        let text = r#"
# a comment
[serve]
listen = "127.0.0.1:0"   # trailing comment
dcs = 2
data_dir = '/tmp/x # not a comment'
ephemeral = true
dev-login-limits = false
dc_addr = ["2=127.0.0.2:443", "3=127.0.0.3:443"]
code_ttl = 1_000
"#;
        assert_eq!(
            args_from_toml(text).unwrap(),
            [
                "--listen",
                "127.0.0.1:0",
                "--dcs",
                "2",
                "--data-dir",
                "/tmp/x # not a comment",
                "--ephemeral",
                "--dc-addr",
                "2=127.0.0.2:443",
                "--dc-addr",
                "3=127.0.0.3:443",
                "--code-ttl",
                "1000",
            ]
        );
        assert!(args_from_toml("[other]")
            .unwrap_err()
            .starts_with("line 1:"));
        assert!(args_from_toml("x").is_err());
        assert!(args_from_toml("x = nope").is_err());
        assert!(args_from_toml("x = [1]").is_err());
        assert_eq!(args_from_toml("s = \"a\\\"b\"").unwrap(), ["--s", "a\"b"]);
    }

    #[test]
    fn the_command_line_comes_after_the_file() {
        let dir = std::env::temp_dir().join(format!("mtproto-config-{}.toml", std::process::id()));
        std::fs::write(&dir, "dcs = 2\n").unwrap();
        let args: Vec<String> = [
            "bin",
            "serve",
            "--config",
            dir.to_str().unwrap(),
            "--dcs",
            "1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            expand(args).unwrap(),
            ["bin", "serve", "--dcs", "2", "--dcs", "1"]
        );
        let other: Vec<String> = ["bin", "login", "--config", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(expand(other.clone()).unwrap(), other);
        std::fs::remove_file(dir).unwrap();
    }
}
