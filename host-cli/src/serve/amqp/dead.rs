//! `tmbridge queue list|replay`: what sits in the dead-letter queue, and putting
//! events back in the events queue. Reading takes the messages without acking them;
//! closing the channel gives back every one not replayed, in order.

use super::headers::{self, DEAD_AT, EventMeta, REASON};
use super::topology;
use super::{Broker, DEAD, EVENTS, Published};
use amqprs::channel::{BasicAckArguments, BasicGetArguments};
use serde::Serialize;

/// One dead-lettered event.
#[derive(Debug, Clone, Serialize)]
pub struct DeadEvent {
    /// `project/pipeline/status`, what `queue replay --event` takes.
    pub event: String,
    pub project_id: Option<u64>,
    pub pipeline_id: Option<u64>,
    pub status: Option<String>,
    /// Attempts it had.
    pub attempts: u64,
    pub reason: String,
    /// When it was dead-lettered (unix seconds).
    pub dead_at: Option<i64>,
}

/// The queues' depths and the dead-lettered events.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub broker: String,
    /// Events waiting for a worker.
    pub pending: u32,
    /// Events waiting for their next attempt.
    pub retrying: u32,
    pub dead: Vec<DeadEvent>,
}

fn describe(properties: &amqprs::BasicProperties) -> DeadEvent {
    let meta = EventMeta::read(properties).ok();
    DeadEvent {
        event: meta
            .as_ref()
            .map(EventMeta::key)
            .or_else(|| properties.message_id().cloned())
            .unwrap_or_else(|| "(not a tmbridge event)".into()),
        project_id: meta.as_ref().map(|m| m.project_id),
        pipeline_id: meta.as_ref().map(|m| m.pipeline_id),
        status: meta.as_ref().map(|m| m.status.clone()),
        attempts: meta.as_ref().map(|m| m.attempts).unwrap_or(0),
        reason: headers::text_header(properties, REASON)
            .unwrap_or_else(|| "(no reason given)".into()),
        dead_at: headers::int_header(properties, DEAD_AT),
    }
}

/// Lists without changing anything.
pub fn list(broker: &Broker) -> Result<Listing, String> {
    let link = broker.connect("queue list")?;
    broker.block_on(async move {
        let (pending, retrying, _) = topology::depths(link.channel()).await?;
        let mut dead = Vec::new();
        while let Some((_, properties, _)) = link
            .channel()
            .basic_get(BasicGetArguments::new(DEAD))
            .await
            .map_err(|e| format!("basic.get: {e}"))?
        {
            dead.push(describe(&properties));
        }
        link.close().await;
        Ok(Listing {
            broker: broker.address.to_string(),
            pending,
            retrying,
            dead,
        })
    })
}

/// Which dead events to put back.
pub enum Selection {
    All,
    /// By `project/pipeline/status`, or `project/pipeline` for every status.
    Keys(Vec<String>),
}

impl Selection {
    fn matches(&self, event: &DeadEvent) -> bool {
        match self {
            Selection::All => true,
            Selection::Keys(keys) => keys.iter().any(|k| {
                event.event == *k
                    || event
                        .event
                        .strip_prefix(k.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            }),
        }
    }
}

/// Puts the selected events back in the events queue with fresh attempts; returns
/// them. Each is removed from the dead-letter queue only once the broker confirmed
/// its copy in the events queue.
pub fn replay(broker: &Broker, selection: &Selection) -> Result<Vec<DeadEvent>, String> {
    let mut link = broker.connect("queue replay")?;
    let handle = broker.clone();
    handle.block_on(async move {
        let mut replayed = Vec::new();
        while let Some((got, properties, body)) = link
            .channel()
            .basic_get(BasicGetArguments::new(DEAD))
            .await
            .map_err(|e| format!("basic.get: {e}"))?
        {
            let event = describe(&properties);
            let Ok(meta) = EventMeta::read(&properties) else {
                continue;
            };
            if !selection.matches(&event) {
                continue;
            }
            let fresh = EventMeta {
                attempts: 0,
                last_error: Some(format!("replayed from {DEAD}: {}", event.reason)),
                ..meta
            };
            match link.publish(EVENTS, fresh.properties(&[]), body).await? {
                Published::Confirmed => {}
                Published::Refused => {
                    return Err(format!("the broker refused to queue {} again", event.event));
                }
            }
            link.channel()
                .basic_ack(BasicAckArguments::new(got.delivery_tag(), false))
                .await
                .map_err(|e| format!("basic.ack: {e}"))?;
            replayed.push(event);
        }
        link.close().await;
        Ok(replayed)
    })
}
