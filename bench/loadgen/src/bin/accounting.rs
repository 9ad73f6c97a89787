//! The bulk-sync benchmark's driver (bench/accounting.sh runs it against a running
//! Backroom and the stand-in ledger): points the accounting settings at the ledger,
//! starts one bulk sync of every order, follows its progress and reports invoices per
//! second from the start to the last invoice.

use std::time::{Duration, Instant};

use backend::accounting::{
    bulk,
    settings::{self, Numbering, RefundHandling, SettingsUpdate},
};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The stand-in ledger's base URL.
    #[arg(long)]
    ledger: String,
    #[arg(long)]
    key: String,
    #[arg(long)]
    company: String,
    /// The owner account that starts the run.
    #[arg(long)]
    owner: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let (db, sealer, owner) = loadgen::open_shop(&args.owner).await?;
    let update = SettingsUpdate {
        enabled: true,
        base_url: args.ledger,
        company_code: args.company,
        api_key: Some(args.key),
        invoice_prefix: "WEB".into(),
        numbering: Numbering::Sequence,
        trigger_statuses: vec!["completed".into()],
        refunds: RefundHandling::CreditNote,
        shipping_as_line: true,
        fees_as_line: true,
        vat_codes: "20=KDV20, 10=KDV10, 1=KDV1, 0=KDV0".into(),
        max_attempts: 8,
        log_retention_days: 30,
        redact_personal_data: false,
    };
    settings::update(&db, &sealer, &owner, None, update).await?;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM orders ORDER BY id").fetch_all(db.pool()).await?;
    let started = Instant::now();
    let run = bulk::start(&db, &owner, None, &ids, "benchmark", false).await?;
    let mut last_report = Instant::now();
    let progress = loop {
        let progress = bulk::progress(&db, run).await?;
        if progress.state != "running" {
            break progress;
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            eprintln!("  {} of {} done, {} failed", progress.done, progress.total, progress.failed);
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} invoices in {seconds:.1} s: {:.0} invoices/s (done {}, failed {}, skipped {})",
        progress.total,
        progress.done as f64 / seconds,
        progress.done,
        progress.failed,
        progress.skipped
    );
    db.close().await;
    Ok(())
}
