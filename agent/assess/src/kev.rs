//! The CISA Known Exploited Vulnerabilities catalog as an administrator carries it in:
//! the published `known_exploited_vulnerabilities.json`, parsed strictly
//! ([`Catalog::parse`]), compared with the one imported before ([`Catalog::is_newer_than`]),
//! and applied to the advisories ([`Catalog::apply`]).
//!
//! Applying a catalog does two things:
//!
//! - an advisory with a CVE in the catalog becomes a KEV advisory with the catalog's
//!   `dateAdded` (the earliest of its CVEs) and ransomware use; an advisory whose CVEs
//!   are not in the catalog keeps what the rules say (the shipped data came from an
//!   older catalog, and CISA removes entries only by exception);
//! - a product kenshin identifies and that the mapping table `kev-products.toml`
//!   ([`ProductMap`]) ties to KEV `vendorProject`/`product` names, with catalog entries
//!   no advisory covers, gets one `exposure` advisory naming those CVEs: kenshin knows
//!   they are exploited but not which versions they affect, so it says the version
//!   could not be judged.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::advisory::{Advisory, AdvisorySet, KevOnly};
use crate::finding::{RequirementRef, Text};
use crate::matcher::{compile_all, RawMatcher};
use crate::requirements::Registry;
use crate::subject::{known_field, unknown_field};

/// The largest catalog file read (the published one is about 1.5 MB).
pub const MAX_CATALOG: u64 = 64 << 20;

/// The mapping table's file in the rules tree.
pub const PRODUCTS_FILE: &str = "kev-products.toml";

/// The shipped mapping table.
pub const BUILTIN_PRODUCTS: &str = include_str!("../../../rules/kev-products.toml");

/// Why a catalog was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("not a KEV catalog: {0}")]
    Malformed(String),
    #[error("vulnerabilities[{index}] ({cve}): {message}")]
    Entry {
        index: usize,
        cve: String,
        message: String,
    },
    #[error("{cve} is listed twice (vulnerabilities[{first}] and [{second}])")]
    Duplicate {
        cve: String,
        first: usize,
        second: usize,
    },
    #[error("count says {count} but the catalog lists {listed} vulnerabilities")]
    Count { count: usize, listed: usize },
}

/// One catalog entry, as CISA names its fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    #[serde(rename = "cveID")]
    pub cve_id: String,
    pub vendor_project: String,
    pub product: String,
    pub vulnerability_name: String,
    pub date_added: String,
    pub short_description: String,
    pub required_action: String,
    pub due_date: String,
    /// `Known` or `Unknown`.
    pub known_ransomware_campaign_use: String,
    pub notes: String,
    pub cwes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    catalog_version: String,
    date_released: String,
    count: usize,
    vulnerabilities: Vec<Entry>,
}

/// A checked catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// `catalogVersion`, `YYYY.MM.DD` (CISA's form).
    pub version: String,
    /// `dateReleased`, RFC 3339.
    pub released: String,
    pub entries: Vec<Entry>,
    /// (year, month, day) of the version, and the release time: the order of catalogs.
    order: ((i32, u8, u8), OffsetDateTime),
}

fn date(s: &str) -> Result<Date, String> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("{s:?} is not a YYYY-MM-DD date"))
}

fn cve_ok(c: &str) -> bool {
    c.strip_prefix("CVE-").is_some_and(|rest| {
        rest.split_once('-').is_some_and(|(y, n)| {
            y.len() == 4 && n.len() >= 4 && y.chars().chain(n.chars()).all(|ch| ch.is_ascii_digit())
        })
    })
}

/// `2025.08.25` → (2025, 8, 25).
fn catalog_version(v: &str) -> Result<(i32, u8, u8), String> {
    let bad = || format!("catalogVersion {v:?} is not YYYY.MM.DD");
    let parts: Vec<&str> = v.split('.').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let date = Date::parse(
        &format!("{y}-{m}-{d}"),
        format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| bad())?;
    Ok((date.year(), u8::from(date.month()), date.day()))
}

