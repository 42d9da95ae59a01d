//! `tmbridge worker`: consumes pipeline events with manual acks and a prefetch
//! limit, publishes each through the same code as `serve` (its outbox, the target's
//! look-before-create), and acks only once the outcome is recorded:
//! - published: ack;
//! - a failure that may pass (GitLab or the target down, a run held by another
//!   worker): a copy goes to the retry queue with a growing TTL, then ack;
//! - attempts used up, or a failure that cannot pass: a copy with the reason goes
//!   to the dead-letter queue, then ack.
//!
//! A worker killed or cut off mid-publish never acks: the broker hands the event to
//! another worker, which resumes the run from the shared outbox (or, with no shared
//! outbox, finds in the target what was created and creates the rest). Such
//! deliveries count as attempts too (`x-delivery-count`), so an event that kills
//! every worker ends in the dead-letter queue instead of looping.

use super::headers::{self, DEAD_AT, EventMeta, REASON};
use super::{Broker, DEAD, EVENTS, Link, Published, RETRY};
use crate::serve::store::StoredEvent;
use crate::serve::worker::{self, Failure, Publisher, WorkerSettings};
use amqprs::channel::{
    BasicAckArguments, BasicConsumeArguments, BasicNackArguments, BasicQosArguments,
};
use amqprs::{BasicProperties, FieldValue};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tmbridge_core::sync::mask::mask_text;

pub struct ConsumeOptions {
    /// Events a worker holds unacknowledged at once.
    pub prefetch: u16,
    /// Attempts per event (deliveries cut short included) before it is dead-lettered.
    pub max_attempts: u64,
    /// The first retry delay; it doubles with each attempt, at most an hour.
    pub retry_delay: Duration,
}

