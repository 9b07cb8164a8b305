//! The fleet schema's versions: the migrations in `migrations/*.sql`, applied in
//! order by `kenshin fleet init` in one transaction under an advisory lock, each
//! recorded in `fleet.migrations`. Applying them again changes nothing; a database
//! whose version is newer than [`LATEST`] is refused, naming both versions.

use tokio_postgres::Client;

use crate::error::FleetError;

/// One migration: its version, its name and its SQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration this binary knows, oldest first.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "fleet",
    sql: include_str!("../migrations/0001_fleet.sql"),
}];

/// The schema version this binary reads and writes.
pub const LATEST: i32 = 1;

/// The advisory lock that keeps two `fleet init`s from migrating at once.
const LOCK: i64 = 0x6b65_6e73_6869_6e31;

/// What `init` did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InitOutcome {
    pub from: i32,
    pub to: i32,
    pub applied: Vec<String>,
}

/// Creates the schema or brings it to [`LATEST`].
pub async fn init(client: &mut Client, url: &str) -> Result<InitOutcome, FleetError> {
    let failed = |what: &str, e: tokio_postgres::Error| FleetError::query(what, url, &e);
    let tx = client
        .transaction()
        .await
        .map_err(|e| failed("starting the migration", e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await
        .map_err(|e| failed("taking the migration lock", e))?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS fleet;
         CREATE TABLE IF NOT EXISTS fleet.migrations (
             version     integer PRIMARY KEY,
             name        text NOT NULL,
             applied_at  timestamptz NOT NULL DEFAULT now()
         );",
    )
    .await
    .map_err(|e| failed("creating the schema fleet", e))?;
    let from = version_in(&tx, url).await?;
    if from > LATEST {
        return Err(FleetError::SchemaNewer {
            url: url.to_owned(),
            found: from,
            supported: LATEST,
        });
    }
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version > from) {
        let what = format!("migration {} ({})", m.version, m.name);
        tx.batch_execute(m.sql)
            .await
            .map_err(|e| FleetError::query(what.clone(), url, &e))?;
        tx.execute(
            "INSERT INTO fleet.migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )
        .await
        .map_err(|e| FleetError::query(what.clone(), url, &e))?;
        applied.push(what);
    }
    tx.commit()
        .await
        .map_err(|e| failed("committing the migration", e))?;
    Ok(InitOutcome {
        from,
        to: LATEST,
        applied,
    })
}

/// Checks that the database holds exactly the schema this binary knows.
pub async fn check(client: &Client, url: &str) -> Result<(), FleetError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('fleet.migrations') IS NOT NULL", &[])
        .await
        .map_err(|e| FleetError::query("reading the schema version", url, &e))?
        .get(0);
    let found = if exists {
        version_in(client, url).await?
    } else {
        0
    };
    match found.cmp(&LATEST) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(FleetError::SchemaNewer {
            url: url.to_owned(),
            found,
            supported: LATEST,
        }),
        std::cmp::Ordering::Less => Err(FleetError::SchemaMissing {
            url: url.to_owned(),
            found,
        }),
    }
}

async fn version_in<C: tokio_postgres::GenericClient>(
    client: &C,
    url: &str,
) -> Result<i32, FleetError> {
    let row = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM fleet.migrations",
            &[],
        )
        .await
        .map_err(|e| FleetError::query("reading the schema version", url, &e))?;
    Ok(row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_migrations_are_numbered_in_order_up_to_the_latest() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i32::try_from(i + 1).expect("few migrations"));
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(LATEST));
    }
}
