//! Verified webhook deliveries on their way into the database (WhatsApp's, WooCommerce's),
//! for workers to apply. Requests that arrive together share one insert and one commit (a
//! group commit): while one batch is written the next gathers, so a burst costs a commit
//! per batch rather than per delivery, and a lone delivery is written at once. Each request
//! is answered only after its batch is committed, so nothing acknowledged is lost.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use crate::{
    Error, Result,
    db::{self, Db},
};

#[derive(Clone)]
pub struct Intake {
    db: Db,
    /// Where the rows go, and their columns (each row gives a value per column).
    table: &'static str,
    columns: &'static [&'static str],
    /// The writer's queue, started with the first delivery.
    queue: Arc<OnceLock<mpsc::Sender<Arrived>>>,
}

struct Arrived {
    row: Vec<db::Value>,
    bytes: usize,
    stored: oneshot::Sender<Stored>,
}

/// What became of a batch: `Err(busy, why)`.
type Stored = std::result::Result<(), (bool, String)>;

/// At most this many deliveries, and about this many bytes, go in one insert.
const BATCH_ROWS: usize = 256;
const BATCH_BYTES: usize = 1 << 20;

impl Intake {
    pub fn new(db: Db, table: &'static str, columns: &'static [&'static str]) -> Intake {
        Intake { db, table, columns, queue: Arc::default() }
    }

    /// Stores one delivery (a value per column); returns once it is committed.
    pub async fn receive(&self, row: Vec<db::Value>) -> Result<()> {
        debug_assert_eq!(row.len(), self.columns.len());
        let queue = self.queue.get_or_init(|| {
            let (queue, arrivals) = mpsc::channel(4 * BATCH_ROWS);
            tokio::spawn(write_batches(self.clone(), arrivals));
            queue
        });
        let (stored, written) = oneshot::channel();
        let gone = || Error::internal("the webhook intake stopped");
        let bytes = row.iter().map(|v| if let db::Value::Text(t) = v { t.len() } else { 8 }).sum();
        queue.send(Arrived { row, bytes, stored }).await.map_err(|_| gone())?;
        match written.await.map_err(|_| gone())? {
            Ok(()) => Ok(()),
            Err((true, _)) => Err(Error::Busy),
            Err((false, why)) => Err(Error::internal(why)),
        }
    }
}

/// Writes what arrived, a batch at a time, until every sender is gone.
async fn write_batches(intake: Intake, mut arrivals: mpsc::Receiver<Arrived>) {
    while let Some(first) = arrivals.recv().await {
        let mut bytes = first.bytes;
        let mut batch = vec![first];
        while batch.len() < BATCH_ROWS && bytes < BATCH_BYTES {
            let Ok(next) = arrivals.try_recv() else { break };
            bytes += next.bytes;
            batch.push(next);
        }
        let stored: Stored = insert(&intake, &batch).await.map_err(|e| (matches!(e, Error::Busy), e.report()));
        if let Err((_, why)) = &stored {
            tracing::error!(error = %why, table = intake.table, deliveries = batch.len(), "webhook deliveries could not be stored");
        }
        for arrived in batch {
            let _ = arrived.stored.send(stored.clone());
        }
    }
}

async fn insert(intake: &Intake, batch: &[Arrived]) -> Result<()> {
    let values: Vec<db::Value> = batch.iter().flat_map(|a| a.row.iter().cloned()).collect();
    let mut conn = intake.db.writer().acquire().await?;
    db::insert_rows(&mut conn, intake.db.backend(), intake.table, intake.columns, &values).await
}
