//! The RabbitMQ transport of `serve --queue` and `tmbridge worker` (AMQP 0-9-1, with
//! amqprs on tokio). The async runtime lives here and nowhere else: the rest of the
//! CLI stays synchronous and calls [`Broker::block_on`].
//!
//! Queues (declared by whoever connects first, the same way every time):
//! - `tmbridge.events`: quorum queue of pipeline events; receivers publish with
//!   publisher confirms, workers consume with manual acks and a prefetch limit.
//!   RabbitMQ counts redeliveries (`x-delivery-count`): a worker killed or cut off
//!   while publishing counts as an attempt.
//! - `tmbridge.events.retry`: classic queue without consumers; a transient failure
//!   goes here with a per-message TTL and dead-letters back to `tmbridge.events`.
//! - `tmbridge.events.dead`: quorum queue of events that used up their attempts or
//!   can never succeed, each with its reason in `x-tmbridge-reason`.
//! - `tmbridge.rate.<target>`: the shared rate limit (see `rate`).

pub mod address;
pub mod consume;
pub mod dead;
mod headers;
mod link;
pub mod rate;
pub mod sink;
mod topology;

pub use address::BrokerAddress;
pub use link::{Link, Published};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The queue of pipeline events.
pub const EVENTS: &str = "tmbridge.events";
/// Events waiting for their next attempt.
pub const RETRY: &str = "tmbridge.events.retry";
/// Events that will not be tried again, with their reason.
pub const DEAD: &str = "tmbridge.events.dead";

/// How long a connection, a declaration or a publisher confirm may take.
pub const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// A broker's address and the runtime its connections live on. Cheap to clone.
#[derive(Clone)]
pub struct Broker {
    runtime: Arc<tokio::runtime::Runtime>,
    pub address: Arc<BrokerAddress>,
}

impl Broker {
    pub fn new(address: BrokerAddress) -> anyhow::Result<Broker> {
        // Worker threads keep heartbeats and confirms flowing while the caller's thread
        // publishes a pipeline synchronously.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tmbridge-amqp")
            .enable_all()
            .build()?;
        Ok(Broker {
            runtime: Arc::new(runtime),
            address: Arc::new(address),
        })
    }

    /// Runs `future` to its end from synchronous code (never from inside the runtime).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.handle().block_on(future)
    }

    /// A new connection with a confirmed channel, every queue declared.
    pub fn connect(&self, role: &str) -> Result<Link, String> {
        let handle = self.runtime.handle().clone();
        self.block_on(async {
            let link = Link::open(&self.address, role, handle).await?;
            topology::declare(link.channel()).await?;
            Ok(link)
        })
    }
}
