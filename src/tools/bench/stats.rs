//! Counting and summarising what a benchmark run measured.

use std::time::Duration;

/// What one measured window produced.
#[derive(Debug, Default)]
pub struct Window {
    /// Latency of every completed operation, in microseconds.
    pub latencies_us: Vec<u32>,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Server CPU time (user + system) over the window.
    pub server_cpu: Duration,
}

impl Window {
    pub fn merge(&mut self, other: Worker) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub fn summary(mut self) -> Summary {
        self.latencies_us.sort_unstable();
        let ops = self.latencies_us.len() as u64;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        Summary {
            ops,
            errors: self.errors,
            first_error: self.first_error,
            seconds: secs,
            ops_per_sec: ops as f64 / secs,
            p50_us: percentile(&self.latencies_us, 50),
            p99_us: percentile(&self.latencies_us, 99),
            server_cpu_us_per_op: if ops == 0 {
                0.0
            } else {
                self.server_cpu.as_secs_f64() * 1e6 / ops as f64
            },
        }
    }
}

/// What one load task saw.
#[derive(Debug, Default)]
pub struct Worker {
    pub latencies_us: Vec<u32>,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Worker {
    pub fn record(&mut self, took: Duration) {
        self.latencies_us
            .push(took.as_micros().min(u32::MAX as u128) as u32);
    }

    pub fn fail(&mut self, e: impl std::fmt::Display) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(e.to_string());
        }
    }
}

/// Nearest-rank percentile of sorted values; 0 for none.
pub fn percentile(sorted: &[u32], p: u32) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * p as usize).div_ceil(100).max(1);
    sorted[rank - 1]
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub ops: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
    pub ops_per_sec: f64,
    pub p50_us: u32,
    pub p99_us: u32,
    pub server_cpu_us_per_op: f64,
}

impl Summary {
    pub fn json(&self) -> String {
        format!(
            "{{\"ops\":{},\"errors\":{},\"seconds\":{:.3},\"ops_per_sec\":{:.1},\"p50_us\":{},\"p99_us\":{},\"server_cpu_us_per_op\":{:.1}}}",
            self.ops, self.errors, self.seconds, self.ops_per_sec, self.p50_us, self.p99_us,
            self.server_cpu_us_per_op
        )
    }

    pub fn text(&self) -> String {
        let mut s = format!(
            "{:.0} ops/s ({} ops in {:.1} s), latency p50 {} µs, p99 {} µs, server CPU {:.1} µs/op",
            self.ops_per_sec,
            self.ops,
            self.seconds,
            self.p50_us,
            self.p99_us,
            self.server_cpu_us_per_op
        );
        if self.errors > 0 {
            s += &format!(
                "; {} errors (first: {})",
                self.errors,
                self.first_error.as_deref().unwrap_or("?")
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), 50);
        assert_eq!(percentile(&v, 99), 99);
        assert_eq!(percentile(&[7], 99), 7);
        assert_eq!(percentile(&[], 50), 0);
        assert_eq!(percentile(&[1, 2, 3], 50), 2);
    }

    #[test]
    fn summary_divides_cpu_by_completed_operations() {
        let w = Window {
            latencies_us: vec![30, 10, 20, 40],
            elapsed: Duration::from_secs(2),
            server_cpu: Duration::from_millis(8),
            ..Window::default()
        };
        let s = w.summary();
        assert_eq!(s.ops, 4);
        assert_eq!(s.ops_per_sec, 2.0);
        assert_eq!(s.p50_us, 20);
        assert_eq!(s.server_cpu_us_per_op, 2000.0);
    }
}
