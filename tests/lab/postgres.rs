//! A real PostgreSQL cluster for the fleet lab: certificates made with openssl (a
//! CA, the server's certificate for its lab address, one client certificate per
//! site, and a second CA that nobody trusts), `initdb` in the lab's folder as the
//! `postgres` user, TLS on, `hostssl … cert` in pg_hba.conf for the lab's range and
//! trust only on the cluster's private Unix socket, started inside the
//! headquarters namespace. Dropping a [`Cluster`] stops it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::command::run;

/// The database the fleet lives in.
pub const DATABASE: &str = "fleet";

/// A running cluster.
#[derive(Debug)]
pub struct Cluster {
    /// The cluster's folder: `data/`, `sock/`, the certificates.
    pub dir: PathBuf,
    ns: String,
    bin: PathBuf,
}

/// A certificate and its key.
#[derive(Debug, Clone)]
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The newest installed server's programs (`/usr/lib/postgresql/N/bin`).
pub fn server_bin() -> Result<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed (/usr/lib/postgresql); run tests/run, which installs postgresql")?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => Ok(bin),
        None => {
            bail!("no initdb under /usr/lib/postgresql; run tests/run, which installs postgresql")
        }
    }
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    run(Command::new("openssl").args(args).current_dir(dir)).map(|_| ())
}

/// Makes a CA named `name` in `dir` (`NAME.crt`, `NAME.key`).
pub fn make_ca(dir: &Path, name: &str) -> Result<Pair> {
    let cert = format!("{name}.crt");
    let key = format!("{name}.key");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &cert,
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    )?;
    Ok(Pair {
        cert: dir.join(cert),
        key: dir.join(key),
    })
}

/// Makes `NAME.crt`/`NAME.key` with common name `cn`, signed by `ca`, with the
/// extensions `ext` (one per line, as `openssl x509 -extfile` reads them).
pub fn make_cert(dir: &Path, ca: &Pair, name: &str, cn: &str, ext: &str) -> Result<Pair> {
    let cert = format!("{name}.crt");
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let extfile = format!("{name}.ext");
    fs::write(dir.join(&extfile), ext)?;
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={cn}"),
        ],
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca.cert.to_string_lossy(),
            "-CAkey",
            &ca.key.to_string_lossy(),
            "-set_serial",
            &format!("{}", serial(name)),
            "-days",
            "2",
            "-extfile",
            &extfile,
            "-out",
            &cert,
        ],
    )?;
    fs::set_permissions(dir.join(&key), fs::Permissions::from_mode(0o600))?;
    Ok(Pair {
        cert: dir.join(cert),
        key: dir.join(key),
    })
}

/// A serial number per certificate name, so no two certificates of a CA share one.
fn serial(name: &str) -> u64 {
    name.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1099511628211)
    }) >> 2
}

/// A client certificate's extensions.
pub const CLIENT_EXT: &str =
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";

impl Cluster {
    /// Creates and starts a cluster in `dir` (which must exist) inside namespace `ns`,
    /// listening with TLS on `addr`:5432, its server certificate signed by `ca`.
    pub fn start(dir: &Path, ns: &str, addr: &str, ca: &Pair) -> Result<Self> {
        let bin = server_bin()?;
        let server = make_cert(
            dir,
            ca,
            "server",
            "fleet-hq",
            &format!(
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=serverAuth\nsubjectAltName=IP:{addr}\n"
            ),
        )?;
        let chown = |p: &Path| {
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(p))
            .map(|_| ())
        };
        // The server reads its key and the CA as postgres; the key must be 0600.
        let pgdir = dir.join("pg");
        fs::create_dir_all(pgdir.join("sock"))?;
        for f in [&server.cert, &server.key, &ca.cert] {
            let name = f.file_name().context("a file name")?;
            fs::copy(f, pgdir.join(name))?;
        }
        fs::set_permissions(pgdir.join("server.key"), fs::Permissions::from_mode(0o600))?;
        fs::set_permissions(pgdir.join("sock"), fs::Permissions::from_mode(0o700))?;
        chown(&pgdir)?;
        // Every folder above must be passable by postgres.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o711))?;
        let cluster = Self {
            dir: dir.to_owned(),
            ns: ns.to_owned(),
            bin,
        };
        let data = pgdir.join("data");
        cluster.as_postgres(&[
            "initdb",
            "-D",
            &data.to_string_lossy(),
            "-U",
            "postgres",
            "-A",
            "reject",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale",
            "C.UTF-8",
        ])?;
        let conf = format!(
            "listen_addresses = '{addr}'\nport = 5432\nunix_socket_directories = '{sock}'\n\
             ssl = on\nssl_cert_file = '{pg}/server.crt'\nssl_key_file = '{pg}/server.key'\n\
             ssl_ca_file = '{pg}/{ca}'\nssl_min_protocol_version = 'TLSv1.2'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
            sock = pgdir.join("sock").display(),
            pg = pgdir.display(),
            ca = ca
                .cert
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("ca.crt"),
        );
        let mut postgresql_conf = fs::read_to_string(data.join("postgresql.conf"))?;
        postgresql_conf.push_str(&conf);
        fs::write(data.join("postgresql.conf"), postgresql_conf)?;
        // The administrator on the private socket; every site by certificate, with TLS,
        // from the lab's range only. Nothing else may log in.
        fs::write(
            data.join("pg_hba.conf"),
            "local   all      postgres                 trust\n\
             hostssl fleet    all      198.18.0.0/15  cert\n",
        )?;
        chown(&data)?;
        cluster.as_postgres(&[
            "pg_ctl",
            "-D",
            &data.to_string_lossy(),
            "-l",
            &pgdir.join("server.log").to_string_lossy(),
            "-w",
            "-t",
            "30",
            "start",
        ])?;
        cluster.as_postgres(&[
            "createdb",
            "-h",
            &pgdir.join("sock").to_string_lossy(),
            DATABASE,
        ])?;
        Ok(cluster)
    }

    /// Runs one of the server's programs as postgres inside the namespace.
    fn as_postgres(&self, args: &[&str]) -> Result<String> {
        let program = self.bin.join(args[0]);
        run(Command::new("ip")
            .args(["netns", "exec", &self.ns, "runuser", "-u", "postgres", "--"])
            .arg(program)
            .args(&args[1..]))
    }

    /// The administrator's URL: user postgres on the private socket.
    pub fn admin_url(&self) -> String {
        let sock = self
            .dir
            .join("pg/sock")
            .to_string_lossy()
            .replace('/', "%2F");
        format!("postgresql://postgres@{sock}/{DATABASE}")
    }

    /// Runs `psql` as the administrator and returns its unaligned output.
    pub fn psql_admin(&self, sql: &str) -> Result<String> {
        let sock = self.dir.join("pg/sock");
        run(Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns,
                "psql",
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
            ])
            .arg("-h")
            .arg(sock)
            .args(["-U", "postgres", "-d", DATABASE, "-c", sql]))
    }

    /// Stops the server now.
    pub fn stop(&self) {
        let data = self.dir.join("pg/data");
        let _ = self.as_postgres(&[
            "pg_ctl",
            "-D",
            &data.to_string_lossy(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}
