//! The figures `/metrics` reads from the database at each scrape — the job queue by kind,
//! the mail outbox, the store's webhook deliveries and reconcile, the database pools — and
//! the Prometheus text format every figure is written in (the server adds the requests it
//! counted itself).

use std::fmt::Write;

use sqlx::Row;

use crate::{Result, clock::now, db::Db};

/// One metric: its samples, each with its labels.
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    /// `gauge`, `counter` or `histogram`.
    pub kind: &'static str,
    pub samples: Vec<Sample>,
}

pub struct Sample {
    /// Added to the family's name: `_bucket`, `_sum`, `_count` for a histogram; else empty.
    pub suffix: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Sample {
    pub fn new(labels: Vec<(&'static str, String)>, value: f64) -> Sample {
        Sample { suffix: "", labels, value }
    }
}

impl Family {
    pub fn gauge(name: &'static str, help: &'static str, samples: Vec<Sample>) -> Family {
        Family { name, help, kind: "gauge", samples }
    }

    /// Writes the family in Prometheus' text format (version 0.0.4).
    pub fn write(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        for sample in &self.samples {
            out.push_str(self.name);
            out.push_str(sample.suffix);
            if !sample.labels.is_empty() {
                out.push('{');
                for (i, (name, value)) in sample.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
                    let _ = write!(out, "{name}=\"{escaped}\"");
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", sample.value);
        }
    }
}

/// What the database says at this moment.
pub async fn from_database(db: &Db) -> Result<Vec<Family>> {
    let now = now();
    let mut queued = Vec::new();
    let mut oldest = Vec::new();
    let mut running = Vec::new();
    let rows = sqlx::query(
        "SELECT kind, state, COUNT(*) AS jobs, MIN(CASE WHEN run_at <= $1 THEN run_at END) AS oldest_due FROM jobs \
         WHERE state IN ('queued', 'running') GROUP BY kind, state ORDER BY kind, state",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let jobs = row.try_get::<i64, _>("jobs")? as f64;
        if row.try_get::<String, _>("state")? == "running" {
            running.push(Sample::new(vec![("kind", kind)], jobs));
            continue;
        }
        let waited = row.try_get::<Option<i64>, _>("oldest_due")?.map_or(0, |at| now - at);
        oldest.push(Sample::new(vec![("kind", kind.clone())], waited as f64));
        queued.push(Sample::new(vec![("kind", kind)], jobs));
    }
    let outbox =
        sqlx::query("SELECT COUNT(*) AS mails, MIN(created_at) AS oldest FROM mail_outbox WHERE state = 'queued'")
            .fetch_one(db.pool())
            .await?;
    let deliveries = sqlx::query(
        "SELECT COUNT(*) AS waiting, MIN(received_at) AS oldest FROM woo_deliveries WHERE applied_at IS NULL",
    )
    .fetch_one(db.pool())
    .await?;
    let store = sqlx::query(
        "SELECT state, last_delivery_at, last_reconcile_at, last_reconcile_lag FROM woo_connection WHERE id = 1",
    )
    .fetch_optional(db.pool())
    .await?;
    let age = |at: Option<i64>| at.map_or(0.0, |at| (now - at).max(0) as f64);
    let one = |value: f64| vec![Sample::new(Vec::new(), value)];
    let mut families = vec![
        Family::gauge("backroom_jobs_queued", "Jobs waiting to run, by kind (due or scheduled).", queued),
        Family::gauge(
            "backroom_jobs_oldest_due_seconds",
            "How long the oldest due job of each kind has waited.",
            oldest,
        ),
        Family::gauge("backroom_jobs_running", "Jobs a worker holds, by kind.", running),
        Family::gauge(
            "backroom_mail_outbox_queued",
            "Emails waiting to be sent.",
            one(outbox.try_get::<i64, _>("mails")? as f64),
        ),
        Family::gauge(
            "backroom_mail_outbox_oldest_seconds",
            "How long the oldest unsent email has waited.",
            one(age(outbox.try_get("oldest")?)),
        ),
        Family::gauge(
            "backroom_woo_deliveries_waiting",
            "Store webhook deliveries received and not yet applied.",
            one(deliveries.try_get::<i64, _>("waiting")? as f64),
        ),
        Family::gauge(
            "backroom_woo_delivery_lag_seconds",
            "How long the oldest unapplied store delivery has waited.",
            one(age(deliveries.try_get("oldest")?)),
        ),
    ];
    if let Some(store) = store.filter(|s| s.try_get::<String, _>("state").is_ok_and(|state| state != "disconnected")) {
        families.push(Family::gauge(
            "backroom_woo_last_delivery_seconds",
            "Time since the store last delivered a webhook.",
            one(age(store.try_get("last_delivery_at")?)),
        ));
        families.push(Family::gauge(
            "backroom_woo_last_reconcile_seconds",
            "Time since the last reconcile pass with the store.",
            one(age(store.try_get("last_reconcile_at")?)),
        ));
        families.push(Family::gauge(
            "backroom_woo_reconcile_lag_seconds",
            "How far behind the store the last reconcile found Backroom.",
            one(store.try_get::<Option<i64>, _>("last_reconcile_lag")?.unwrap_or(0) as f64),
        ));
    }
    let pools = [("read", db.pool()), ("write", db.writer())];
    families.push(Family::gauge(
        "backroom_db_connections",
        "Database connections open, by pool (on PostgreSQL both names are one pool).",
        pools.iter().map(|(name, pool)| Sample::new(vec![("pool", (*name).into())], f64::from(pool.size()))).collect(),
    ));
    families.push(Family::gauge(
        "backroom_db_connections_in_use",
        "Database connections in use, by pool.",
        pools
            .iter()
            .map(|(name, pool)| {
                let busy = pool.size().saturating_sub(pool.num_idle() as u32);
                Sample::new(vec![("pool", (*name).into())], f64::from(busy))
            })
            .collect(),
    ));
    Ok(families)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_written_in_the_text_format() {
        let mut out = String::new();
        Family::gauge(
            "backroom_jobs_queued",
            "Jobs waiting.",
            vec![
                Sample::new(vec![("kind", "mail.send".into())], 3.0),
                Sample::new(vec![("kind", "a\"b\\c".into())], 0.5),
            ],
        )
        .write(&mut out);
        assert_eq!(
            out,
            "# HELP backroom_jobs_queued Jobs waiting.\n# TYPE backroom_jobs_queued gauge\n\
             backroom_jobs_queued{kind=\"mail.send\"} 3\nbackroom_jobs_queued{kind=\"a\\\"b\\\\c\"} 0.5\n"
        );
    }
}
