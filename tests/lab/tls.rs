//! The lab's TLS segment (198.18.3.0/24, behind the router without loss): real
//! nginx (Debian's OpenSSL) servers with chosen protocol, cipher and
//! certificate settings, and vsftpd upgrading FTP with `AUTH TLS`, each one
//! characterised exactly by the TLS tests and the benchmark; Postfix upgrades SMTP
//! with `STARTTLS`.
//!
//! The certificates are made here with the openssl tool: a weak legacy one
//! (RSA-1024, SHA-1, expired, self-signed), and a small PKI (a root CA, an
//! intermediate, and ECDSA P-256 leaves, one of them for the wrong name).

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

/// The TLS host's address.
pub const TLS_ADDR: &str = "198.18.3.10";
/// The name the good leaf certificates carry besides the address.
pub const TLS_NAME: &str = "tls.lab.example";
/// The TLS segment.
pub const TLS_SEGMENT: &str = "198.18.3.0/24";

/// One TLS server of the lab.
#[derive(Debug, Clone, Copy)]
pub struct TlsServer {
    pub port: u16,
    pub name: &'static str,
}

/// Every TLS server on the TLS host.
pub const SERVERS: [TlsServer; 8] = [
    // TLS 1.0-1.2, every suite OpenSSL has at @SECLEVEL=0, RSA-2048
    TlsServer {
        port: 4431,
        name: "legacy",
    },
    // TLS 1.2 only, ECDHE with AES-GCM or ChaCha20, server order
    TlsServer {
        port: 4432,
        name: "aead-only",
    },
    // TLS 1.3 only
    TlsServer {
        port: 4433,
        name: "tls13-only",
    },
    // TLS 1.2, RSA-1024 SHA-1 expired self-signed certificate
    TlsServer {
        port: 4434,
        name: "weak-certificate",
    },
    // TLS 1.2-1.3, ECDSA P-256 leaf under an intermediate and the lab root
    TlsServer {
        port: 4435,
        name: "ecdsa-chain",
    },
    // TLS 1.2-1.3, a valid chain for another name
    TlsServer {
        port: 4436,
        name: "name-mismatch",
    },
    // vsftpd with ssl_enable (AUTH TLS)
    TlsServer {
        port: 21,
        name: "ftp-auth-tls",
    },
    // Postfix with STARTTLS, RSA-2048 under the lab CA
    TlsServer {
        port: 25,
        name: "smtp-starttls",
    },
];

/// The STARTTLS protocol testssl.sh must be told for `port`, if any.
pub fn starttls(port: u16) -> Option<&'static str> {
    match port {
        21 => Some("ftp"),
        25 => Some("smtp"),
        _ => None,
    }
}

/// The TCP ports open on the TLS host.
pub fn ports() -> Vec<u16> {
    let mut p: Vec<u16> = SERVERS.iter().map(|s| s.port).collect();
    p.sort_unstable();
    p
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    crate::command::run(Command::new("openssl").args(args).current_dir(dir)).map(drop)
}

