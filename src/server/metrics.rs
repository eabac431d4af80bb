//! Counters and histograms for `GET /metrics` on the admin HTTP address, in the Prometheus text
//! format (exposition format 0.0.4). Updated on the hot paths with atomics or one short lock;
//! every label set is bounded: DCs and transports are few, method names come from the schema
//! (`&'static str`), error texts have their numbers folded to `X` and are capped.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];
/// Upper bounds of the commits-per-sync buckets.
const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 512.0];
/// Distinct (method, error) pairs counted; past it errors are counted as `OTHER`.
const MAX_ERROR_LABELS: usize = 2000;

#[derive(Debug, Default)]
pub struct Histogram {
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    /// The sum in millionths (of seconds, or of units).
    sum_micros: AtomicU64,
}

impl Histogram {
    fn new(bounds: usize) -> Self {
        Histogram {
            buckets: (0..bounds).map(|_| AtomicU64::new(0)).collect(),
            ..Default::default()
        }
    }

    fn observe(&self, bounds: &[f64], v: f64) {
        if let Some(i) = bounds.iter().position(|b| v <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((v * 1e6) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64]) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (b, n) in bounds.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = |l: &str| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{{{l}}}")
            }
        };
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

/// Open connections and connections ever accepted, by (DC, transport).
type ConnectionCounts = HashMap<(i32, &'static str), (i64, u64)>;

#[derive(Debug)]
struct MethodStats {
    calls: u64,
    latency: Histogram,
}

#[derive(Debug)]
pub struct Metrics {
    connections: Mutex<ConnectionCounts>,
    handshakes_made: [AtomicU64; 2],
    handshakes_failed: AtomicU64,
    handshakes_in_progress: AtomicI64,
    methods: Mutex<HashMap<&'static str, MethodStats>>,
    errors: Mutex<HashMap<(&'static str, String), u64>>,
    faults_injected: AtomicU64,
    sync_latency: Histogram,
    sync_batch: Histogram,
    admin_requests: AtomicU64,
    held_dropped: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            connections: Default::default(),
            handshakes_made: Default::default(),
            handshakes_failed: Default::default(),
            handshakes_in_progress: Default::default(),
            methods: Default::default(),
            errors: Default::default(),
            faults_injected: Default::default(),
            sync_latency: Histogram::new(LATENCY_BUCKETS.len()),
            sync_batch: Histogram::new(BATCH_BUCKETS.len()),
            admin_requests: Default::default(),
            held_dropped: Default::default(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `FLOOD_WAIT_37` → `FLOOD_WAIT_X`: numbers in error texts would make labels unbounded.
pub fn error_label(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_number = false;
    for c in message.chars().take(64) {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('X');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

impl Metrics {
    pub fn connection_opened(&self, dc: i32, transport: &'static str) {
        let mut c = lock(&self.connections);
        let e = c.entry((dc, transport)).or_default();
        e.0 += 1;
        e.1 += 1;
    }

    pub fn connection_closed(&self, dc: i32, transport: &'static str) {
        if let Some(e) = lock(&self.connections).get_mut(&(dc, transport)) {
            e.0 -= 1;
        }
    }

    pub fn handshake_made(&self, temporary: bool) {
        self.handshakes_made[usize::from(temporary)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn handshake_failed(&self) {
        self.handshakes_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection's key exchanges in progress went from `before` to `after`.
    pub fn handshakes_changed(&self, before: usize, after: usize) {
        if before != after {
            self.handshakes_in_progress
                .fetch_add(after as i64 - before as i64, Ordering::Relaxed);
        }
    }

    pub fn rpc(&self, method: &'static str, took: Duration, error: Option<&str>) {
        {
            let mut m = lock(&self.methods);
            let s = m.entry(method).or_insert_with(|| MethodStats {
                calls: 0,
                latency: Histogram::new(LATENCY_BUCKETS.len()),
            });
            s.calls += 1;
            s.latency.observe(&LATENCY_BUCKETS, took.as_secs_f64());
        }
        if let Some(e) = error {
            let mut errors = lock(&self.errors);
            let mut label = error_label(e);
            if errors.len() >= MAX_ERROR_LABELS && !errors.contains_key(&(method, label.clone())) {
                label = "OTHER".into();
            }
            *errors.entry((method, label)).or_default() += 1;
        }
    }

    pub fn fault_injected(&self) {
        self.faults_injected.fetch_add(1, Ordering::Relaxed);
    }

    pub fn store_synced(&self, took: Duration, commits: u64) {
        self.sync_latency
            .observe(&LATENCY_BUCKETS, took.as_secs_f64());
        self.sync_batch.observe(&BATCH_BUCKETS, commits as f64);
    }

    pub fn admin_request(&self) {
        self.admin_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Unacknowledged answers dropped by the per-key or server-wide bound (`held.rs`).
    pub fn held_dropped(&self, n: u64) {
        self.held_dropped.fetch_add(n, Ordering::Relaxed);
    }

    pub fn held_dropped_total(&self) -> u64 {
        self.held_dropped.load(Ordering::Relaxed)
    }

    /// The Prometheus text, with the gauges `fill` reads off the server at this moment.
    pub fn render(&self, fill: &[(&str, u64, Option<u64>)]) -> String {
        let mut out = String::new();
        let head = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        // A metric with one unlabelled value.
        let single = |out: &mut String, name: &str, kind: &str, help: &str, value: u64| {
            head(out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        };
        {
            let c = lock(&self.connections);
            let mut rows: Vec<_> = c.iter().collect();
            rows.sort();
            head(
                &mut out,
                "mtproto_connections_open",
                "gauge",
                "Open connections by DC and transport.",
            );
            for ((dc, t), (open, _)) in &rows {
                let _ = writeln!(
                    out,
                    "mtproto_connections_open{{dc=\"{dc}\",transport=\"{t}\"}} {open}"
                );
            }
            head(
                &mut out,
                "mtproto_connections_total",
                "counter",
                "Connections whose transport was recognised, by DC and transport.",
            );
            for ((dc, t), (_, total)) in &rows {
                let _ = writeln!(
                    out,
                    "mtproto_connections_total{{dc=\"{dc}\",transport=\"{t}\"}} {total}"
                );
            }
        }
        head(
            &mut out,
            "mtproto_key_exchanges_total",
            "counter",
            "Auth keys created, by kind.",
        );
        for (i, kind) in ["permanent", "temporary"].iter().enumerate() {
            let _ = writeln!(
                out,
                "mtproto_key_exchanges_total{{kind=\"{kind}\"}} {}",
                self.handshakes_made[i].load(Ordering::Relaxed)
            );
        }
        single(
            &mut out,
            "mtproto_key_exchanges_failed_total",
            "counter",
            "Key exchanges refused or failed.",
            self.handshakes_failed.load(Ordering::Relaxed),
        );
        single(
            &mut out,
            "mtproto_key_exchanges_in_progress",
            "gauge",
            "Key exchanges started and not finished.",
            self.handshakes_in_progress.load(Ordering::Relaxed).max(0) as u64,
        );
        {
            let m = lock(&self.methods);
            let mut rows: Vec<_> = m.iter().collect();
            rows.sort_by_key(|(k, _)| **k);
            head(
                &mut out,
                "mtproto_rpc_calls_total",
                "counter",
                "RPC calls by method.",
            );
            for (method, s) in &rows {
                let _ = writeln!(
                    out,
                    "mtproto_rpc_calls_total{{method=\"{method}\"}} {}",
                    s.calls
                );
            }
            head(
                &mut out,
                "mtproto_rpc_duration_seconds",
                "histogram",
                "Time to answer an RPC call (the store sync it waits for not included).",
            );
            for (method, s) in &rows {
                s.latency.render(
                    &mut out,
                    "mtproto_rpc_duration_seconds",
                    &format!("method=\"{method}\""),
                    &LATENCY_BUCKETS,
                );
            }
        }
        {
            let e = lock(&self.errors);
            let mut rows: Vec<_> = e.iter().collect();
            rows.sort();
            head(
                &mut out,
                "mtproto_rpc_errors_total",
                "counter",
                "RPC errors by method and error text (numbers folded to X).",
            );
            for ((method, error), n) in rows {
                let _ = writeln!(
                    out,
                    "mtproto_rpc_errors_total{{method=\"{method}\",error=\"{error}\"}} {n}"
                );
            }
        }
        single(
            &mut out,
            "mtproto_faults_injected_total",
            "counter",
            "Calls a fault rule fired on.",
            self.faults_injected.load(Ordering::Relaxed),
        );
        head(
            &mut out,
            "mtproto_store_sync_duration_seconds",
            "histogram",
            "Store syncs run for answers that wait for durability.",
        );
        self.sync_latency.render(
            &mut out,
            "mtproto_store_sync_duration_seconds",
            "",
            &LATENCY_BUCKETS,
        );
        head(
            &mut out,
            "mtproto_store_sync_commits",
            "histogram",
            "Commits each store sync covered (group commit).",
        );
        self.sync_batch
            .render(&mut out, "mtproto_store_sync_commits", "", &BATCH_BUCKETS);
        single(
            &mut out,
            "mtproto_admin_requests_total",
            "counter",
            "Admin API and admin socket requests.",
            self.admin_requests.load(Ordering::Relaxed),
        );
        single(
            &mut out,
            "mtproto_held_answers_dropped_total",
            "counter",
            "Unacknowledged answers dropped by the per-key or server-wide bound.",
            self.held_dropped.load(Ordering::Relaxed),
        );
        head(
            &mut out,
            "mtproto_cache_entries",
            "gauge",
            "Entries held in each bounded table.",
        );
        for (cache, n, _) in fill {
            let _ = writeln!(out, "mtproto_cache_entries{{cache=\"{cache}\"}} {n}");
        }
        head(
            &mut out,
            "mtproto_cache_capacity",
            "gauge",
            "The bound of each table that has a fixed one.",
        );
        for (cache, _, cap) in fill {
            if let Some(cap) = cap {
                let _ = writeln!(out, "mtproto_cache_capacity{{cache=\"{cache}\"}} {cap}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_has_every_family_and_bounded_labels() {
        let m = Metrics::default();
        m.connection_opened(2, "intermediate");
        m.connection_opened(2, "intermediate");
        m.connection_closed(2, "intermediate");
        m.handshake_made(false);
        m.handshakes_changed(0, 1);
        m.rpc("auth.sendCode", Duration::from_micros(300), None);
        m.rpc(
            "auth.sendCode",
            Duration::from_millis(3),
            Some("FLOOD_WAIT_37"),
        );
        m.rpc(
            "auth.sendCode",
            Duration::from_millis(3),
            Some("FLOOD_WAIT_5"),
        );
        m.store_synced(Duration::from_millis(2), 3);
        let text = m.render(&[("sessions", 4, Some(10))]);
        for line in [
            "mtproto_connections_open{dc=\"2\",transport=\"intermediate\"} 1",
            "mtproto_connections_total{dc=\"2\",transport=\"intermediate\"} 2",
            "mtproto_key_exchanges_total{kind=\"permanent\"} 1",
            "mtproto_key_exchanges_in_progress 1",
            "mtproto_rpc_calls_total{method=\"auth.sendCode\"} 3",
            "mtproto_rpc_duration_seconds_bucket{method=\"auth.sendCode\",le=\"0.0005\"} 1",
            "mtproto_rpc_duration_seconds_bucket{method=\"auth.sendCode\",le=\"+Inf\"} 3",
            "mtproto_rpc_errors_total{method=\"auth.sendCode\",error=\"FLOOD_WAIT_X\"} 2",
            "mtproto_store_sync_commits_bucket{le=\"4\"} 1",
            "mtproto_store_sync_duration_seconds_count 1",
            "mtproto_cache_entries{cache=\"sessions\"} 4",
            "mtproto_cache_capacity{cache=\"sessions\"} 10",
        ] {
            assert!(text.contains(line), "{line} missing in\n{text}");
        }
        assert_eq!(error_label("PHONE_MIGRATE_2"), "PHONE_MIGRATE_X");
        assert_eq!(error_label("A1B22"), "AXBX");
    }
}
