//! The handshake and password benchmarks' baseline: what `openssl speed rsa2048 ffdh2048`
//! reports on this machine, run in the same invocation as the measurement.

use std::process::Command;

/// Milliseconds per operation as openssl measured them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpensslCosts {
    pub rsa2048_sign_ms: f64,
    /// One ffdhe2048 derivation: a 2048-bit exponentiation with the 225-bit private exponent
    /// OpenSSL draws for that group (the server's are 320 bits, HS-13 as amended).
    pub ffdh2048_ms: f64,
}

impl OpensslCosts {
    /// The baseline: one RSA-2048 private operation plus two 2048-bit DH operations.
    pub fn handshake_ms(&self) -> f64 {
        self.rsa2048_sign_ms + 2.0 * self.ffdh2048_ms
    }
}

/// Runs openssl; `None` if it is not installed or its output is not understood.
pub fn measure(seconds: u32) -> Option<OpensslCosts> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string()])
        .args(["rsa2048", "ffdh2048"])
        .output()
        .ok()?;
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// Reads the summary lines:
/// `rsa 2048 bits 0.000951s 0.000028s   1051.5  35355.0` (sign/s is the third number) and
/// `2048 bits ffdh   0.0005s   2135.2` (op/s is the second).
fn parse(text: &str) -> Option<OpensslCosts> {
    let mut rsa2048 = None;
    let mut ffdh = None;
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        match t.as_slice() {
            ["rsa", "2048", "bits", _, _, sign_per_s, _] => {
                rsa2048 = Some(1000.0 / sign_per_s.parse::<f64>().ok()?);
            }
            ["2048", "bits", "ffdh", _, ops_per_s] => {
                ffdh = Some(1000.0 / ops_per_s.parse::<f64>().ok()?);
            }
            _ => {}
        }
    }
    Some(OpensslCosts {
        rsa2048_sign_ms: rsa2048?,
        ffdh2048_ms: ffdh?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openssl_3_summary_lines() {
        let text = "version: 3.0.19\n\
                    \x20                 sign    verify    sign/s verify/s\n\
                    rsa 2048 bits 0.000951s 0.000028s   1000.0  35355.0\n\
                    rsa 4096 bits 0.006711s 0.000104s    125.0   9655.8\n\
                    \x20                      op     op/s\n\
                    \x202048 bits ffdh   0.0005s   2000.0\n";
        let c = parse(text).unwrap();
        assert_eq!(c.rsa2048_sign_ms, 1.0);
        assert_eq!(c.ffdh2048_ms, 0.5);
        assert_eq!(c.handshake_ms(), 2.0);
        assert_eq!(parse("rsa 2048 bits 0.1s 0.1s 10.0 10.0\n"), None);
    }
}