/// Writes every certificate and key the TLS servers use into `dir`.
pub fn write_pki(dir: &Path) -> Result<()> {
    // The legacy certificate: dates in the past and SHA-1 need `openssl ca`.
    fs::create_dir_all(dir.join("ca-db"))?;
    fs::write(dir.join("ca-db/index.txt"), "")?;
    fs::write(dir.join("ca-db/serial"), "1000\n")?;
    fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = lab\n[lab]\ndatabase = ca-db/index.txt\nnew_certs_dir = ca-db\n\
         serial = ca-db/serial\npolicy = any\ndefault_md = sha1\nunique_subject = no\n\
         [any]\ncommonName = supplied\norganizationName = optional\n",
    )?;
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:1024",
            "-nodes",
            "-keyout",
            "weak.key",
            "-out",
            "weak.csr",
            "-subj",
            "/O=kenshin lab/CN=legacy-modality",
        ],
    )?;
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-selfsign",
            "-keyfile",
            "weak.key",
            "-in",
            "weak.csr",
            "-out",
            "weak.crt",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20210101000000Z",
            "-md",
            "sha1",
            "-notext",
        ],
    )?;
    // An RSA-2048 self-signed certificate for the legacy-protocol server.
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "400",
            "-keyout",
            "rsa.key",
            "-out",
            "rsa.crt",
            "-subj",
            "/O=kenshin lab/CN=legacy-protocols",
        ],
    )?;
    // The lab PKI: root → intermediate → ECDSA leaves.
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut root = vec!["req", "-x509"];
    root.extend(ec);
    root.extend([
        "-days",
        "800",
        "-keyout",
        "root.key",
        "-out",
        "root.crt",
        "-subj",
        "/O=kenshin lab/CN=kenshin lab root CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &root)?;
    fs::write(
        dir.join("inter.ext"),
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )?;
    sign(
        dir,
        "inter",
        "/O=kenshin lab/CN=kenshin lab issuing CA",
        "root",
        "inter.ext",
    )?;
    fs::write(
        dir.join("leaf.ext"),
        format!(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{TLS_NAME},IP:{TLS_ADDR}\n"
        ),
    )?;
    sign(
        dir,
        "leaf",
        &format!("/O=kenshin lab/CN={TLS_NAME}"),
        "inter",
        "leaf.ext",
    )?;
    fs::write(
        dir.join("other.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:other.example\n",
    )?;
    sign(
        dir,
        "other",
        "/O=kenshin lab/CN=other.example",
        "inter",
        "other.ext",
    )?;
    // An RSA leaf under the same CA, for the mail server.
    let mail = format!("/O=kenshin lab/CN={TLS_NAME}");
    sign_key(dir, "mail", &mail, "inter", "leaf.ext", &["rsa:2048"])?;
    for name in ["leaf", "other", "mail"] {
        let mut chain = fs::read(dir.join(format!("{name}.crt")))?;
        chain.extend(fs::read(dir.join("inter.crt"))?);
        fs::write(dir.join(format!("{name}-chain.crt")), chain)?;
    }
    Ok(())
}

/// A P-256 key and certificate `NAME` for `subject`, signed by `issuer` with `ext`.
fn sign(dir: &Path, name: &str, subject: &str, issuer: &str, ext: &str) -> Result<()> {
    let ec = ["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    sign_key(dir, name, subject, issuer, ext, &ec)
}

/// A key made with `newkey` (`openssl req -newkey` arguments) and its certificate.
fn sign_key(
    dir: &Path,
    name: &str,
    subject: &str,
    issuer: &str,
    ext: &str,
    newkey: &[&str],
) -> Result<()> {
    let (key, csr, crt) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
    );
    let mut req = vec!["req", "-new", "-newkey"];
    req.extend(newkey);
    req.extend(["-nodes", "-keyout", &key, "-out", &csr, "-subj", subject]);
    openssl(dir, &req)?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{issuer}.crt"),
            "-CAkey",
            &format!("{issuer}.key"),
            "-CAcreateserial",
            "-days",
            "400",
            "-sha256",
            "-extfile",
            ext,
            "-out",
            &crt,
        ],
    )
}

/// The port of the server with the weak certificate, which needs its own nginx.
pub const WEAK_CERT_PORT: u16 = 4434;

