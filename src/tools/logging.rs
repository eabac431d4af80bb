//! Logging for the commands: human-readable lines on stderr (colours only at a terminal), or
//! one JSON object per line (`serve --log-format json`) for machines: `ts` (unix milliseconds),
//! `level`, `target`, then the event's fields, its `message` among them. `RUST_LOG` filters
//! either way (default: info).

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::server::ready::json_string;

/// The event's fields as JSON members.
#[derive(Default)]
struct Fields(String);

impl Fields {
    fn member(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, ",{}:{value}", json_string(field.name()));
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.member(field, &json_string(&format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, &json_string(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, &value.to_string());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, &value.to_string());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, &value.to_string());
    }
}

/// One JSON object per event.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut fields = Fields::default();
        event.record(&mut fields);
        writeln!(
            writer,
            "{{\"ts\":{ts},\"level\":\"{}\",\"target\":{}{}}}",
            meta.level(),
            json_string(meta.target()),
            fields.0
        )
    }
}

/// Installs the global subscriber: text (`json` false) or JSON lines, on stderr.
pub fn init(json: bool) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let text = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal, plain text for files and pipes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .event_format(JsonLines);
        tracing_subscriber::registry()
            .with(layer)
            .with(filter)
            .init();
    } else {
        tracing_subscriber::registry()
            .with(text)
            .with(filter)
            .init();
    }
}
