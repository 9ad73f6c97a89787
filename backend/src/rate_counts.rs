//! What the instances on one database let through to each API client, by 5-second bucket
//! of the clock (`rate_counts`): the shared half of the server's rate limits. A client is
//! named by the server (`connection_key:3`, `ip:203.0.113.9`); each instance adds its
//! counts and reads back everyone's a few times a second.

use sqlx::{AssertSqlSafe, Row};

use crate::{
    Result,
    db::{self, Db, Value},
};

/// Clients read by one statement.
const ROWS_AT_ONCE: usize = 300;

/// Adds requests let through: (client, bucket, requests).
pub async fn add(db: &Db, counts: &[(String, u64, u32)]) -> Result<()> {
    if counts.is_empty() {
        return Ok(());
    }
    let values: Vec<Value> = counts
        .iter()
        .flat_map(|(client, bucket, requests)| {
            [Value::from(client.as_str()), Value::from(*bucket as i64), Value::from(i64::from(*requests))]
        })
        .collect();
    let mut conn = db.writer().acquire().await?;
    let columns = ["client", "bucket", "requests"];
    db::insert_or_add(&mut conn, db.backend(), "rate_counts", &columns, &values, ("client, bucket", "requests")).await
}

/// What every instance let through to `clients` in the buckets from `oldest` on: (client,
/// bucket, requests).
pub async fn read(db: &Db, oldest: u64, clients: &[String]) -> Result<Vec<(String, u64, u32)>> {
    let mut counts = Vec::new();
    for chunk in clients.chunks(ROWS_AT_ONCE) {
        let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT client, bucket, requests FROM rate_counts WHERE bucket >= $1 AND client IN ({})",
            list.join(", ")
        );
        let mut select = sqlx::query(AssertSqlSafe(sql)).bind(oldest as i64);
        for client in chunk {
            select = select.bind(client.clone());
        }
        for row in select.fetch_all(db.pool()).await? {
            let (bucket, requests): (i64, i64) = (row.try_get("bucket")?, row.try_get("requests")?);
            counts.push((row.try_get("client")?, bucket as u64, u32::try_from(requests).unwrap_or(u32::MAX)));
        }
    }
    Ok(counts)
}

/// Forgets the buckets before `bucket`.
pub async fn remove_before(db: &Db, bucket: u64) -> Result<()> {
    sqlx::query("DELETE FROM rate_counts WHERE bucket < $1").bind(bucket as i64).execute(db.writer()).await?;
    Ok(())
}
