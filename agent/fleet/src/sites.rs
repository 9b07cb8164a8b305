//! Sites, organisations and the sensor keys enrolled for them.
//!
//! A site's PostgreSQL role (by default the site's name, `-` written `_`) is the
//! name its client certificate carries as CN; enrolling the first key of a site
//! creates the site and that role (LOGIN, a member of `kenshin_sensor`, no
//! password: it logs in by certificate only). A revoked key stays revoked.

use base64::Engine as _;
use serde::Serialize;
use tokio_postgres::Client;

use crate::error::FleetError;

/// Checks a site name: lower-case letters, digits, `-` and `_`, at most 48.
pub fn check_site(name: &str) -> Result<(), FleetError> {
    let ok = !name.is_empty()
        && name.len() <= 48
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !name.starts_with(['-', '_']);
    if ok {
        Ok(())
    } else {
        Err(FleetError::BadSite {
            name: name.to_owned(),
            reason: "use 1 to 48 lower-case letters, digits, '-' and '_', starting with a \
                     letter or digit"
                .to_owned(),
        })
    }
}

/// Checks a key fingerprint, `SHA256:` and 43 characters of unpadded base64.
pub fn check_key(value: &str) -> Result<(), FleetError> {
    let ok = value.strip_prefix("SHA256:").is_some_and(|rest| {
        rest.len() == 43
            && base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(rest)
                .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(FleetError::BadKey {
            value: value.to_owned(),
        })
    }
}

/// The role a site's sensors log in as unless another is named.
pub fn default_role(site: &str) -> String {
    site.replace('-', "_")
}

/// One enrolled key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sensor {
    pub site: String,
    pub role: String,
    pub organisation: Option<String>,
    pub key: String,
    pub added_at: String,
    pub revoked_at: Option<String>,
}

/// What `sensor add` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enrolled {
    pub site: String,
    pub role: String,
    pub site_created: bool,
    pub key_added: bool,
}

/// Enrols `key` for `site`, creating the site (and its role) if it is new.
pub async fn add(
    client: &mut Client,
    url: &str,
    site: &str,
    key: &str,
    role: Option<&str>,
    organisation: Option<&str>,
) -> Result<Enrolled, FleetError> {
    check_site(site)?;
    check_key(key)?;
    let failed = |what: &str, e: tokio_postgres::Error| FleetError::query(what, url, &e);
    let tx = client
        .transaction()
        .await
        .map_err(|e| failed("enrolling a sensor", e))?;
    if let Some(org) = organisation {
        tx.execute(
            "INSERT INTO fleet.organisations (name) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&org],
        )
        .await
        .map_err(|e| failed("adding the organisation", e))?;
    }
    let existing = tx
        .query_opt("SELECT role FROM fleet.sites WHERE name = $1", &[&site])
        .await
        .map_err(|e| failed("reading the site", e))?;
    let (role, site_created) = match existing {
        Some(row) => (row.get::<_, String>(0), false),
        None => {
            let role = role.map_or_else(|| default_role(site), str::to_owned);
            ensure_role(&tx, url, &role).await?;
            tx.execute(
                "INSERT INTO fleet.sites (name, role, organisation) VALUES ($1, $2, $3)",
                &[&site, &role, &organisation],
            )
            .await
            .map_err(|e| failed("adding the site", e))?;
            (role, true)
        }
    };
    let revoked = tx
        .query_opt(
            "SELECT revoked_at IS NOT NULL FROM fleet.sensor_keys WHERE site = $1 AND fingerprint = $2",
            &[&site, &key],
        )
        .await
        .map_err(|e| failed("reading the key", e))?
        .map(|r| r.get::<_, bool>(0));
    if revoked == Some(true) {
        return Err(FleetError::BadKey {
            value: format!(
                "{key} was revoked for site {site}; a revoked key stays revoked, enrol a new one"
            ),
        });
    }
    let key_added = revoked.is_none();
    if key_added {
        tx.execute(
            "INSERT INTO fleet.sensor_keys (site, fingerprint) VALUES ($1, $2)",
            &[&site, &key],
        )
        .await
        .map_err(|e| failed("adding the key", e))?;
    }
    tx.commit()
        .await
        .map_err(|e| failed("enrolling a sensor", e))?;
    Ok(Enrolled {
        site: site.to_owned(),
        role,
        site_created,
        key_added,
    })
}