impl Catalog {
    /// Parses and checks the published JSON: every field of every entry present and
    /// of its type, dates and CVE IDs well formed, no CVE twice, `count` right.
    pub fn parse(bytes: &[u8]) -> Result<Catalog, CatalogError> {
        let raw: RawCatalog =
            serde_json::from_slice(bytes).map_err(|e| CatalogError::Malformed(e.to_string()))?;
        let version = catalog_version(&raw.catalog_version).map_err(CatalogError::Malformed)?;
        let released = OffsetDateTime::parse(&raw.date_released, &Rfc3339).map_err(|_| {
            CatalogError::Malformed(format!(
                "dateReleased {:?} is not an RFC 3339 time",
                raw.date_released
            ))
        })?;
        if raw.count != raw.vulnerabilities.len() {
            return Err(CatalogError::Count {
                count: raw.count,
                listed: raw.vulnerabilities.len(),
            });
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (index, e) in raw.vulnerabilities.iter().enumerate() {
            let entry = |message: String| CatalogError::Entry {
                index,
                cve: e.cve_id.clone(),
                message,
            };
            if !cve_ok(&e.cve_id) {
                return Err(entry("cveID is not a CVE ID".to_owned()));
            }
            date(&e.date_added).map_err(|m| entry(format!("dateAdded: {m}")))?;
            date(&e.due_date).map_err(|m| entry(format!("dueDate: {m}")))?;
            if !matches!(
                e.known_ransomware_campaign_use.as_str(),
                "Known" | "Unknown"
            ) {
                return Err(entry(format!(
                    "knownRansomwareCampaignUse {:?} is neither Known nor Unknown",
                    e.known_ransomware_campaign_use
                )));
            }
            for (name, value) in [
                ("vendorProject", &e.vendor_project),
                ("product", &e.product),
                ("vulnerabilityName", &e.vulnerability_name),
            ] {
                if value.trim().is_empty() {
                    return Err(entry(format!("{name} is empty")));
                }
            }
            if let Some(first) = seen.insert(e.cve_id.as_str(), index) {
                return Err(CatalogError::Duplicate {
                    cve: e.cve_id.clone(),
                    first,
                    second: index,
                });
            }
        }
        Ok(Catalog {
            version: raw.catalog_version,
            released: raw.date_released,
            entries: raw.vulnerabilities,
            order: (version, released),
        })
    }

    /// Whether this catalog is newer than `other`: a later `catalogVersion`, or the
    /// same version released later.
    pub fn is_newer_than(&self, other: &Catalog) -> bool {
        self.order > other.order
    }

    /// Whether this is the same release as `other`.
    pub fn same_release(&self, other: &Catalog) -> bool {
        self.order == other.order
    }

    /// The entry of `cve`.
    pub fn get(&self, cve: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.cve_id == cve)
    }

    /// Takes KEV flags and dates from this catalog, records it in every file's
    /// provenance, and adds the catalog-only exposure advisories of `products`.
    pub fn apply(&self, set: &mut AdvisorySet, products: &ProductMap) {
        let by_cve: BTreeMap<&str, &Entry> = self
            .entries
            .iter()
            .map(|e| (e.cve_id.as_str(), e))
            .collect();
        let mut covered: BTreeSet<String> = BTreeSet::new();
        for a in &mut set.advisories {
            covered.extend(a.cve.iter().cloned());
            let listed: Vec<&&Entry> = a
                .cve
                .iter()
                .filter_map(|c| by_cve.get(c.as_str()))
                .collect();
            if let Some(first) = listed.iter().map(|e| e.date_added.as_str()).min() {
                a.kev_added = Some(first.to_owned());
                if listed
                    .iter()
                    .any(|e| e.known_ransomware_campaign_use == "Known")
                {
                    a.ransomware = Some("known".to_owned());
                }
            }
        }
        let note = format!(
            "KEV flags and dates from the CISA KEV catalog {} (dateReleased {}), imported \
             by the administrator",
            self.version, self.released
        );
        for (_, p) in &mut set.provenance {
            p.kev_catalog_version.clone_from(&self.version);
            p.sources.push(note.clone());
        }
        for product in &products.products {
            let entries: Vec<&Entry> = self
                .entries
                .iter()
                .filter(|e| product.names(e) && !covered.contains(&e.cve_id))
                .collect();
            if entries.is_empty() {
                continue;
            }
            set.advisories.push(product.advisory(&entries));
        }
    }
}

