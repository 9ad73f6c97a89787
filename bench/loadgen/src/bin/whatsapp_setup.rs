//! Sets up the WhatsApp account for bench/whatsapp_webhook.sh: the app secret the
//! benchmark signs its deliveries with (sealed as the panel would), and a message for
//! each status to move.

use backend::whatsapp::settings::{self, Credentials};
use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    app_secret: String,
    #[arg(long)]
    owner: String,
    /// Messages `wamid.bench.1` … `wamid.bench.N`, sent, for the statuses to move.
    #[arg(long, default_value_t = 1000)]
    messages: i64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let (db, sealer, owner) = loadgen::open_shop(&args.owner).await?;
    let credentials = Credentials {
        phone_number_id: "106540352242922".into(),
        waba_id: "102290129340398".into(),
        access_token: Some("bench-token".into()),
        app_secret: Some(args.app_secret),
        graph_version: "v23.0".into(),
        graph_base_url: "https://graph.facebook.com".into(),
    };
    settings::update(&db, &sealer, &owner, None, credentials).await?;
    for n in 1..=args.messages {
        sqlx::query("INSERT INTO whatsapp_messages (wamid, to_phone, purpose, state, created_at, updated_at) VALUES ($1, '+905321234567', 'bench', 'sent', 1, 1)")
            .bind(format!("wamid.bench.{n}"))
            .execute(db.writer())
            .await?;
    }
    db.close().await;
    Ok(())
}
