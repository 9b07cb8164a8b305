//! `kenshin fleet …`: the central database's commands (init, sensor add/list/revoke,
//! push, ingest, report), as clap definitions here and one small function each in
//! `run.rs`. Every error names the database by its URL with the password redacted.

mod run;

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

pub(crate) use run::run;

/// The fleet commands.
#[derive(Debug, Subcommand)]
pub(crate) enum FleetCommand {
    /// Create the fleet schema in the database, or migrate it to this kenshin's
    /// version. Safe to repeat; refuses a schema newer than this kenshin.
    Init(DbArgs),
    /// Enrol, list or revoke the signing keys of a site's sensors.
    #[command(subcommand)]
    Sensor(SensorCommand),
    /// Send sealed report folders to the inbox (from the sensor, or a USB copy on any
    /// machine). Safe to repeat: a bundle already received is not sent again.
    Push(PushArgs),
    /// Verify each bundle in the inbox against its site's enrolled key and every
    /// hash, then file it, or quarantine it with the reason. Waits for new bundles
    /// (LISTEN/NOTIFY) unless --once.
    Ingest(IngestArgs),
    /// The rollup across sites: JSON on stdout, or a sealed HTML+JSON folder.
    Report(ReportArgs),
}

/// Where the central database is.
#[derive(Debug, Args)]
pub(crate) struct DbArgs {
    /// The database, as a postgresql:// URL (libpq's sslcert, sslkey and
    /// sslrootcert parameters are read; sslmode, if given, must be verify-full).
    #[arg(long, value_name = "URL", env = "KENSHIN_FLEET_DB")]
    pub db: String,
    /// The client certificate (PEM) whose CN is the site's database role.
    #[arg(long, value_name = "FILE")]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub client_key: Option<PathBuf>,
    /// The CA that signed the server's certificate (PEM). Default: the system's CAs.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

impl DbArgs {
    pub(crate) fn connect(&self) -> kenshin_fleet::FleetConnect {
        kenshin_fleet::FleetConnect {
            url: self.db.clone(),
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
            ca: self.ca.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum SensorCommand {
    /// Enrol a sensor's signing key for a site (creating the site and its database
    /// role, named by the client certificate's CN, when the site is new).
    Add(SensorAddArgs),
    /// List the enrolled keys.
    List(SensorListArgs),
    /// Revoke a key: its bundles are quarantined from now on.
    Revoke(SensorKeyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SensorKeyArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The site (lower-case letters, digits, '-' and '_').
    #[arg(long, value_name = "NAME")]
    pub site: String,
    /// The sensor's signing-key fingerprint, as `kenshin key` prints it.
    #[arg(long, value_name = "SHA256:…")]
    pub key: String,
}

#[derive(Debug, Args)]
pub(crate) struct SensorAddArgs {
    #[command(flatten)]
    pub sensor: SensorKeyArgs,
    /// The site's database role (default: the site name with '-' as '_').
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// The organisation the site belongs to (a hospital group, a vendor's customers).
    #[arg(long, value_name = "NAME")]
    pub organisation: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SensorListArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Only this site.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The site to push for, when neither the report nor the database user says
    /// (an administrator importing a USB copy).
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Sealed report folders.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Handle what is in the inbox now, then exit.
    #[arg(long)]
    pub once: bool,
    /// Print one JSON object per bundle handled.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Print the rollup as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write a sealed folder with fleet.html and fleet.json.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// A site is silent when no scan has come from it for more than this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = clap::value_parser!(i64).range(1..=3650))]
    pub stale_days: i64,
    /// Language of fleet.html.
    #[arg(long, value_enum, default_value_t = PageLang::Ja)]
    pub lang: PageLang,
    /// The key that seals the folder. Default: as for `kenshin scan`.
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
}

/// The language of fleet.html: Japanese unless asked otherwise, whatever the locale
/// (the page is read at headquarters in Japan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PageLang {
    Ja,
    En,
}

impl From<PageLang> for kenshin_report::Lang {
    fn from(l: PageLang) -> Self {
        match l {
            PageLang::Ja => Self::Ja,
            PageLang::En => Self::En,
        }
    }
}