fn log(message: &str) {
    crate::serve::log(message);
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Consumes until `stop` is set (then returns after the event in hand), reconnecting
/// whenever the broker goes away.
pub fn run(
    broker: &Broker,
    settings: &WorkerSettings,
    publisher: &dyn Publisher,
    options: &ConsumeOptions,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let mut pause = Duration::from_millis(250);
    let mut said_down = false;
    while !stop.load(Ordering::SeqCst) {
        let link = match broker.connect("worker") {
            Ok(link) => link,
            Err(e) => {
                if !said_down {
                    log(&format!("the broker cannot be reached, trying again: {e}"));
                    said_down = true;
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        pause = Duration::from_millis(250);
        said_down = false;
        log(&format!("consuming {EVENTS} at {}", broker.address));
        if let Err(e) = consume(broker, link, settings, publisher, options, stop) {
            log(&format!("lost the broker ({e}); reconnecting"));
        }
    }
    Ok(())
}

fn consume(
    broker: &Broker,
    mut link: Link,
    settings: &WorkerSettings,
    publisher: &dyn Publisher,
    options: &ConsumeOptions,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut deliveries = broker.block_on(async {
        link.channel()
            .basic_qos(BasicQosArguments::new(0, options.prefetch.max(1), false))
            .await
            .map_err(|e| format!("basic.qos: {e}"))?;
        let args = BasicConsumeArguments::new(EVENTS, "")
            .manual_ack(true)
            .finish();
        link.channel()
            .basic_consume_rx(args)
            .await
            .map(|(_, rx)| rx)
            .map_err(|e| format!("basic.consume: {e}"))
    })?;
    loop {
        if stop.load(Ordering::SeqCst) {
            // What was prefetched and not acked goes back to the queue.
            broker.block_on(link.close());
            return Ok(());
        }
        let next = broker.block_on(async {
            tokio::time::timeout(Duration::from_millis(200), deliveries.recv()).await
        });
        let message = match next {
            Err(_) if link.is_open() => continue,
            Err(_) | Ok(None) => return Err("the connection closed".into()),
            Ok(Some(m)) => m,
        };
        let (Some(deliver), Some(properties), Some(body)) =
            (message.deliver, message.basic_properties, message.content)
        else {
            continue;
        };
        let tag = deliver.delivery_tag();
        let verdict = handle(settings, publisher, options, &properties, body.clone());
        let settled = settle(broker, &mut link, verdict, &properties, body);
        let acked = match settled {
            Ok(()) => broker.block_on(link.channel().basic_ack(BasicAckArguments::new(tag, false))),
            // Not recorded anywhere: the event goes back to the queue as it was.
            Err(e) => {
                log(&e);
                broker.block_on(
                    link.channel()
                        .basic_nack(BasicNackArguments::new(tag, false, true)),
                )
            }
        };
        // A lost ack leaves the event to another worker, which finds it done.
        acked.map_err(|e| format!("basic.ack: {e}"))?;
    }
}

/// What becomes of a delivered event.
enum Verdict {
    Done,
    Retry {
        meta: EventMeta,
        delay: Duration,
    },
    Dead {
        meta: Option<EventMeta>,
        attempts: u64,
        reason: String,
    },
}

fn handle(
    settings: &WorkerSettings,
    publisher: &dyn Publisher,
    options: &ConsumeOptions,
    properties: &BasicProperties,
    body: Vec<u8>,
) -> Verdict {
    let meta = match EventMeta::read(properties) {
        Ok(m) => m,
        Err(reason) => {
            return Verdict::Dead {
                meta: None,
                attempts: 1,
                reason,
            };
        }
    };
    let cut_short = headers::delivery_count(properties);
    let attempt = meta.attempts + cut_short + 1;
    if attempt > options.max_attempts {
        return Verdict::Dead {
            attempts: attempt - 1,
            reason: format!(
                "no attempt left (--max-attempts {}): {cut_short} worker(s) stopped or lost the broker while publishing it{}",
                options.max_attempts,
                meta.last_error
                    .as_deref()
                    .map(|e| format!("; last failure: {e}"))
                    .unwrap_or_default()
            ),
            meta: Some(meta),
        };
    }
    let key = meta.key();
    log(&format!("event {key}: attempt {attempt}"));
    let event = StoredEvent {
        id: meta.pipeline_id as i64,
        project_id: meta.project_id as i64,
        pipeline_id: meta.pipeline_id as i64,
        status: meta.status.clone(),
        body,
        attempts: attempt as i64,
        state: "processing".into(),
        last_error: meta.last_error.clone(),
        report: None,
    };
    let outcome = worker::process(settings, publisher, &event).map_err(Failure::masked);
    // Downloaded reports are not needed once the outcome is known.
    let _ = std::fs::remove_dir_all(settings.work_dir.join(format!("event-{}", event.id)));
    match outcome {
        Ok(_) => {
            log(&format!("event {key} published (attempt {attempt})"));
            Verdict::Done
        }
        Err(Failure::Transient(msg)) if attempt < options.max_attempts => {
            let factor = 1u32 << (attempt.clamp(1, 12) - 1);
            let delay = options
                .retry_delay
                .saturating_mul(factor)
                .min(Duration::from_secs(3600));
            log(&format!(
                "event {key} attempt {attempt} failed, retrying in {}s: {msg}",
                delay.as_secs()
            ));
            Verdict::Retry {
                meta: EventMeta {
                    attempts: attempt,
                    last_error: Some(msg),
                    ..meta
                },
                delay,
            }
        }
        Err(Failure::Transient(msg)) => Verdict::Dead {
            reason: format!(
                "no attempt left (--max-attempts {}): {msg}",
                options.max_attempts
            ),
            meta: Some(meta),
            attempts: attempt,
        },
        Err(Failure::Permanent(msg)) => Verdict::Dead {
            reason: msg,
            meta: Some(meta),
            attempts: attempt,
        },
    }
}

/// Records the verdict in the broker (retry or dead-letter queue, confirmed).
fn settle(
    broker: &Broker,
    link: &mut Link,
    verdict: Verdict,
    original: &BasicProperties,
    body: Vec<u8>,
) -> Result<(), String> {
    let (queue, properties, what) = match verdict {
        Verdict::Done => return Ok(()),
        Verdict::Retry { meta, delay } => {
            let properties = meta
                .properties(&[])
                .with_expiration(&delay.as_millis().max(1).to_string())
                .finish();
            (
                RETRY,
                properties,
                format!("event {} back for a retry", meta.key()),
            )
        }
        Verdict::Dead {
            meta,
            attempts,
            reason,
        } => {
            let reason = mask_text(&reason);
            let extra = [
                (REASON, reason.as_str().into()),
                (DEAD_AT, FieldValue::l(unix_now())),
            ];
            let properties = match &meta {
                Some(m) => EventMeta {
                    attempts,
                    ..m.clone()
                }
                .properties(&extra),
                // Not ours: keep what it came with, add the reason.
                None => {
                    let mut headers = original.headers().cloned().unwrap_or_default();
                    for (name, value) in extra {
                        headers::put(&mut headers, name, value);
                    }
                    original.clone().with_headers(headers).finish()
                }
            };
            let key = meta.map(|m| m.key()).unwrap_or_else(|| "a message".into());
            log(&format!(
                "{key} goes to the dead-letter queue {DEAD}: {reason}"
            ));
            (DEAD, properties, format!("{key} to the dead-letter queue"))
        }
    };
    match broker.block_on(link.publish(queue, properties, body)) {
        Ok(Published::Confirmed) => Ok(()),
        Ok(Published::Refused) => Err(format!("the broker refused {what}; it is tried again")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}
