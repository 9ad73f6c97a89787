//! The command line: `serve`, `migrate`, `user add`, `key create`, `woo …`, `backup`, `restore`,
//! `rotate-master-key`, `demo`.

use std::{io::BufRead, process::ExitCode};

use backend::{
    access::{
        Scope,
        credentials::{self, CredentialType, NewCredential},
    },
    config::Config,
    db::Db,
    demo::{self, DemoOptions},
    services::Services,
    users::{self, Email, NewUser},
};
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use crate::progress::Progress;

#[derive(Parser)]
#[command(name = "backroom", version, about = "The back office of a WooCommerce shop")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, then serve the panel and the API (default 127.0.0.1:3000).
    Serve {
        /// Go on with this master key although the database's secrets were made with
        /// another (lost with its key file): they stop working and must be entered again.
        #[arg(long)]
        new_master_key: bool,
    },
    /// Apply migrations and exit.
    Migrate,
    /// Manage the people who use the panel.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage connection keys for the mobile app and integrations.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Connect a WooCommerce store and keep Backroom in step with it.
    Woo {
        #[command(subcommand)]
        command: WooCommand,
    },
    /// Copy a SQLite shop to a new file while it serves (PostgreSQL: use pg_dump).
    Backup {
        /// The new file to write.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Put a backup back as the shop's SQLite database.
    Restore {
        /// The backup to put back.
        #[arg(long)]
        from: std::path::PathBuf,
        /// Replace a database that holds a shop (stop every backroom process first).
        #[arg(long)]
        force: bool,
    },
    /// Replace the master key, sealing every stored secret again (stop Backroom first).
    RotateMasterKey,
    /// Fill an empty shop with realistic demo data.
    Demo {
        /// How many orders to create.
        #[arg(long, default_value_t = 2_000, allow_negative_numbers = true)]
        orders: i64,
        /// The same seed gives the same shop.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        /// owner, admin, manager or agent
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from standard input (the only way, so it stays out of shell history).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// For a user locked out with no mail set up: print a single-use link (30 minutes) that
    /// sets a new password, or, with --password-stdin, set the one read from standard
    /// input. Either way every session of theirs is signed out.
    ResetPassword {
        #[arg(long)]
        email: String,
        /// Read the new password from standard input (so it stays out of shell history)
        /// instead of printing a link.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Turn two-factor sign-in off for a user who lost their phone and their recovery
    /// codes; they sign in with the password alone and can set it up again.
    TwoFactorOff {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum WooCommand {
    /// Check a store and its REST API key, and connect to it (the panel's wizard).
    Connect {
        /// The store's address, such as https://shop.example
        #[arg(long)]
        url: String,
        /// The REST API key's consumer key (ck_…).
        #[arg(long)]
        consumer_key: String,
        /// Read the consumer secret (cs_…) from standard input (the only way, so it stays
        /// out of shell history).
        #[arg(long, required = true)]
        consumer_secret_stdin: bool,
        /// Accept what the wizard asks to confirm: take the store's currency and time
        /// zone, clear demo data.
        #[arg(long)]
        yes: bool,
    },
    /// Start (or resume) importing the store.
    Import {
        /// Run the import here, show its progress, and return when it is done.
        #[arg(long)]
        wait: bool,
    },
    /// One reconcile pass now.
    Reconcile,
    /// The connection as JSON: state, counts, last delivery, last reconcile, webhooks.
    Status,
    /// Disconnect, removing the webhooks Backroom made in the store.
    Disconnect,
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create a connection key and print it once (on standard output).
    Create {
        #[arg(long)]
        label: String,
        /// read or write
        #[arg(long, default_value = "read")]
        scope: String,
        /// Days until it expires; without it, it never does.
        #[arg(long, allow_negative_numbers = true)]
        expires_days: Option<i64>,
        /// The owner or admin the key acts as; the first owner when not given.
        #[arg(long)]
        user: Option<String>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(config) => config,
        Err(e) => return fail(&e.to_string()),
    };
    crate::telemetry::init(&config.log);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

async fn run(command: Command, config: Config) -> Result<(), String> {
    match command {
        Command::Serve { new_master_key } => {
            let config = Config { new_master_key, ..config };
            let app = crate::Application::build(config).await.map_err(|e| e.to_string())?;
            app.run_until_stopped(crate::shutdown_signal()).await.map_err(|e| e.to_string())
        }
        Command::Migrate => {
            let db = Db::open(&config).await.map_err(|e| e.report())?;
            db.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::User { command: UserCommand::Add { email, role, name, password_stdin: _ } } => {
            let email = Email::parse(&email).map_err(|e| e.to_string())?;
            let role = role.parse().map_err(|e: vocabulary::Invalid| e.to_string())?;
            let password = read_password()?;
            let db = Db::open(&config).await.map_err(|e| e.report())?;
            let name =
                if name.trim().is_empty() { email.as_str().split('@').next().unwrap_or("").to_owned() } else { name };
            let user = users::create(&db, NewUser { email, name, role, password }).await.map_err(|e| e.to_string())?;
            println!("added {} ({})", user.email, user.role);
            Ok(())
        }
        Command::User { command: UserCommand::ResetPassword { email, password_stdin: false } } => {
            let email = Email::parse(&email).map_err(|e| e.to_string())?;
            let services = Services::build(&config, config.addr).await.map_err(|e| e.report())?;
            let link = match backend::account::password_reset_link(&services.db, &services.base_url, &email).await {
                Err(backend::Error::NotFound) => return Err(format!("no user has the email {email}")),
                other => other.map_err(|e| e.to_string())?,
            };
            services.db.close().await;
            eprintln!("open this link to set a new password for {email}; it works once, for 30 minutes:");
            println!("{link}");
            Ok(())
        }
        Command::User { command: UserCommand::ResetPassword { email, password_stdin: true } } => {
            let email = Email::parse(&email).map_err(|e| e.to_string())?;
            let password = read_password()?;
            let db = Db::open(&config).await.map_err(|e| e.report())?;
            let user = match backend::account::reset_password(&db, &email, password).await {
                Err(backend::Error::NotFound) => return Err(format!("no user has the email {email}")),
                other => other.map_err(|e| e.to_string())?,
            };
            println!("the password of {} is set; every session of theirs is signed out", user.email);
            Ok(())
        }
        Command::User { command: UserCommand::TwoFactorOff { email } } => {
            let email = Email::parse(&email).map_err(|e| e.to_string())?;
            let db = Db::open(&config).await.map_err(|e| e.report())?;
            let user = match backend::two_factor::turn_off_by_operator(&db, &email).await {
                Err(backend::Error::NotFound) => return Err(format!("no user has the email {email}")),
                other => other.map_err(|e| e.to_string())?,
            };
            db.close().await;
            println!("two-factor sign-in is off for {}; they sign in with their password", user.email);
            Ok(())
        }
        Command::Key { command: KeyCommand::Create { label, scope, expires_days, user } } => {
            let scope: Scope = scope.parse().map_err(|e: vocabulary::Invalid| e.to_string())?;
            let services = Services::build(&config, config.addr).await.map_err(|e| e.report())?;
            let db = &services.db;
            let actor = match user {
                Some(email) => {
                    let email = Email::parse(&email).map_err(|e| e.to_string())?;
                    users::find_by_email(db, &email).await.map_err(|e| e.report())?
                }
                None => users::first_owner(db).await.map_err(|e| e.report())?,
            };
            let actor = actor.ok_or("no such user; create the owner first (backroom user add --role owner)")?;
            let new = NewCredential { kind: CredentialType::ConnectionKey, label, scope, lifetime_days: expires_days };
            let issued =
                credentials::create(db, &services.hasher, &actor, None, new).await.map_err(|e| e.to_string())?;
            db.close().await;
            eprintln!(
                "connection key \"{}\" ({}, {}) acting as {} for {}; it is shown once: store it now",
                issued.info.label,
                issued.info.scope,
                issued.info.expires_at.map_or("never expires".to_owned(), |at| format!(
                    "expires {} UTC",
                    backend::clock::format_local(at, chrono_tz::UTC, "%Y-%m-%d %H:%M")
                )),
                actor.email,
                services.base_url,
            );
            println!("{}", issued.secret);
            Ok(())
        }
        Command::Woo { command } => woo(command, config).await,
        Command::Backup { to } => {
            let db = Db::connect(config.database_url.expose_secret()).await.map_err(|e| e.report())?;
            let made = backend::backup::backup(&db, &to).await;
            db.close().await;
            let bytes = made.map_err(|e| e.to_string())?;
            println!("backed up to {} ({:.1} MB)", to.display(), bytes as f64 / 1e6);
            eprintln!(
                "the master key is not in a backup: keep it apart from the backup, and safe ({})",
                backend::master_key::source(&config)
            );
            Ok(())
        }
        Command::RotateMasterKey => {
            let db = Db::open(&config).await.map_err(|e| e.report())?;
            let rotated = backend::master_key::rotate(&db, &config).await;
            db.close().await;
            let rotated = rotated.map_err(|e| e.to_string())?;
            eprintln!("master key replaced; {} stored secrets sealed again", rotated.resealed);
            if let Some(kept) = rotated.previous_kept {
                eprintln!("the previous key is kept in {}: backups made before now need it", kept.display());
            }
            if let Some(key) = rotated.new_key_for_environment {
                eprintln!("set BACKROOM_MASTER_KEY to this new key before Backroom starts again:");
                println!("{key}");
            }
            Ok(())
        }
        Command::Restore { from, force } => {
            let restored = backend::backup::restore(&from, config.database_url.expose_secret(), force)
                .await
                .map_err(|e| e.to_string())?;
            println!("restored {} from {}", restored.display(), from.display());
            eprintln!(
                "Backroom starts with it only beside the shop's own master key ({})",
                backend::master_key::source(&config)
            );
            Ok(())
        }
        Command::Demo { orders, seed } => {
            if !(0..=demo::MAX_ORDERS).contains(&orders) {
                return Err(format!("--orders must be between 0 and {}", demo::MAX_ORDERS));
            }
            let db = Db::open(&config).await.map_err(|e| e.report())?;
            let progress = std::cell::RefCell::new(Progress::new("orders", orders as u64));
            let loaded = demo::load(&db, DemoOptions { orders, seed }, |done| progress.borrow_mut().update(done)).await;
            progress.borrow_mut().finish();
            let summary = loaded.map_err(|e| e.to_string())?;
            db.close().await;
            println!(
                "demo shop ready: {} products ({} variations), {} customers, {} orders in {:.1} s",
                summary.products,
                summary.variations,
                summary.customers,
                summary.orders,
                summary.elapsed.as_secs_f64()
            );
            Ok(())
        }
    }
}

async fn woo(command: WooCommand, config: Config) -> Result<(), String> {
    use backend::woo::{connection, import, reconcile};
    let services = Services::build(&config, config.addr).await.map_err(|e| e.report())?;
    let woo = &services.woo;
    let owner = || async {
        users::first_owner(&services.db)
            .await
            .map_err(|e| e.report())?
            .ok_or_else(|| "create the owner first (backroom user add --role owner)".to_owned())
    };
    match command {
        WooCommand::Connect { url, consumer_key, consumer_secret_stdin: _, yes } => {
            let secret = read_password()?;
            let request = connection::ConnectRequest {
                url,
                consumer_key,
                consumer_secret: secret,
                adopt_store_settings: yes,
                clear_demo_data: yes,
            };
            let outcome = connection::connect(woo, &owner().await?, None, request).await.map_err(|e| e.report())?;
            let print = |report: &connection::Report| {
                for check in &report.checks {
                    eprintln!("  {} {}: {}", if check.passed { "ok" } else { "failed" }, check.name, check.detail);
                }
            };
            match outcome {
                connection::Connected::Done { report, webhooks } => {
                    print(&report);
                    println!(
                        "connected to {} ({webhooks} webhooks); next: backroom woo import --wait",
                        report.facts.map(|f| f.home_url).unwrap_or_default()
                    );
                    Ok(())
                }
                connection::Connected::NeedsConfirmation { report, questions } => {
                    print(&report);
                    let asked: Vec<&str> = questions.iter().map(|q| q.text.as_str()).collect();
                    Err(format!("{} Run again with --yes to accept.", asked.join(" ")))
                }
                connection::Connected::Failed { report } => {
                    print(&report);
                    Err(report.first_failure().unwrap_or_else(|| "the store could not be checked".into()))
                }
            }
        }
        WooCommand::Import { wait } => {
            let started = import::start(woo).await.map_err(|e| e.report())?;
            if !wait {
                println!("{}", json(&started));
                return Ok(());
            }
            let runner = format!("command-line-{}", std::process::id());
            let mut shown = Progress::new("things", started.total().unwrap_or(0).max(1) as u64);
            loop {
                let stretch =
                    import::run(woo, &runner, std::time::Duration::from_secs(2)).await.map_err(|e| e.report())?;
                let now = import::progress(woo).await.map_err(|e| e.report())?;
                shown.retotal(now.total().unwrap_or(0).max(now.done()).max(1) as u64);
                shown.update(now.done() as u64);
                match stretch {
                    import::Stretch::Finished => {
                        shown.finish();
                        return match now.state.as_str() {
                            "done" => {
                                let (orders, _) = now.orders();
                                println!("imported: {} things ({orders} orders)", now.done());
                                Ok(())
                            }
                            _ => Err(format!("the import stopped: {}", now.error.unwrap_or_default())),
                        };
                    }
                    import::Stretch::More => {}
                    import::Stretch::WaitUntil(at) => {
                        let wait = (at - backend::clock::now()).clamp(1, 600) as u64;
                        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                    }
                    import::Stretch::Busy => tokio::time::sleep(std::time::Duration::from_secs(2)).await,
                }
            }
        }
        WooCommand::Reconcile => match reconcile::run(woo).await {
            Ok(Some(report)) => {
                println!("{}", json(&report));
                Ok(())
            }
            Ok(None) => Err("no store is connected (backroom woo connect)".into()),
            Err(failure) => Err(format!("the reconcile failed: {}", failure.reason())),
        },
        WooCommand::Status => {
            println!("{}", json(&backend::woo::status(woo).await.map_err(|e| e.report())?));
            Ok(())
        }
        WooCommand::Disconnect => {
            let removed = connection::disconnect(woo, &owner().await?, None).await.map_err(|e| e.report())?;
            println!("disconnected; {removed} webhooks removed from the store");
            Ok(())
        }
    }
}

/// JSON for people at a terminal and for scripts alike.
fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<SecretString, String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err("no password on standard input".into());
    }
    Ok(password.into())
}
