//! A transaction whose caller stops waiting while it begins (a request whose client went
//! away, a timeout) leaves no pooled connection inside it: every write made afterwards
//! through the pool is committed, on both databases.

mod common;

use std::time::Duration;

use backend::{
    db::Db,
    jobs::{self, NewJob},
};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A TCP relay to the database server at `to` whose answers arrive `delay` late: a caller
/// can stop waiting after its statement went out and before the answer came back.
async fn slow_relay(to: String, delay: Duration) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = tokio::net::TcpStream::connect(&to).await.unwrap();
            let ((mut from_client, mut to_client), (mut from_server, mut to_server)) =
                (client.into_split(), server.into_split());
            tokio::spawn(async move { tokio::io::copy(&mut from_client, &mut to_server).await });
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                while let Ok(read @ 1..) = from_server.read(&mut buffer).await {
                    tokio::time::sleep(delay).await;
                    if to_client.write_all(&buffer[..read]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

async fn a_transaction_abandoned_while_it_begins_leaves_no_connection_inside_it(engine: Engine) {
    let (url, _) = fresh_database(engine).await;
    let direct = Db::connect(&url).await.unwrap();
    direct.migrate().await.unwrap();
    // The pool under test, and a caller that stops waiting while BEGIN waits for its
    // answer: on PostgreSQL the answer comes late through a relay; on SQLite another
    // connection holds the write lock that `BEGIN IMMEDIATE` waits for.
    let db = match engine {
        Engine::Postgres => {
            let mut relayed = reqwest::Url::parse(&url).unwrap();
            let server = format!("{}:{}", relayed.host_str().unwrap(), relayed.port().unwrap_or(5432));
            relayed.set_port(Some(slow_relay(server, Duration::from_millis(150)).await)).unwrap();
            let db = Db::connect(relayed.as_str()).await.unwrap();
            // A connection waiting in the pool (back from its check on release): `begin`
            // takes it at once and sends BEGIN.
            sqlx::query("SELECT 1").execute(db.writer()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(600)).await;
            db
        }
        Engine::Sqlite => direct.clone(),
    };
    let mut holder = direct.bulk_connection().await.unwrap();
    if engine == Engine::Sqlite {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
    }
    let abandoned = tokio::time::timeout(Duration::from_millis(40), db.begin()).await;
    assert!(abandoned.is_err(), "the caller stopped waiting before the transaction began");
    if engine == Engine::Sqlite {
        sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Every write through the pool now commits: a connection left inside a transaction
    // would keep its writes to itself.
    let writes = 5;
    for _ in 0..writes {
        jobs::enqueue(db.writer(), &NewJob::now("test.committed")).await.unwrap();
    }
    let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'test.committed'")
        .fetch_one(&mut holder)
        .await
        .unwrap();
    assert_eq!(seen, writes, "every write is committed and seen from another connection");
    drop(holder);
    db.close().await;
    direct.close().await;
}

on_both_databases!(a_transaction_abandoned_while_it_begins_leaves_no_connection_inside_it);
