//! The measured server's own accounting, read from /proc (Linux): CPU time (user + system, so the
//! load generator's cost is never counted) and resident memory.

use std::io;
use std::time::Duration;

/// One reading of a process's accounting.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    pub cpu: Duration,
    pub rss_bytes: u64,
}

/// Reads `/proc/PID/stat` (utime + stime, fields 14 and 15, in clock ticks) and
/// `/proc/PID/status` (VmRSS).
pub fn sample(pid: u32) -> io::Result<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let cpu_ticks = parse_cpu_ticks(&stat)
        .ok_or_else(|| io::Error::other(format!("/proc/{pid}/stat: unexpected format")))?;
    let rss_bytes = parse_rss(&status)
        .ok_or_else(|| io::Error::other(format!("/proc/{pid}/status: no VmRSS")))?;
    Ok(ProcSample {
        cpu: ticks_to_duration(cpu_ticks, USER_HZ),
        rss_bytes,
    })
}

/// utime + stime. The command name (field 2) may hold spaces and parentheses, so fields are
/// counted after its last ')'; field 3 is the first one there.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn parse_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// /proc reports CPU time in USER_HZ units (`sysconf(_SC_CLK_TCK)`, proc(5)), which Linux fixes
/// at 100 per second on x86 and ARM whatever the kernel's own HZ; the crate forbids the unsafe
/// call that would ask.
const USER_HZ: u64 = 100;

fn ticks_to_duration(ticks: u64, per_second: u64) -> Duration {
    Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_past_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 17 0 0 20 0 1";
        assert_eq!(parse_cpu_ticks(stat), Some(267));
        assert_eq!(parse_cpu_ticks("4242 (x) S 1 2"), None);
    }

    #[test]
    fn reads_rss_in_bytes() {
        let status = "Name:\tx\nVmPeak:\t  900 kB\nVmRSS:\t    1234 kB\nThreads:\t3\n";
        assert_eq!(parse_rss(status), Some(1234 * 1024));
        assert_eq!(parse_rss("Name:\tx\n"), None);
    }

    #[test]
    fn ticks_convert_at_the_given_rate() {
        assert_eq!(ticks_to_duration(250, 100), Duration::from_millis(2500));
    }

    #[test]
    fn this_process_can_be_sampled() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_bytes > 0);
    }
}
