//! sesame's own log lines (SPEC §10): on stderr, never on stdout (that is the child's,
//! or `check`'s report), as `sesame: LEVEL: message` or one JSON object a line.
//!
//! Built on `tracing`, with a subscriber of our own: the stock formatters print
//! timestamps, targets and ANSI colours that a container log does not want. Fields other
//! than the message are shown only in JSON, where a machine reads them.

use crate::cli::{LogFormat, LogLevel};
use std::fmt;
use std::io::Write;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Installs the global logger. `None` silences everything (`check --quiet`).
pub fn init(format: LogFormat, level: Option<LogLevel>) {
    let max = match level {
        None => LevelFilter::OFF,
        Some(LogLevel::Error) => LevelFilter::ERROR,
        Some(LogLevel::Warn) => LevelFilter::WARN,
        Some(LogLevel::Info) => LevelFilter::INFO,
        Some(LogLevel::Debug) => LevelFilter::DEBUG,
    };
    let _ = tracing::subscriber::set_global_default(Logger { format, max });
}

/// The subscriber: events only (sesame opens no spans), each written to stderr with a
/// single `write` so that lines from several processes do not interleave.
///
/// A subscriber of our own rather than `tracing-subscriber`'s: its registry, span
/// storage and formatting layers cost 40 KB of a binary meant to stay small, for
/// features sesame does not use.
struct Logger {
    format: LogFormat,
    max: LevelFilter,
}

impl Subscriber for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warn",
            Level::INFO => "info",
            _ => "debug",
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = match self.format {
            LogFormat::Text => format!("sesame: {level}: {}\n", fields.message),
            LogFormat::Json => {
                let mut obj = serde_json::Map::new();
                obj.insert("level".into(), level.into());
                obj.insert("message".into(), fields.message.into());
                for (k, v) in fields.rest {
                    obj.insert(k, v);
                }
                format!("{}\n", serde_json::Value::Object(obj))
            }
        };
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
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
