//! The database: one pool over SQLite or PostgreSQL, chosen by the URL, with the
//! migrations for each dialect. Queries are written once in the SQL both accept
//! (`$1` placeholders, `RETURNING`, `ON CONFLICT`, integers for times and money).

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    AnyPool, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
};

use crate::{Error, Result};

/// Which SQL engine is behind the pool; used only where the dialects really differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The engine behind a connection (or a transaction's).
    pub fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name() == "PostgreSQL" { Backend::Postgres } else { Backend::Sqlite }
    }

    /// How a transaction that writes begins. SQLite takes the write lock at once: a
    /// transaction that reads first and writes later ("BEGIN", deferred) fails with
    /// "database is locked" — whatever the busy timeout — when another writer got in
    /// between; waiting for the lock at the start waits as the busy timeout says.
    pub fn write_transaction(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// A scalar subquery giving the rows of `table` that match `condition`, in `order`, as
    /// one JSON array (text) of objects with `columns` — so one statement brings a row
    /// and all its children. The one place the dialects' JSON functions differ.
    pub fn json_rows(self, table: &str, columns: &[&str], condition: &str, order: &str) -> String {
        let pairs = columns.iter().map(|c| format!("'{c}', {c}")).collect::<Vec<_>>().join(", ");
        match self {
            Backend::Sqlite => format!(
                "(SELECT json_group_array(json_object({pairs})) FROM (SELECT * FROM {table} WHERE {condition} ORDER BY {order}))"
            ),
            Backend::Postgres => format!(
                "(SELECT CAST(COALESCE(json_agg(json_build_object({pairs}) ORDER BY {order}), '[]') AS TEXT) FROM {table} WHERE {condition})"
            ),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// Where transactions and hot writes go ([`Db::writer`]).
    writer: AnyPool,
    backend: Backend,
    /// How its connections are opened, for [`Db::bulk_connection`].
    options: AnyConnectOptions,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Connects to `url`, creating the SQLite file (and its folder) when missing.
    ///
    /// Fails with a message fit for the operator when the folder cannot be created, the
    /// URL has an unknown scheme, or the server does not answer.
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let shown = crate::config::describe_url(url);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(Error::invalid(format!(
                "unsupported database URL {shown}: use sqlite://path/to/file.db or postgres://user@host/db"
            )));
        };

        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| Error::invalid(format!("invalid database URL {shown}: {e}")))?;

        // A connection is not pinged before each use: that is a round trip per query, and
        // one that broke (the server restarted) fails its query and is replaced.
        let pool_options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(5)).test_before_acquire(false);
        let opened =
            |e: sqlx::Error| Error::invalid(format!("cannot open the database at {shown}: {}", plain_cause(&e)));
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                // SQLite lets one connection write at a time and makes the others wait by
                // sleeping and retrying (1 ms, 2 ms, 5 ms, … whatever the lock's holder
                // does meanwhile), so a steady writer can starve them. Every write queues
                // here instead, on the one connection that makes them, and each goes the
                // moment the one before commits; the readers' connections refuse writes,
                // so none can slip past the queue. An in-memory database is one per
                // connection: it keeps a single pool.
                if url.contains(":memory:") {
                    let pool = sqlite_pool(pool_options, 8, Access::ReadWrite)
                        .connect_with(options.clone())
                        .await
                        .map_err(opened)?;
                    (pool.clone(), pool)
                } else {
                    let writer_options =
                        AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10)).test_before_acquire(false);
                    let writer = sqlite_pool(writer_options, 1, Access::ReadWrite)
                        .connect_with(options.clone())
                        .await
                        .map_err(opened)?;
                    let pool = sqlite_pool(pool_options, 8, Access::ReadOnly)
                        .connect_with(options.clone())
                        .await
                        .map_err(opened)?;
                    (pool, writer)
                }
            }
            Backend::Postgres => {
                let pool = pool_options.max_connections(16).connect_with(options.clone()).await.map_err(opened)?;
                (pool.clone(), pool)
            }
        };
        Ok(Db { pool, writer, backend, options })
    }

    /// The configured database, with its migrations applied.
    ///
    /// Fails with a message fit for the operator (see [`Db::connect`]).
    pub async fn open(config: &crate::config::Config) -> Result<Db> {
        let db = Db::connect(secrecy::ExposeSecret::expose_secret(&config.database_url)).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Applies the pending migrations of this dialect.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.writer).await?;
        Ok(())
    }

    /// For reads. On SQLite its connections refuse to write ("attempt to write a
    /// readonly database"): writes go to [`Db::writer`] or [`Db::begin`].
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// For every write outside a transaction: on SQLite the one connection that writes,
    /// so concurrent writers take turns in order instead of in SQLite's sleeping
    /// retries; on PostgreSQL the pool. A statement on it must not wait for a
    /// transaction of [`Db::begin`] held by the same task.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Starts a transaction that writes ([`Backend::write_transaction`]), on
    /// [`Db::writer`]. Inside it, use the transaction for every statement: another
    /// `begin` or a statement on `writer` in the same task would wait for it forever.
    ///
    /// `BEGIN` is sent from a task of its own, which runs to its end: when the caller stops
    /// waiting after `BEGIN` was sent (a request whose client went away), sqlx (0.9) loses
    /// track of the transaction, and the connection would go back to the pool inside it —
    /// every later statement on it in a transaction never committed, and the rows it
    /// touched locked for good. Begun on its own task, a transaction whose caller is gone
    /// is dropped whole, and rolled back. (Waiting for the connection stays the caller's:
    /// one who is gone takes none.)
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        use sqlx::SqlSafeStr;
        let connection = self.writer.acquire().await?;
        let statement = self.backend.write_transaction().into_sql_str();
        let begun = tokio::spawn(sqlx::Transaction::begin(connection, Some(statement)));
        Ok(begun.await.map_err(Error::internal)??)
    }

    /// A connection of its own, outside the pools, for bulk work that is slow by design
    /// (loading demo data, building indexes): it does not warn about slow statements, and
    /// no setting made on it outlives it. On SQLite it writes beside [`Db::writer`], so
    /// it suits work that has the database to itself or holds one long transaction.
    pub async fn bulk_connection(&self) -> Result<sqlx::AnyConnection> {
        use sqlx::ConnectOptions;
        let options = self.options.clone().log_slow_statements(log::LevelFilter::Off, Duration::MAX);
        let mut conn = options.connect().await?;
        if self.backend == Backend::Sqlite {
            conn.execute(SQLITE_SETUP).await?;
        }
        Ok(conn)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// On PostgreSQL, a connection of its own listening on `channel` (LISTEN/NOTIFY), with
    /// the pool that holds it (closed when done), for what every instance must hear at
    /// once; `None` on SQLite, where one instance serves.
    pub async fn listener(
        &self,
        channel: &str,
    ) -> Result<Option<(sqlx::postgres::PgPool, sqlx::postgres::PgListener)>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let options = sqlx::postgres::PgConnectOptions::try_from(&self.options)?;
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect_lazy_with(options);
        let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
        listener.listen(channel).await?;
        Ok(Some((pool, listener)))
    }

    /// After a large write (demo data, an import), gives SQLite's write-ahead log back to
    /// the disk: everything in it is copied into the database and the file cut to nothing.
    /// Left alone, the log keeps the size of the largest transaction it ever held (a
    /// million orders: about 1 GB) until the process ends. Nothing to do on PostgreSQL.
    pub async fn shrink_log(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.writer).await?;
        }
        Ok(())
    }

    /// True when the database answers a trivial query.
    pub async fn is_ready(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Closes every connection; waits for the ones in use.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// A value bound to a statement: a row's for [`insert_rows`], a filter's for [`Dynamic`].
#[derive(Clone, Debug)]
pub enum Value {
    Int(i64),
    MaybeInt(Option<i64>),
    Text(String),
    MaybeText(Option<String>),
}

impl Value {
    /// Feeds the value to `digest`, a tag first and a text's length, so that different
    /// rows never feed the same bytes.
    pub fn digest(&self, digest: &mut impl sha2::Digest) {
        match self {
            Value::Int(v) | Value::MaybeInt(Some(v)) => {
                digest.update([0]);
                digest.update(v.to_le_bytes());
            }
            Value::Text(v) | Value::MaybeText(Some(v)) => {
                digest.update([1]);
                digest.update((v.len() as u64).to_le_bytes());
                digest.update(v);
            }
            Value::MaybeInt(None) | Value::MaybeText(None) => digest.update([2]),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Value {
        Value::MaybeInt(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

/// Inserts many rows (`values` flattened row by row) as multi-row `INSERT`s, each under
/// SQLite's 32,766 bound parameters. Table and column names must be our own constants.
pub async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    table: &str,
    columns: &[&str],
    values: &[Value],
) -> Result<()> {
    write_rows(conn, backend, table, columns, values, "").await
}

/// As [`insert_rows`], but a row whose `key` is already there replaces that row's other
/// columns.
pub async fn upsert_rows(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    table: &str,
    columns: &[&str],
    values: &[Value],
    key: &str,
) -> Result<()> {
    let updates =
        columns.iter().filter(|c| **c != key).map(|c| format!("{c} = excluded.{c}")).collect::<Vec<_>>().join(", ");
    write_rows(conn, backend, table, columns, values, &format!(" ON CONFLICT ({key}) DO UPDATE SET {updates}")).await
}

/// As [`insert_rows`], but a row whose `key` is already there adds its `counter` to that
/// row's.
pub async fn insert_or_add(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    table: &str,
    columns: &[&str],
    values: &[Value],
    (key, counter): (&str, &str),
) -> Result<()> {
    let tail = format!(" ON CONFLICT ({key}) DO UPDATE SET {counter} = {table}.{counter} + excluded.{counter}");
    write_rows(conn, backend, table, columns, values, &tail).await
}

/// As [`insert_rows`], but a row whose `key` is already there is left out.
pub async fn insert_new_rows(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    table: &str,
    columns: &[&str],
    values: &[Value],
    key: &str,
) -> Result<()> {
    write_rows(conn, backend, table, columns, values, &format!(" ON CONFLICT ({key}) DO NOTHING")).await
}

async fn write_rows(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    table: &str,
    columns: &[&str],
    values: &[Value],
    tail: &str,
) -> Result<()> {
    let width = columns.len();
    let rows_per_statement = (30_000 / width).min(1_000);
    for chunk in values.chunks(rows_per_statement * width) {
        let mut sql = insert_sql(backend, table, columns, chunk.len() / width);
        sql.push_str(tail);
        // Not kept as a prepared statement: each row count is a statement of its own.
        let statement = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        bind_values(statement, chunk).execute(&mut *conn).await?;
    }
    Ok(())
}

/// `INSERT INTO table (columns) VALUES (…), (…)` for `rows` rows, to bind with
/// [`bind_values`]; a caller may add `ON CONFLICT …` and `RETURNING …`.
///
/// SQLite gets anonymous `?` placeholders: binding numbered ones looks each name up in a
/// list, which makes a statement with thousands of them quadratic (measured: 90 % of
/// the demo load's time).
pub fn insert_sql(backend: Backend, table: &str, columns: &[&str], rows: usize) -> String {
    let width = columns.len();
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..width {
            if col > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * width + col + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// A statement whose text depends on what is asked (a listing's filters): each value gets
/// its placeholder as it is added, in order, so the text and the binds cannot drift
/// apart; conditions join into one `WHERE` clause.
#[derive(Debug, Default)]
pub struct Dynamic {
    values: Vec<Value>,
    conditions: Vec<String>,
}

impl Dynamic {
    /// The placeholder (`$3`) `value` is bound to.
    pub fn param(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    /// Adds a condition the rows must meet.
    pub fn when(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// `WHERE` and the conditions joined by `AND`; nothing without a condition.
    pub fn where_clause(&self) -> String {
        if self.conditions.is_empty() { String::new() } else { format!("WHERE {}", self.conditions.join(" AND ")) }
    }

    /// The statement `sql` (built with [`Dynamic::param`]'s placeholders) with every value bound.
    pub fn query(&self, sql: String) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        bind_values(sqlx::query(sqlx::AssertSqlSafe(sql)), &self.values)
    }
}

/// `text` for a `LIKE` pattern escaped by a backslash: its `%`, `_` and backslashes match themselves.
pub fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Binds `values` in order to a statement (of [`insert_sql`], or built with [`Dynamic`]).
pub fn bind_values<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    values: &'q [Value],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for value in values {
        query = match value {
            Value::Int(i) => query.bind(*i),
            Value::MaybeInt(i) => query.bind(*i),
            Value::Text(t) => query.bind(t.as_str()),
            Value::MaybeText(t) => query.bind(t.as_deref()),
        };
    }
    query
}

/// Whether the connections of a SQLite pool may write.
#[derive(Clone, Copy)]
enum Access {
    ReadWrite,
    ReadOnly,
}

/// How every SQLite connection is set up for Backroom: WAL (readers never wait for the
/// writer), foreign keys, a busy wait for writers of other processes, commits that
/// survive a crash of the process, and a write-ahead log cut back to 64 MB whenever it
/// starts over (else it keeps the size of the largest transaction it held).
const SQLITE_SETUP: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
     PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 67108864;";

/// A pool of at most `connections` SQLite connections, each set up by [`SQLITE_SETUP`].
fn sqlite_pool(options: AnyPoolOptions, connections: u32, access: Access) -> AnyPoolOptions {
    options.max_connections(connections).after_connect(move |conn, _meta| {
        Box::pin(async move {
            conn.execute(SQLITE_SETUP).await?;
            if let Access::ReadOnly = access {
                conn.execute("PRAGMA query_only = ON").await?;
            }
            Ok(())
        })
    })
}

/// Makes sure the SQLite file's folder exists and that the file is created if missing.
/// The file a `sqlite:` URL names (`None` for an in-memory database or another scheme).
pub fn sqlite_file(url: &str) -> Option<&Path> {
    let (path, _) = split_sqlite_url(url.strip_prefix("sqlite:")?);
    (path != ":memory:" && !path.is_empty()).then(|| Path::new(path))
}

/// A `sqlite:` URL's path and query, without the scheme.
fn split_sqlite_url(rest: &str) -> (&str, &str) {
    let rest = rest.trim_start_matches("//");
    rest.split_once('?').unwrap_or((rest, ""))
}

fn prepare_sqlite_url(url: &str) -> Result<String> {
    let (path, query) = split_sqlite_url(url.trim_start_matches("sqlite:"));
    if path != ":memory:"
        && !path.is_empty()
        && let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty())
    {
        crate::private_files::create_dir(dir)
            .map_err(|e| Error::invalid(format!("cannot create the database folder {}: {e}", dir.display())))?;
    }
    // Created here, for the owner only, SQLite gives its journal files the same mode.
    if path != ":memory:" && !path.is_empty() && !query.contains("mode=ro") && !Path::new(path).exists() {
        match crate::private_files::new_file().open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::invalid(format!("cannot create the database file {path}: {e}"))),
        }
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// The innermost cause of a connection error, without the URL it may repeat.
fn plain_cause(e: &sqlx::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_folder_that_cannot_be_created_is_reported() {
        let e = Db::connect("sqlite:///proc/backroom/nope.db").await.unwrap_err();
        assert!(e.to_string().contains("cannot create the database folder"), "{e}");
    }

    #[tokio::test]
    async fn an_unreachable_postgres_is_reported_without_the_password() {
        let e = Db::connect("postgres://shop:hunter2@127.0.0.1:1/backroom?connect_timeout=1").await.unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("cannot open the database at postgres://127.0.0.1:1/backroom"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }
}
