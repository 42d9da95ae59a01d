//! One connection to the broker with one channel in confirm mode: a publish returns
//! only once the broker took the message (or refused it).

use super::BROKER_TIMEOUT;
use super::address::BrokerAddress;
use amqprs::callbacks::{ChannelCallback, DefaultConnectionCallback};
use amqprs::channel::{BasicPublishArguments, Channel, ConfirmSelectArguments};
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::{Ack, BasicProperties, Cancel, CloseChannel, Nack, Return};
use tokio::sync::mpsc;

/// The broker's answer to a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Stored (on disk, for a durable queue and a persistent message).
    Confirmed,
    /// Refused (basic.nack): a full queue with `reject-publish`, an internal error.
    Refused,
}

struct Confirm {
    tag: u64,
    multiple: bool,
    ok: bool,
}

/// Forwards publisher confirms to the waiting publish.
struct Confirms(mpsc::UnboundedSender<Confirm>);

#[async_trait::async_trait]
impl ChannelCallback for Confirms {
    async fn close(
        &mut self,
        _: &Channel,
        _: CloseChannel,
    ) -> std::result::Result<(), amqprs::error::Error> {
        Ok(())
    }
    async fn cancel(
        &mut self,
        _: &Channel,
        _: Cancel,
    ) -> std::result::Result<(), amqprs::error::Error> {
        Ok(())
    }
    async fn flow(
        &mut self,
        _: &Channel,
        _: bool,
    ) -> std::result::Result<bool, amqprs::error::Error> {
        Ok(true)
    }
    async fn publish_ack(&mut self, _: &Channel, ack: Ack) {
        let _ = self.0.send(Confirm {
            tag: ack.delivery_tag(),
            multiple: ack.mutiple(),
            ok: true,
        });
    }
    async fn publish_nack(&mut self, _: &Channel, nack: Nack) {
        let _ = self.0.send(Confirm {
            tag: nack.delivery_tag(),
            multiple: nack.multiple(),
            ok: false,
        });
    }
    async fn publish_return(&mut self, _: &Channel, _: Return, _: BasicProperties, _: Vec<u8>) {}
}

struct Open {
    channel: Channel,
    connection: Connection,
}

pub struct Link {
    open: Option<Open>,
    confirms: mpsc::UnboundedReceiver<Confirm>,
    /// The delivery tag of the last publish on the channel.
    last_tag: u64,
    /// amqprs closes connections from a spawned task when they are dropped: that
    /// needs the runtime's context, which `Drop` enters.
    handle: tokio::runtime::Handle,
}

impl Drop for Link {
    fn drop(&mut self) {
        let _context = self.handle.enter();
        self.open.take();
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

impl Link {
    pub async fn open(
        address: &BrokerAddress,
        role: &str,
        handle: tokio::runtime::Handle,
    ) -> Result<Link, String> {
        let args = OpenConnectionArguments::new(
            &address.host,
            address.port,
            &address.user,
            &address.password,
        )
        .virtual_host(&address.vhost)
        .connection_name(&format!("tmbridge {role} (pid {})", std::process::id()))
        .heartbeat(15)
        .finish();
        let connection = tokio::time::timeout(BROKER_TIMEOUT, Connection::open(&args))
            .await
            .map_err(|_| {
                format!(
                    "no answer from the broker at {address} within {}s",
                    BROKER_TIMEOUT.as_secs()
                )
            })?
            .map_err(|e| failed(&format!("cannot connect to the broker at {address}"), e))?;
        connection
            .register_callback(DefaultConnectionCallback)
            .await
            .map_err(|e| failed("connection", e))?;
        let channel = connection
            .open_channel(None)
            .await
            .map_err(|e| failed("cannot open a channel", e))?;
        let (tx, confirms) = mpsc::unbounded_channel();
        channel
            .register_callback(Confirms(tx))
            .await
            .map_err(|e| failed("channel", e))?;
        channel
            .confirm_select(ConfirmSelectArguments::default())
            .await
            .map_err(|e| failed("cannot turn publisher confirms on", e))?;
        Ok(Link {
            open: Some(Open {
                channel,
                connection,
            }),
            confirms,
            last_tag: 0,
            handle,
        })
    }

    pub fn channel(&self) -> &Channel {
        // `open` is only emptied by `drop`.
        &self.open.as_ref().expect("an open link").channel
    }

    pub fn is_open(&self) -> bool {
        self.open
            .as_ref()
            .is_some_and(|o| o.connection.is_open() && o.channel.is_open())
    }

    /// Publishes to `queue` (through the default exchange) and waits for the broker's
    /// confirm. An error means the outcome is unknown: the link is no longer usable.
    pub async fn publish(
        &mut self,
        queue: &str,
        properties: BasicProperties,
        body: Vec<u8>,
    ) -> Result<Published, String> {
        self.last_tag += 1;
        let tag = self.last_tag;
        let args = BasicPublishArguments::new("", queue);
        tokio::time::timeout(
            BROKER_TIMEOUT,
            self.channel().basic_publish(properties, body, args),
        )
        .await
        .map_err(|_| "the broker did not take the message in time".to_string())?
        .map_err(|e| failed("publishing failed", e))?;
        let deadline = tokio::time::Instant::now() + BROKER_TIMEOUT;
        loop {
            match tokio::time::timeout_at(deadline, self.confirms.recv()).await {
                Err(_) => {
                    return Err(format!(
                        "the broker did not confirm the message within {}s",
                        BROKER_TIMEOUT.as_secs()
                    ));
                }
                Ok(None) => return Err("the broker connection closed before the confirm".into()),
                Ok(Some(c)) if c.tag == tag || (c.multiple && c.tag > tag) => {
                    return Ok(if c.ok {
                        Published::Confirmed
                    } else {
                        Published::Refused
                    });
                }
                // A confirm of an earlier message (one whose wait timed out).
                Ok(Some(_)) => {}
            }
        }
    }

    /// Closes politely; a link that is already broken is just dropped.
    pub async fn close(mut self) {
        if let Some(open) = self.open.take() {
            let _ = tokio::time::timeout(BROKER_TIMEOUT, async {
                let _ = open.channel.close().await;
                let _ = open.connection.close().await;
            })
            .await;
        }
    }
}
