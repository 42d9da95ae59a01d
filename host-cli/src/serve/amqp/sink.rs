//! The receiver's side of `serve --queue`: each verified event is published to the
//! events queue and answered 200 only once the broker confirmed it. A broker that is
//! down or refuses gives 503: GitLab records the delivery as failed (it does not redeliver by
//! itself; it can be resent from the webhook's Recent events), never a 200 for a lost event.

use super::headers::EventMeta;
use super::{Broker, EVENTS, Link, Published};
use crate::serve::sink::{Accepted, EventSink, NewEvent};
use amqprs::FieldValue;

/// One per request handler: its own connection, opened again after a failure.
pub struct BrokerSink {
    broker: Broker,
    link: Option<Link>,
}

impl BrokerSink {
    /// Connects at once; a broker that cannot be reached yet is logged and tried
    /// again with each event (answered 503 meanwhile), so receivers can start first.
    pub fn open(broker: &Broker) -> BrokerSink {
        let link = match broker.connect("serve") {
            Ok(link) => Some(link),
            Err(e) => {
                crate::serve::log(&format!(
                    "the broker cannot be reached yet, webhooks get 503 until it can: {e}"
                ));
                None
            }
        };
        BrokerSink {
            broker: broker.clone(),
            link,
        }
    }

    fn publish(&mut self, meta: &EventMeta, body: &[u8], now: i64) -> Result<Published, String> {
        if self.link.as_ref().is_none_or(|l| !l.is_open()) {
            self.link = None;
            self.link = Some(self.broker.connect("serve")?);
        }
        let properties = meta.properties(&[("x-tmbridge-received-at", FieldValue::l(now))]);
        let broker = self.broker.clone();
        let Some(link) = self.link.as_mut() else {
            return Err("no broker connection".into());
        };
        let result = broker.block_on(link.publish(EVENTS, properties, body.to_vec()));
        if result.is_err() {
            // The outcome is unknown and the link may be half broken: start afresh.
            self.link = None;
        }
        result
    }
}

impl EventSink for BrokerSink {
    fn accept(&mut self, event: &NewEvent<'_>, now: i64) -> Result<Accepted, String> {
        let meta = EventMeta {
            project_id: event.project_id,
            pipeline_id: event.pipeline_id,
            status: event.status.to_string(),
            attempts: 0,
            last_error: None,
        };
        // One more try on a fresh connection: the broker may have closed the old one
        // while it was idle (a restart, a failover).
        let mut outcome = self.publish(&meta, event.body, now);
        if outcome.is_err() {
            outcome = self.publish(&meta, event.body, now);
        }
        match outcome {
            Ok(Published::Confirmed) => Ok(Accepted::New(meta.key().into())),
            Ok(Published::Refused) => Err(format!(
                "serve.queue_refused: the broker at {} refused the event (basic.nack); resend it from the webhook's Recent events in GitLab",
                self.broker.address
            )),
            Err(e) => Err(format!(
                "serve.queue_unavailable: the event could not be handed to the broker ({e}); resend it from the webhook's Recent events in GitLab"
            )),
        }
    }
}