/// The nginx `server` blocks of the TLS host whose port `keep` accepts.
pub fn nginx_servers(dir: &Path, keep: impl Fn(u16) -> bool) -> String {
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let page = "location / { default_type text/html; \
                return 200 '<html><head><title>kenshin TLS lab</title></head></html>'; }";
    let server = |port: u16, cert: &str, key: &str, settings: &str| {
        if !keep(port) {
            return String::new();
        }
        format!(
            "server {{ listen {TLS_ADDR}:{port} ssl; ssl_certificate {c}; ssl_certificate_key {k};\n\
             {settings}\n{page} }}\n",
            c = p(cert),
            k = p(key),
        )
    };
    [
        server(
            4431,
            "rsa.crt",
            "rsa.key",
            "ssl_protocols TLSv1 TLSv1.1 TLSv1.2; ssl_ciphers ALL:@SECLEVEL=0;",
        ),
        server(
            4432,
            "leaf-chain.crt",
            "leaf.key",
            "ssl_protocols TLSv1.2; ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20; \
             ssl_prefer_server_ciphers on;",
        ),
        server(4433, "leaf-chain.crt", "leaf.key", "ssl_protocols TLSv1.3;"),
        server(
            WEAK_CERT_PORT,
            "weak.crt",
            "weak.key",
            "ssl_protocols TLSv1.2; ssl_ciphers ECDHE+AESGCM:AES128-SHA:@SECLEVEL=0;",
        ),
        server(
            4435,
            "leaf-chain.crt",
            "leaf.key",
            "ssl_protocols TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on;",
        ),
        server(
            4436,
            "other-chain.crt",
            "other.key",
            "ssl_protocols TLSv1.2 TLSv1.3;",
        ),
    ]
    .concat()
}

/// An OpenSSL configuration at security level 0, so nginx can load the RSA-1024 SHA-1
/// certificate at all (the level is checked when the certificate is loaded, before any
/// `ssl_ciphers` applies).
pub fn openssl_level0_conf(dir: &Path) -> Result<String> {
    let path = dir.join("openssl-level0.cnf");
    fs::write(
        &path,
        "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n\
         [sys]\nCipherString = DEFAULT:@SECLEVEL=0\n",
    )?;
    Ok(path.to_string_lossy().into_owned())
}

/// vsftpd with AUTH TLS (anonymous, empty, no login ever attempted by kenshin).
pub fn vsftpd_conf(dir: &Path) -> String {
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    format!(
        "listen=YES\nlisten_ipv6=NO\nlisten_address={TLS_ADDR}\nbackground=NO\n\
         anonymous_enable=YES\nno_anon_password=YES\nanon_root={anon}\n\
         local_enable=NO\nwrite_enable=NO\nseccomp_sandbox=NO\n\
         secure_chroot_dir=/var/run/vsftpd/empty\n\
         ssl_enable=YES\nallow_anon_ssl=YES\nforce_anon_logins_ssl=NO\nforce_anon_data_ssl=NO\n\
         rsa_cert_file={c}\nrsa_private_key_file={k}\nssl_ciphers=HIGH\n",
        anon = p("ftp-empty"),
        c = p("leaf-chain.crt"),
        k = p("leaf.key"),
    )
}

/// A Postfix instance of its own (`postfix -c DIR start-fg`) offering STARTTLS with the
/// lab's RSA mail certificate. It accepts no mail: no destination, no relay, every
/// recipient refused; kenshin never sends any anyway. Returns (main.cf, master.cf).
pub fn postfix_conf(dir: &Path) -> (String, String) {
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let main = format!(
        "compatibility_level = 3.6\nqueue_directory = {queue}\ndata_directory = {data}\n\
         inet_interfaces = {TLS_ADDR}\ninet_protocols = ipv4\nmyhostname = {TLS_NAME}\n\
         mydestination =\nrelay_domains =\nlocal_recipient_maps =\nalias_maps =\n\
         alias_database =\nmynetworks = 127.0.0.0/8\nsmtpd_relay_restrictions = reject\n\
         smtpd_tls_cert_file = {c}\nsmtpd_tls_key_file = {k}\nsmtpd_tls_security_level = may\n\
         maillog_file = /dev/stdout\n",
        queue = p("postfix/queue"),
        data = p("postfix/data"),
        c = p("mail-chain.crt"),
        k = p("mail.key"),
    );
    // Only what the SMTP server needs, none of it chrooted.
    let master = "smtp inet n - n - - smtpd\n\
                  tlsmgr unix - - n 1000? 1 tlsmgr\n\
                  anvil unix - - n - 1 anvil\n\
                  proxymap unix - - n - - proxymap\n\
                  postlog unix-dgram n - n - 1 postlogd\n"
        .to_owned();
    (main, master)
}
