//! sesame's own log lines (SPEC §10): on stderr, never on stdout (that is the child's,
//! or `check`'s report), as `sesame: LEVEL: message` or one JSON object a line with
//! `level`, `message` and the event's other fields.
//!
//! tracing-subscriber's `fmt` subscriber does the filtering and the writing (each line
//! with one `write` to stderr, so lines from several processes do not interleave); only
//! the line's shape is ours ([`Line`]): its stock formats print timestamps, targets and
//! span context that a container log does not want, and its JSON nests the fields.
//! Fields other than the message are shown only in JSON, where a machine reads them.
//! Nothing here adds to what the call sites pass, and no call site passes a value.

use crate::cli::{LogFormat, LogLevel};
use std::fmt;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

/// Installs the global logger. `None` silences everything (`check --quiet`).
pub fn init(format: LogFormat, level: Option<LogLevel>) {
    let max = match level {
        None => LevelFilter::OFF,
        Some(LogLevel::Error) => LevelFilter::ERROR,
        Some(LogLevel::Warn) => LevelFilter::WARN,
        Some(LogLevel::Info) => LevelFilter::INFO,
        Some(LogLevel::Debug) => LevelFilter::DEBUG,
    };
    let lines = tracing_subscriber::fmt::layer()
        // A line that cannot be written is dropped, as it was before: the fallback
        // would `eprintln!` to the same broken stderr, which panics.
        .log_internal_errors(false)
        .with_writer(std::io::stderr)
        .event_format(Line(format));
    // sesame's own events only: a library under it (the AWS signer logs the request it
    // signs, at trace level) must never reach stderr, whatever level is asked for.
    let ours = Targets::new().with_target("sesame", max);
    let subscriber = tracing_subscriber::registry().with(ours).with(lines);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The shape of one line: `sesame: warn: message`, or
/// `{"level":"warn","message":"...","secret":"DB_PASSWORD"}`.
struct Line(LogFormat);

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut out: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warn",
            Level::INFO => "info",
            _ => "debug",
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        match self.0 {
            LogFormat::Text => writeln!(out, "sesame: {level}: {}", fields.message),
            LogFormat::Json => {
                let mut obj = serde_json::Map::new();
                obj.insert("level".into(), level.into());
                obj.insert("message".into(), fields.message.into());
                for (k, v) in fields.rest {
                    obj.insert(k, v);
                }
                writeln!(out, "{}", serde_json::Value::Object(obj))
            }
        }
    }
}

/// The message and the other fields of one event.
#[derive(Default)]
struct Fields {
    message: String,
    rest: Vec<(String, serde_json::Value)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.rest.push((field.name().to_owned(), value.into()));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.rest.push((field.name().to_owned(), value.into()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.rest.push((field.name().to_owned(), value.into()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.rest.push((field.name().to_owned(), value.into()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.rest.push((field.name().to_owned(), text.into()));
        }
    }
}
