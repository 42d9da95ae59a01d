//! A request rate shared by every worker, kept in the broker itself: each request to
//! the target first publishes a token to `tmbridge.rate.<target>`, a queue that holds
//! at most `limit` messages, each for one second (`x-max-length`, `x-message-ttl`),
//! and refuses more (`x-overflow = reject-publish`, a basic.nack with publisher
//! confirms). A confirmed token is a permit; a refused one means `limit` requests
//! went out in the last second, from whichever workers, so the worker waits and
//! asks again. Nothing to run besides the broker, no clock shared between machines.

use super::headers::put;
use super::{Broker, Link, Published};
use crate::host::Gate;
use amqprs::channel::QueueDeclareArguments;
use amqprs::{BasicProperties, FieldTable, FieldValue};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The window each token stays in the queue.
const WINDOW_MS: i64 = 1000;

pub fn queue_name(target: &str) -> String {
    format!("tmbridge.rate.{target}")
}

fn arguments(limit: u32) -> FieldTable {
    let mut args = FieldTable::new();
    put(&mut args, "x-max-length", FieldValue::l(i64::from(limit)));
    put(&mut args, "x-overflow", "reject-publish".into());
    put(&mut args, "x-message-ttl", FieldValue::l(WINDOW_MS));
    args
}

struct Bucket {
    broker: Broker,
    queue: String,
    limit: u32,
    link: Mutex<Option<Link>>,
}

impl Bucket {
    fn connect(&self) -> Result<Link, String> {
        let link = self.broker.connect("rate limit")?;
        let declare = QueueDeclareArguments::new(&self.queue)
            .arguments(arguments(self.limit))
            .finish();
        self.broker
            .block_on(link.channel().queue_declare(declare))
            .map_err(|e| {
                format!(
                    "queue.rate_mismatch: cannot use the rate queue {} with {} requests per second ({e}); every worker of a target must give the same --rate-limit (or delete the queue to change it)",
                    self.queue, self.limit
                )
            })?;
        Ok(link)
    }

    /// Blocks until a request may go.
    fn wait(&self) {
        let mut link = self.link.lock().unwrap_or_else(PoisonError::into_inner);
        let mut down_since: Option<Instant> = None;
        loop {
            if link.as_ref().is_none_or(|l| !l.is_open()) {
                *link = None;
                match self.connect() {
                    Ok(l) => *link = Some(l),
                    Err(e) => {
                        if down_since.is_none() {
                            crate::serve::log(&format!(
                                "the rate limit cannot be checked, requests wait until the broker is back: {e}"
                            ));
                            down_since = Some(Instant::now());
                        }
                        std::thread::sleep(Duration::from_millis(500));
                        continue;
                    }
                }
            }
            let Some(l) = link.as_mut() else { continue };
            let token = BasicProperties::default().finish();
            match self
                .broker
                .block_on(l.publish(&self.queue, token, Vec::new()))
            {
                Ok(Published::Confirmed) => return,
                // `limit` requests in the last second: one of them leaves within it.
                Ok(Published::Refused) => std::thread::sleep(Duration::from_millis(
                    (WINDOW_MS as u64 / u64::from(self.limit.max(1)) / 2).clamp(2, 100),
                )),
                Err(_) => *link = None,
            }
        }
    }
}

/// A gate that lets at most `limit` requests per second through, across every
/// worker using the same broker and target. Checks the queue's settings at once.
pub fn gate(broker: &Broker, target: &str, limit: u32) -> Result<Gate, String> {
    let bucket = Bucket {
        broker: broker.clone(),
        queue: queue_name(target),
        limit,
        link: Mutex::new(None),
    };
    let first = bucket.connect()?;
    *bucket.link.lock().unwrap_or_else(PoisonError::into_inner) = Some(first);
    let bucket = Arc::new(bucket);
    Ok(Gate(Arc::new(move || bucket.wait())))
}
