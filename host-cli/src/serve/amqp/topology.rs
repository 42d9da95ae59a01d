//! Declares the queues (idempotent: the same arguments every time).

use super::headers::put;
use super::{DEAD, EVENTS, RETRY};
use amqprs::FieldTable;
use amqprs::channel::{Channel, QueueDeclareArguments};

fn quorum() -> FieldTable {
    let mut args = FieldTable::new();
    put(&mut args, "x-queue-type", "quorum".into());
    args
}

/// Events in the retry queue go back to the events queue when their TTL ends.
fn back_to_events() -> FieldTable {
    let mut args = FieldTable::new();
    put(&mut args, "x-dead-letter-exchange", "".into());
    put(&mut args, "x-dead-letter-routing-key", EVENTS.into());
    args
}

pub async fn declare(channel: &Channel) -> Result<(), String> {
    let queues = [
        (EVENTS, quorum()),
        (RETRY, back_to_events()),
        (DEAD, quorum()),
    ];
    for (name, args) in queues {
        channel
            .queue_declare(
                QueueDeclareArguments::durable_client_named(name)
                    .arguments(args)
                    .finish(),
            )
            .await
            .map_err(|e| format!("cannot declare the queue {name}: {e}"))?;
    }
    Ok(())
}

/// How many messages of a queue are ready for a consumer (unacked ones not counted).
pub async fn depth(channel: &Channel, name: &str, args: FieldTable) -> Result<u32, String> {
    let declared = channel
        .queue_declare(
            QueueDeclareArguments::durable_client_named(name)
                .arguments(args)
                .finish(),
        )
        .await
        .map_err(|e| format!("cannot look at the queue {name}: {e}"))?;
    Ok(declared.map(|(_, count, _)| count).unwrap_or(0))
}

/// The depth of each of the three event queues: (events, retry, dead).
pub async fn depths(channel: &Channel) -> Result<(u32, u32, u32), String> {
    Ok((
        depth(channel, EVENTS, quorum()).await?,
        depth(channel, RETRY, back_to_events()).await?,
        depth(channel, DEAD, quorum()).await?,
    ))
}
