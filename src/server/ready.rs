//! The line `serve` prints on stdout once it listens, for test harnesses that start it with
//! `--listen 127.0.0.1:0` and must learn what it bound: each DC's id and address, the public key
//! (PEM, its fingerprint as clients compute it and as Telethon stores it signed), the data dir
//! and the admin socket. One JSON object on one line; `--ready-file PATH` gets the same.

use std::fmt::Write as _;
use std::path::Path;

use super::Server;

/// `s` as a JSON string literal.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Each DC as clients are told (help.getConfig: the public host where one is set), as a JSON
/// array: id, host, port and address (the ready line, the admin API's /health).
pub fn dcs_json(dcs: &[crate::rpc::DcAddress]) -> String {
    let items: Vec<String> = dcs
        .iter()
        .map(|d| {
            let addr = match d.ip.parse::<std::net::IpAddr>() {
                Ok(ip) => std::net::SocketAddr::new(ip, d.port).to_string(),
                Err(_) => format!("{}:{}", d.ip, d.port),
            };
            format!(
                "{{\"id\":{},\"host\":{},\"port\":{},\"addr\":{}}}",
                d.id,
                json_string(&d.ip),
                d.port,
                json_string(&addr)
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// The ready line for a bound server.
pub fn ready_line(server: &Server) -> std::io::Result<String> {
    let pem = std::fs::read_to_string(server.public_key_path())?;
    let fingerprint = server.state().rsa_keys[0].fingerprint();
    let dcs = dcs_json(&server.state().dcs);
    let dir = server.data_dir();
    Ok(format!(
        "{{\"ready\":true,\"ephemeral\":{},\"dcs\":{},\"public_key_pem\":{},\"fingerprint\":\"{:016x}\",\"signed_fingerprint\":{},\"data_dir\":{},\"admin_socket\":{},\"admin_http\":{}}}",
        server.is_ephemeral(),
        dcs,
        json_string(&pem),
        fingerprint as u64,
        fingerprint,
        json_string(&dir.display().to_string()),
        json_string(&dir.join(crate::tools::admin::ADMIN_SOCKET).display().to_string()),
        server
            .admin_http_addr()
            .map_or("null".into(), |a| json_string(&a.to_string())),
    ))
}

/// Writes `line` to `path` whole: a reader polling for the file never sees half of it.
pub fn write_ready_file(path: &Path, line: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{line}\n"))?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(
            json_string("a\"b\\c\nd\u{1}é"),
            "\"a\\\"b\\\\c\\nd\\u0001é\""
        );
    }
}
