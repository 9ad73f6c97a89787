//! The two migration folders (`backend/migrations/sqlite` and `…/postgres`) describe one
//! schema: after migrating both engines, the same tables, the same columns with the same
//! nullability, and the same indexes (the columns or expressions each covers, whether it is
//! unique, and its condition).

mod common;

use std::collections::BTreeSet;

use backend::db::Db;
use common::*;
use sqlx::Row;

/// One column: (table, column, may be null).
type Column = (String, String, bool);
/// One index: (table, what it covers, unique, its condition).
type Index = (String, String, bool, String);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_engines_migrate_to_the_same_tables_columns_and_indexes() {
    let _clean_up = CleanUp;
    let sqlite = migrated(Engine::Sqlite).await;
    let postgres = migrated(Engine::Postgres).await;
    let (sqlite_columns, postgres_columns) = (sqlite_columns(&sqlite).await, postgres_columns(&postgres).await);
    let tables = |columns: &BTreeSet<Column>| columns.iter().map(|(t, _, _)| t.clone()).collect::<BTreeSet<_>>();
    assert_eq!(tables(&sqlite_columns), tables(&postgres_columns), "the same tables");
    assert_eq!(only_in(&sqlite_columns, &postgres_columns), Vec::<&Column>::new(), "columns only SQLite has as such");
    assert_eq!(
        only_in(&postgres_columns, &sqlite_columns),
        Vec::<&Column>::new(),
        "columns only PostgreSQL has as such"
    );
    let (sqlite_indexes, postgres_indexes) = (sqlite_indexes(&sqlite).await, postgres_indexes(&postgres).await);
    assert_eq!(only_in(&sqlite_indexes, &postgres_indexes), Vec::<&Index>::new(), "indexes only SQLite has");
    assert_eq!(only_in(&postgres_indexes, &sqlite_indexes), Vec::<&Index>::new(), "indexes only PostgreSQL has");
    sqlite.close().await;
    postgres.close().await;
}

fn only_in<'a, T: Ord>(these: &'a BTreeSet<T>, those: &'a BTreeSet<T>) -> Vec<&'a T> {
    these.difference(those).collect()
}

async fn migrated(engine: Engine) -> Db {
    let (url, _) = fresh_database(engine).await;
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    db
}

/// Text as both engines print a definition: lower case, one space, no quotes or casts, and
/// no `COLLATE "C"` (PostgreSQL's way of SQLite's default, byte order).
fn normalised(text: &str) -> String {
    let text = text.to_lowercase().replace(['"', '`'], "").replace("::text", "").replace("::integer", "");
    let text = text.replace(" collate c", "");
    let text = text.replace("( ", "(").replace(" )", ")");
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace("((", "(").replace("))", ")")
}

async fn sqlite_columns(db: &Db) -> BTreeSet<Column> {
    let rows = sqlx::query(
        "SELECT m.name AS table_name, c.name AS column_name, CAST(c.\"notnull\" AS INTEGER) AS not_null, CAST(c.pk AS INTEGER) AS pk \
         FROM sqlite_master m JOIN pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            // A primary key column is never null, whatever SQLite's pragma says of it.
            let nullable = r.get::<i64, _>("not_null") == 0 && r.get::<i64, _>("pk") == 0;
            (r.get("table_name"), r.get("column_name"), nullable)
        })
        .collect()
}

async fn postgres_columns(db: &Db) -> BTreeSet<Column> {
    let rows = sqlx::query(
        "SELECT CAST(table_name AS TEXT) AS table_name, CAST(column_name AS TEXT) AS column_name, \
         CAST(is_nullable AS TEXT) AS is_nullable FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|r| (r.get("table_name"), r.get("column_name"), r.get::<String, _>("is_nullable") == "YES"))
        .collect()
}

/// The indexes SQLite keeps, from their `CREATE INDEX` statements; the automatic ones of
/// primary keys and unique constraints from their columns.
async fn sqlite_indexes(db: &Db) -> BTreeSet<Index> {
    let rows = sqlx::query(
        "SELECT m.name AS table_name, l.name AS index_name, CAST(l.\"unique\" AS INTEGER) AS is_unique, l.origin, \
         (SELECT sql FROM sqlite_master WHERE type = 'index' AND name = l.name) AS definition \
         FROM sqlite_master m JOIN pragma_index_list(m.name) l \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut indexes = BTreeSet::new();
    for row in rows {
        let table: String = row.get("table_name");
        let unique = row.get::<i64, _>("is_unique") == 1;
        let (covers, condition) = match row.get::<Option<String>, _>("definition") {
            Some(definition) => parts(&definition),
            None => {
                let name: String = row.get("index_name");
                let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(db.pool())
                    .await
                    .unwrap();
                (columns.join(", "), String::new())
            }
        };
        indexes.insert((table, covers, unique, condition));
    }
    // An INTEGER PRIMARY KEY is the table's rowid in SQLite, which needs no index of its own;
    // PostgreSQL keeps one for every primary key.
    let rowid_keys = sqlx::query(
        "SELECT m.name AS table_name, c.name AS column_name FROM sqlite_master m JOIN pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' AND c.pk = 1 \
         AND upper(c.type) = 'INTEGER' AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.name) l WHERE l.origin = 'pk')",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    for row in rowid_keys {
        indexes.insert((row.get("table_name"), row.get("column_name"), true, String::new()));
    }
    indexes
}

async fn postgres_indexes(db: &Db) -> BTreeSet<Index> {
    let rows = sqlx::query(
        "SELECT CAST(tablename AS TEXT) AS table_name, CAST(indexdef AS TEXT) AS definition FROM pg_indexes \
         WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            let definition: String = r.get("definition");
            let (covers, condition) = parts(&definition);
            (r.get("table_name"), covers, definition.to_uppercase().starts_with("CREATE UNIQUE"), condition)
        })
        .collect()
}

/// What a `CREATE [UNIQUE] INDEX … ON table [USING btree] (covers) [WHERE condition]`
/// covers, and its condition.
fn parts(definition: &str) -> (String, String) {
    let text = normalised(definition);
    let after_on = text.split_once(" on ").map_or(text.as_str(), |(_, rest)| rest);
    let open = after_on.find('(').unwrap_or(0);
    let (mut depth, mut close) = (0, after_on.len());
    for (i, c) in after_on.char_indices().skip(open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = i;
                    break;
                }
            }
            _ => {}
        }
    }
    let covers = after_on.get(open + 1..close).unwrap_or("").trim().to_owned();
    let condition = after_on.get(close + 1..).unwrap_or("").trim().trim_start_matches("where").trim();
    // PostgreSQL puts the condition in parentheses.
    let condition = condition.strip_prefix('(').and_then(|c| c.strip_suffix(')')).unwrap_or(condition).to_owned();
    (covers, condition)
}
