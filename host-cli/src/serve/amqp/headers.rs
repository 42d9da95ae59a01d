//! The headers a pipeline event carries through the queues: which pipeline it is,
//! how many attempts it had, and why it failed last.

use amqprs::{BasicProperties, DELIVERY_MODE_PERSISTENT, FieldName, FieldTable, FieldValue};

pub const PROJECT: &str = "x-tmbridge-project";
pub const PIPELINE: &str = "x-tmbridge-pipeline";
pub const STATUS: &str = "x-tmbridge-status";
/// Attempts that ended with a failure a worker recorded.
pub const ATTEMPTS: &str = "x-tmbridge-attempts";
pub const LAST_ERROR: &str = "x-tmbridge-last-error";
/// Why the event is in the dead-letter queue.
pub const REASON: &str = "x-tmbridge-reason";
/// When it got there (unix seconds).
pub const DEAD_AT: &str = "x-tmbridge-dead-at";
/// Set by RabbitMQ's quorum queues: deliveries of this message before this one
/// (a worker that died or lost its connection with it in hand).
pub const DELIVERY_COUNT: &str = "x-delivery-count";

/// The pipeline event a message is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    pub project_id: u64,
    pub pipeline_id: u64,
    pub status: String,
    pub attempts: u64,
    pub last_error: Option<String>,
}

impl EventMeta {
    /// `project/pipeline/status`: the event's key in answers, logs and `queue replay`.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.project_id, self.pipeline_id, self.status)
    }

    pub fn read(properties: &BasicProperties) -> Result<EventMeta, String> {
        let empty = FieldTable::new();
        let h = properties.headers().unwrap_or(&empty);
        let number = |name: &str| {
            int(h, name)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| {
                    format!("the message has no {name} header: it was not queued by tmbridge serve")
                })
        };
        Ok(EventMeta {
            project_id: number(PROJECT)?,
            pipeline_id: number(PIPELINE)?,
            status: text(h, STATUS).ok_or_else(|| {
                format!("the message has no {STATUS} header: it was not queued by tmbridge serve")
            })?,
            attempts: int(h, ATTEMPTS)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
            last_error: text(h, LAST_ERROR),
        })
    }

    /// The headers of a message about this event.
    pub fn table(&self) -> FieldTable {
        let mut h = FieldTable::new();
        put(&mut h, PROJECT, FieldValue::l(self.project_id as i64));
        put(&mut h, PIPELINE, FieldValue::l(self.pipeline_id as i64));
        put(&mut h, STATUS, self.status.as_str().into());
        put(&mut h, ATTEMPTS, FieldValue::l(self.attempts as i64));
        if let Some(e) = &self.last_error {
            put(&mut h, LAST_ERROR, clip(e).into());
        }
        h
    }

    /// A persistent message about this event with `extra` headers.
    pub fn properties(&self, extra: &[(&str, FieldValue)]) -> BasicProperties {
        let mut headers = self.table();
        for (name, value) in extra {
            put(&mut headers, name, value.clone());
        }
        BasicProperties::default()
            .with_delivery_mode(DELIVERY_MODE_PERSISTENT)
            .with_content_type("application/json")
            .with_message_id(&self.key())
            .with_headers(headers)
            .finish()
    }
}

/// Deliveries before this one, as the quorum queue counts them.
pub fn delivery_count(properties: &BasicProperties) -> u64 {
    properties
        .headers()
        .and_then(|h| int(h, DELIVERY_COUNT))
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0)
}

pub fn text_header(properties: &BasicProperties, name: &str) -> Option<String> {
    properties.headers().and_then(|h| text(h, name))
}

pub fn int_header(properties: &BasicProperties, name: &str) -> Option<i64> {
    properties.headers().and_then(|h| int(h, name))
}

/// Header values stay well below the frame size whatever an error quoted.
fn clip(text: &str) -> String {
    const MAX: usize = 4000;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

pub fn put(table: &mut FieldTable, name: &str, value: FieldValue) {
    // Every name used is a short constant, well within a short string's 255 bytes.
    if let Ok(name) = FieldName::try_from(name) {
        table.insert(name, value);
    }
}

fn get<'a>(table: &'a FieldTable, name: &str) -> Option<&'a FieldValue> {
    table.get(&FieldName::try_from(name).ok()?)
}

fn int(table: &FieldTable, name: &str) -> Option<i64> {
    match get(table, name)? {
        FieldValue::b(n) => Some(i64::from(*n)),
        FieldValue::B(n) => Some(i64::from(*n)),
        FieldValue::s(n) => Some(i64::from(*n)),
        FieldValue::u(n) => Some(i64::from(*n)),
        FieldValue::I(n) => Some(i64::from(*n)),
        FieldValue::i(n) => Some(i64::from(*n)),
        FieldValue::l(n) => Some(*n),
        FieldValue::T(n) => i64::try_from(*n).ok(),
        _ => None,
    }
}

fn text(table: &FieldTable, name: &str) -> Option<String> {
    match get(table, name)? {
        FieldValue::S(s) => Some(String::from(s.clone())),
        _ => None,
    }
}
