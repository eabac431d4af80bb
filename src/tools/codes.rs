//! `mtproto-auth codes`: the login codes and email codes the default sender delivered, read
//! from the data dir's `outbox.txt` (`unix_time phone code`) and `emails.txt` (`unix_time
//! address purpose code`), so a test reads a code instead of parsing logs. `--next` waits for
//! the next one that arrives (and exits), `--follow` prints each as it arrives.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Which deliveries to show.
#[derive(Debug, Clone, Default)]
pub struct CodesOptions {
    pub data_dir: PathBuf,
    /// Only this phone number's codes (digits, a leading `+` ignored).
    pub phone: Option<String>,
    /// Only codes mailed to this address.
    pub email: Option<String>,
    /// Wait for the next matching code, print it alone and stop.
    pub next: bool,
    /// Print the matching codes as they arrive, until `timeout`.
    pub follow: bool,
    /// How long `next` waits (and `follow` runs; `None`: until killed).
    pub timeout: Option<Duration>,
}

pub use crate::server::code_log::Delivery;

fn parse_outbox(line: &str) -> Option<Delivery> {
    let mut w = line.split(' ');
    let (time, to, code) = (w.next()?.parse().ok()?, w.next()?, w.next()?);
    Some(Delivery {
        seq: 0,
        time,
        to: to.into(),
        purpose: "login".into(),
        code: code.into(),
    })
}

fn parse_emails(line: &str) -> Option<Delivery> {
    let mut w = line.split(' ');
    let (time, to, purpose, code) = (w.next()?.parse().ok()?, w.next()?, w.next()?, w.next()?);
    Some(Delivery {
        seq: 0,
        time,
        to: to.into(),
        purpose: purpose.into(),
        code: code.into(),
    })
}

/// The phone codes and the email codes delivered so far, each oldest first.
fn by_file(data_dir: &Path) -> (Vec<Delivery>, Vec<Delivery>) {
    let read = |name: &str, parse: fn(&str) -> Option<Delivery>| -> Vec<Delivery> {
        std::fs::read_to_string(data_dir.join(name))
            .unwrap_or_default()
            .lines()
            .filter_map(parse)
            .collect()
    };
    (
        read(crate::server::OUTBOX_FILE, parse_outbox),
        read(crate::rpc::login::EMAILS_FILE, parse_emails),
    )
}

/// Every delivery in the data dir so far, oldest first.
pub fn deliveries(data_dir: &Path) -> Vec<Delivery> {
    let (mut all, emails) = by_file(data_dir);
    all.extend(emails);
    all.sort_by_key(|d| d.time);
    all
}

/// The code log's filter (its `after` unused: the files have no numbers).
fn matches(o: &CodesOptions, d: &Delivery) -> bool {
    crate::server::code_log::Filter {
        phone: o.phone.clone(),
        email: o.email.clone(),
        after: 0,
    }
    .matches(d)
}

/// Runs the command; `Err` when `next` timed out or the data dir has no deliveries file.
pub fn run(o: &CodesOptions, out: &mut dyn Write) -> Result<(), String> {
    if !o.data_dir.exists() {
        return Err(format!("no data dir {}", o.data_dir.display()));
    }
    // New deliveries are counted per file: each only grows.
    let (outbox, emails) = by_file(&o.data_dir);
    let mut seen = (outbox.len(), emails.len());
    if !o.next {
        for d in deliveries(&o.data_dir).iter().filter(|d| matches(o, d)) {
            writeln!(out, "{}", d.text()).map_err(|e| e.to_string())?;
        }
        if !o.follow {
            return Ok(());
        }
    }
    let deadline = o.timeout.map(|t| Instant::now() + t);
    loop {
        let (outbox, emails) = by_file(&o.data_dir);
        let fresh: Vec<&Delivery> = outbox
            .iter()
            .skip(seen.0)
            .chain(emails.iter().skip(seen.1))
            .collect();
        seen = (seen.0.max(outbox.len()), seen.1.max(emails.len()));
        for d in fresh.into_iter().filter(|d| matches(o, d)) {
            if o.next {
                writeln!(out, "{}", d.code).map_err(|e| e.to_string())?;
                return Ok(());
            }
            writeln!(out, "{}", d.text()).map_err(|e| e.to_string())?;
            out.flush().map_err(|e| e.to_string())?;
        }
        if deadline.is_some_and(|t| Instant::now() >= t) {
            return if o.next {
                Err("no new code arrived in time".into())
            } else {
                Ok(())
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_read_and_filtered() {
        let dir = std::env::temp_dir().join(format!("mtproto-codes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("outbox.txt"),
            "100 9996621234 22222\n102 4915112340000 48213\n",
        )
        .unwrap();
        std::fs::write(dir.join("emails.txt"), "101 a@b.co recovery-email 123456\n").unwrap();
        let all = deliveries(&dir);
        assert_eq!(
            all.iter().map(|d| d.time).collect::<Vec<_>>(),
            [100, 101, 102]
        );
        let show = |o: CodesOptions| {
            let mut out = Vec::new();
            run(
                &CodesOptions {
                    data_dir: dir.clone(),
                    ..o
                },
                &mut out,
            )
            .unwrap();
            String::from_utf8(out).unwrap()
        };
        let phone = show(CodesOptions {
            phone: Some("+4915112340000".into()),
            ..Default::default()
        });
        assert!(
            phone.ends_with("4915112340000 login 48213\n") && phone.lines().count() == 1,
            "{phone}"
        );
        let email = show(CodesOptions {
            email: Some("A@B.CO".into()),
            ..Default::default()
        });
        assert!(email.contains("a@b.co recovery-email 123456"), "{email}");
        assert_eq!(show(CodesOptions::default()).lines().count(), 3);
        let mut out = Vec::new();
        let waited = run(
            &CodesOptions {
                data_dir: dir.clone(),
                next: true,
                timeout: Some(Duration::from_millis(100)),
                ..Default::default()
            },
            &mut out,
        );
        assert!(waited.is_err(), "nothing new arrived");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
