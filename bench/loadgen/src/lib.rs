//! What the benchmark drivers share: the run's shop, opened as `backroom` opens it
//! (configuration from the environment, the same master key), and its owner.

use backend::{config::Config, db::Db, master_key::MasterKey, sealed::Sealer, users};

/// The run's database, the key that seals its secrets, and the owner named `owner`.
pub async fn open_shop(owner: &str) -> Result<(Db, Sealer, users::User), Box<dyn std::error::Error>> {
    let config = Config::load()?;
    let db = Db::connect(secrecy::ExposeSecret::expose_secret(&config.database_url)).await?;
    let sealer = MasterKey::load_or_create(&config)?.0.sealer();
    let owner = users::find_by_email(&db, &users::Email::parse(owner)?).await?.ok_or("no such owner")?;
    Ok((db, sealer, owner))
}