/// Creates the role (LOGIN, no password, a member of kenshin_sensor) or checks that
/// an existing one is a plain login role.
async fn ensure_role(
    tx: &tokio_postgres::Transaction<'_>,
    url: &str,
    role: &str,
) -> Result<(), FleetError> {
    let failed =
        |e: tokio_postgres::Error| FleetError::query(format!("creating role {role}"), url, &e);
    let row = tx
        .query_opt(
            "SELECT rolsuper OR rolcreaterole OR rolbypassrls FROM pg_roles WHERE rolname = $1",
            &[&role],
        )
        .await
        .map_err(failed)?;
    let quoted = format!("\"{}\"", role.replace('"', "\"\""));
    match row {
        Some(r) if r.get::<_, bool>(0) => {
            return Err(FleetError::BadSite {
                name: role.to_owned(),
                reason: "this role is a superuser or may create roles or bypass row-level \
                         security; a site's role must be a plain login role"
                    .to_owned(),
            })
        }
        Some(_) => {}
        None => {
            tx.batch_execute(&format!("CREATE ROLE {quoted} LOGIN"))
                .await
                .map_err(failed)?;
        }
    }
    tx.batch_execute(&format!("GRANT kenshin_sensor TO {quoted}"))
        .await
        .map_err(failed)?;
    Ok(())
}

/// The enrolled keys, of one site or of all.
pub async fn list(
    client: &Client,
    url: &str,
    site: Option<&str>,
) -> Result<Vec<Sensor>, FleetError> {
    let rows = client
        .query(
            "SELECT s.name, s.role::text, s.organisation, k.fingerprint,
                    to_char(k.added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                    to_char(k.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
               FROM fleet.sites s JOIN fleet.sensor_keys k ON k.site = s.name
              WHERE $1::text IS NULL OR s.name = $1
              ORDER BY s.name, k.added_at, k.fingerprint",
            &[&site],
        )
        .await
        .map_err(|e| FleetError::query("listing the sensors", url, &e))?;
    Ok(rows
        .iter()
        .map(|r| Sensor {
            site: r.get(0),
            role: r.get(1),
            organisation: r.get(2),
            key: r.get(3),
            added_at: r.get(4),
            revoked_at: r.get(5),
        })
        .collect())
}

/// Revokes `key` for `site`: bundles it signs are quarantined from now on, and so
/// are those of it still in the inbox.
pub async fn revoke(client: &Client, url: &str, site: &str, key: &str) -> Result<bool, FleetError> {
    check_site(site)?;
    check_key(key)?;
    let known = client
        .query_opt(
            "SELECT revoked_at IS NULL FROM fleet.sensor_keys WHERE site = $1 AND fingerprint = $2",
            &[&site, &key],
        )
        .await
        .map_err(|e| FleetError::query("reading the key", url, &e))?;
    match known {
        None => Err(FleetError::BadKey {
            value: format!("{key} is not enrolled for site {site} (`kenshin fleet sensor list`)"),
        }),
        Some(row) if !row.get::<_, bool>(0) => Ok(false),
        Some(_) => {
            client
                .execute(
                    "UPDATE fleet.sensor_keys SET revoked_at = now() WHERE site = $1 AND fingerprint = $2",
                    &[&site, &key],
                )
                .await
                .map_err(|e| FleetError::query("revoking the key", url, &e))?;
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names_are_plain_lower_case_words() {
        assert!(check_site("osaka-general").is_ok());
        assert!(check_site("ward_3").is_ok());
        for bad in ["", "Osaka", "-x", "a b", "a;drop", &"x".repeat(49)] {
            assert!(check_site(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_key_is_a_sha256_fingerprint() {
        assert!(check_key("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU").is_ok());
        assert!(check_key("SHA256:short").is_err());
        assert!(check_key("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU").is_err());
    }

    #[test]
    fn the_default_role_is_the_site_name_with_underscores() {
        assert_eq!(default_role("site-a"), "site_a");
    }
}