// ---------------------------------------------------------------- the mapping table

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProducts {
    product: Vec<RawProduct>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KevName {
    /// KEV `vendorProject`, exactly.
    pub vendor: String,
    /// KEV `product`, exactly.
    pub product: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProduct {
    id: String,
    name: Text,
    kev: Vec<KevName>,
    #[serde(rename = "match")]
    matchers: Vec<RawMatcher>,
    requirements: Vec<String>,
}

/// One product kenshin identifies, tied to the KEV names it is listed under.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub name: Text,
    pub kev: Vec<KevName>,
    matchers: Vec<RawMatcher>,
    pub requirements: Vec<RequirementRef>,
}

impl Product {
    fn names(&self, e: &Entry) -> bool {
        self.kev
            .iter()
            .any(|k| k.vendor == e.vendor_project && k.product == e.product)
    }

    /// The exposure advisory of `entries` (no advisory of kenshin's covers them).
    fn advisory(&self, entries: &[&Entry]) -> Advisory {
        let listed = entries
            .iter()
            .map(|e| format!("{} (KEV {})", e.cve_id, e.date_added))
            .collect::<Vec<_>>()
            .join(", ");
        Advisory::from_kev(KevOnly {
            id: format!("kev.{}", self.id),
            file: PRODUCTS_FILE.to_owned(),
            cve: entries.iter().map(|e| e.cve_id.clone()).collect(),
            title: Text {
                ja: format!(
                    "{}: 悪用が確認された脆弱性(CISA KEV)があり、版を判定できない",
                    self.name.ja
                ),
                en: format!(
                    "{}: known exploited vulnerabilities (CISA KEV); the version could not be judged",
                    self.name.en
                ),
            },
            remediation: Text {
                ja: format!(
                    "ベンダーの勧告で {listed} の修正版を確認し、機器の版と照らし合わせて更新する。\
                     kenshin はこれらの影響版を知らないため、版による判定はしていない。"
                ),
                en: format!(
                    "Check the vendor's advisories for the fixed versions of {listed}, compare \
                     them with the device's version, and update. kenshin does not know the \
                     affected versions, so it did not judge the version."
                ),
            },
            kev_added: entries
                .iter()
                .map(|e| e.date_added.clone())
                .max()
                .unwrap_or_default(),
            ransomware: entries
                .iter()
                .any(|e| e.known_ransomware_campaign_use == "Known")
                .then(|| "known".to_owned()),
            basis: format!(
                "the product is present; the KEV catalog lists {listed} for it and kenshin \
                 has no advisory with their affected versions, so the version could not be \
                 judged"
            ),
            requirements: self.requirements.clone(),
            product: compile_all(&self.matchers).unwrap_or_default(),
        })
    }
}

/// The mapping table: products kenshin identifies and their KEV names.
#[derive(Debug, Clone, Default)]
pub struct ProductMap {
    pub products: Vec<Product>,
}

impl ProductMap {
    /// The shipped table.
    pub fn builtin() -> Result<Self, String> {
        Self::parse(BUILTIN_PRODUCTS)
    }

    /// Parses the table; a problem names the product and what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: RawProducts =
            toml::from_str(text).map_err(|e| format!("{PRODUCTS_FILE}: {}", e.message().trim()))?;
        let mut products = Vec::new();
        let mut ids = BTreeSet::new();
        for p in raw.product {
            let at = |m: String| format!("{PRODUCTS_FILE}: product {:?}: {m}", p.id);
            if !crate::rulefile::valid_slug(&p.id) || !ids.insert(p.id.clone()) {
                return Err(at("the ID must be a unique lower-case slug".to_owned()));
            }
            if p.kev.is_empty() || p.matchers.is_empty() {
                return Err(at("needs `kev` names and `match` matchers".to_owned()));
            }
            compile_all(&p.matchers).map_err(|e| at(format!("match: {e}")))?;
            for m in &p.matchers {
                if !known_field(&m.field) {
                    return Err(at(format!("match: {}", unknown_field(&m.field))));
                }
            }
            let mut requirements = Vec::new();
            for r in &p.requirements {
                requirements.push(
                    RequirementRef::parse(r)
                        .ok_or_else(|| at(format!("requirement {r:?} is not framework:id")))?,
                );
            }
            if requirements.is_empty() {
                return Err(at("maps to no requirement".to_owned()));
            }
            products.push(Product {
                id: p.id,
                name: p.name,
                kev: p.kev,
                matchers: p.matchers,
                requirements,
            });
        }
        Ok(Self { products })
    }

    /// Every requirement resolves in `registry`.
    pub fn verify(&self, registry: &Registry) -> Result<usize, String> {
        for p in &self.products {
            for r in &p.requirements {
                if registry.get(&r.framework, &r.id).is_none() {
                    return Err(format!(
                        "{PRODUCTS_FILE}: product {:?}: requirement \"{}:{}\" is in no registry",
                        p.id, r.framework, r.id
                    ));
                }
            }
        }
        Ok(self.products.len())
    }
}

#[cfg(test)]
mod tests;
