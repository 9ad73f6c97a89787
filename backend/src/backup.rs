//! Backups of a SQLite shop: a consistent copy made while Backroom serves, and putting
//! one back. The copy is SQLite's `VACUUM INTO`: one read transaction, so it holds every
//! write committed before it began and none after, and it never stops the shop writing.
//! A PostgreSQL shop is backed up with `pg_dump` (the README says how).
//!
//! The master key is not in a backup (a backup is often kept where the key must not be);
//! a shop restored without its key refuses to start ([`crate::master_key`]).

use std::path::{Path, PathBuf};

use crate::{
    Error, Result,
    db::{Backend, Db, sqlite_file},
};

/// Copies the shop's SQLite database to a new file `to` (0600), whole or not at all;
/// returns its size in bytes.
pub async fn backup(db: &Db, to: &Path) -> Result<u64> {
    if db.backend() != Backend::Sqlite {
        return Err(Error::invalid(
            "backroom backup copies a SQLite shop; back up PostgreSQL with pg_dump (see the README)",
        ));
    }
    if to.exists() {
        return Err(Error::invalid(format!("{} exists; name a new file", to.display())));
    }
    let partial = partial_beside(to)?;
    let mut conn = db.bulk_connection().await?;
    let copied = sqlx::query("VACUUM INTO $1").bind(path_text(&partial)?).execute(&mut conn).await;
    drop(conn);
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(Error::invalid(format!("cannot write the backup {}: {e}", to.display())));
    }
    finish(&partial, to)
}

/// Puts the backup `from` in place of the shop's SQLite database, once it is checked to
/// be whole and Backroom's. A database that holds a shop (people or orders) is replaced
/// only when `force` says so; every Backroom process using it must be stopped first.
/// Returns the database file restored.
pub async fn restore(from: &Path, database_url: &str, force: bool) -> Result<PathBuf> {
    let target = sqlite_file(database_url).ok_or_else(|| {
        Error::invalid("backroom restore puts back a SQLite shop; restore PostgreSQL with pg_restore (see the README)")
    })?;
    let not_a_backup = |why: &str| Error::invalid(format!("{} is not a Backroom backup: {why}", from.display()));
    let mut source = std::fs::File::open(from).map_err(|e| not_a_backup(&e.to_string()))?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_files::create_dir(dir)
            .map_err(|e| Error::invalid(format!("cannot create the database folder {}: {e}", dir.display())))?;
    }
    // Checked as a copy beside the target (opening a file may change it: the backup
    // itself is left as it was).
    let partial = partial_beside(target)?;
    let copied = std::fs::OpenOptions::new()
        .write(true)
        .open(&partial)
        .and_then(|mut file| std::io::copy(&mut source, &mut file));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(Error::invalid(format!("cannot write {}: {e}", partial.display())));
    }
    let refusal = match check_backup(&partial).await {
        Err(why) => Some(not_a_backup(&why)),
        // A target that cannot be read is taken to hold a shop: only --force replaces it.
        Ok(()) if !force && holds_a_shop(target).await.unwrap_or(true) => Some(Error::invalid(format!(
            "{} holds a shop; stop every backroom process using it and add --force to replace it",
            target.display()
        ))),
        Ok(()) => None,
    };
    if let Some(refusal) = refusal {
        for file in companions(&partial)?.iter().chain([&partial]) {
            let _ = std::fs::remove_file(file);
        }
        return Err(refusal);
    }
    for companion in companions(target)? {
        match std::fs::remove_file(&companion) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::invalid(format!("cannot remove {}: {e}", companion.display())));
            }
            _ => {}
        }
    }
    finish(&partial, target)?;
    Ok(target.to_path_buf())
}

/// Whether the file opens as SQLite, passes SQLite's quick check and has Backroom's tables.
async fn check_backup(file: &Path) -> std::result::Result<(), String> {
    let db = Db::connect(&format!("sqlite://{}", path_text(file).map_err(|e| e.to_string())?))
        .await
        .map_err(|e| e.to_string())?;
    let verdict = sqlx::query_scalar::<_, String>("PRAGMA quick_check")
        .fetch_one(db.pool())
        .await
        .map_err(|_| "SQLite cannot read it".to_owned())
        .and_then(|verdict| if verdict == "ok" { Ok(()) } else { Err(format!("SQLite finds it damaged ({verdict})")) });
    let shop = match verdict {
        Ok(()) => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM store_settings")
            .fetch_one(db.pool())
            .await
            .map(|_| ())
            .map_err(|_| "it has no shop in it".to_owned()),
        Err(why) => Err(why),
    };
    db.close().await;
    shop
}

async fn holds_a_shop(target: &Path) -> Result<bool> {
    if std::fs::metadata(target).map_or(true, |m| m.len() == 0) {
        return Ok(false);
    }
    let db = Db::connect(&format!("sqlite://{}", path_text(target)?)).await?;
    // A file without Backroom's tables holds no shop; it is replaced because the operator
    // named it as the shop's database.
    let found = sqlx::query_scalar::<_, i64>("SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM orders)")
        .fetch_one(db.pool())
        .await
        .unwrap_or(0);
    db.close().await;
    Ok(found > 0)
}

/// A SQLite database's write-ahead log and its index, which belong to that file.
fn companions(database: &Path) -> Result<[PathBuf; 2]> {
    let path = path_text(database)?;
    Ok([PathBuf::from(format!("{path}-wal")), PathBuf::from(format!("{path}-shm"))])
}

/// An empty file for the owner only, beside `to`, to be filled and renamed to `to`.
fn partial_beside(to: &Path) -> Result<PathBuf> {
    let name = to.file_name().ok_or_else(|| Error::invalid(format!("{} names no file", to.display())))?;
    let partial = to.with_file_name(format!(".{}.partial", name.to_string_lossy()));
    // One a crash left behind is replaced.
    let _ = std::fs::remove_file(&partial);
    crate::private_files::new_file()
        .open(&partial)
        .map_err(|e| Error::invalid(format!("cannot write {}: {e}", partial.display())))?;
    Ok(partial)
}

/// Makes the finished copy durable and gives it its name.
fn finish(partial: &Path, to: &Path) -> Result<u64> {
    let failed = |e: std::io::Error| Error::invalid(format!("cannot write {}: {e}", to.display()));
    std::fs::File::open(partial).and_then(|f| f.sync_all()).map_err(failed)?;
    std::fs::rename(partial, to).map_err(failed)?;
    Ok(std::fs::metadata(to).map_err(failed)?.len())
}

fn path_text(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| Error::invalid(format!("{} is not a UTF-8 path", path.display())))
}
