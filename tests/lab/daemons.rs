//! The lab's real services, each configured and started in its namespace: sshd,
//! nginx (plain, HTTPS and a VPN-portal stand-in), vsftpd, snmpd (the services host
//! and the switch), telnetd, the TLS segment's servers ([`crate::tls`]), Samba with
//! and without SMB1, storescp and Xvnc. Their files live in the lab's folder.

use std::fs;
use std::process::Command;

use anyhow::Result;

use crate::command::run;
use crate::{
    fixtures, tls, Lab, DICOM_AE, FORTIGATE_ETAG, SERVICES2_ADDR, SERVICES_ADDR, SNMP_COMMUNITY,
    SWITCH_ADDR, SWITCH_SYS_DESCR,
};

/// The X display number the lab's Xvnc takes.
const X_DISPLAY: &str = ":41";

/// Removes the lock and socket of the lab's X display (left by a killed Xvnc).
pub(crate) fn remove_x_display() {
    let n = X_DISPLAY.trim_start_matches(':');
    let _ = fs::remove_file(format!("/tmp/.X{n}-lock"));
    let _ = fs::remove_file(format!("/tmp/.X11-unix/X{n}"));
}

impl Lab {
    /// Starts every real service, in this order.
    pub(crate) fn start_daemons(&mut self) -> Result<()> {
        self.sshd()?;
        self.web()?;
        self.vsftpd()?;
        self.snmpd()?;
        self.telnetd()?;
        self.switch_snmpd()?;
        self.start_tls_servers()?;
        // Samba: SMB1 allowed on one host, SMB2 and later only on the other
        self.samba("ksl-svc", SERVICES_ADDR, "NT1")?;
        self.samba("ksl-svc2", SERVICES2_ADDR, "SMB2_02")?;
        self.dicom()?;
        self.resolver()?;
        self.vnc()
    }

    /// The lab resolver: dnsmasq in ksl-dns answering the PTR records of
    /// [`crate::PTR_RECORDS`], reading no hosts file or configuration of this machine
    /// and forwarding nothing (no upstream servers).
    fn resolver(&mut self) -> Result<()> {
        let mut args: Vec<String> = [
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--bind-interfaces",
            "--user=root",
            "--log-queries",
            "--log-facility=-",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        args.push(format!("--listen-address={}", crate::RESOLVER_ADDR));
        args.push(format!(
            "--pid-file={}",
            self.dir.join("dnsmasq.pid").to_string_lossy()
        ));
        for (addr, name) in crate::PTR_RECORDS {
            let ip: std::net::Ipv4Addr = addr.parse()?;
            let [a, b, c, d] = ip.octets();
            args.push(format!("--ptr-record={d}.{c}.{b}.{a}.in-addr.arpa,{name}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.spawn_in("ksl-dns", "/usr/sbin/dnsmasq", &args)
    }

    /// sshd on the services host, with a fresh ed25519 host key.
    fn sshd(&mut self) -> Result<()> {
        let d = self.dir.clone();
        let p = |name: &str| d.join(name).to_string_lossy().into_owned();
        fs::create_dir_all("/run/sshd")?;
        run(Command::new("ssh-keygen").args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            &p("ssh_host_ed25519_key"),
        ]))?;
        fs::write(
            d.join("sshd_config"),
            format!(
                "Port 22\nListenAddress {SERVICES_ADDR}\nHostKey {}\nPidFile {}\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n",
                p("ssh_host_ed25519_key"),
                p("sshd.pid")
            ),
        )?;
        self.spawn_in(
            "ksl-svc",
            "/usr/sbin/sshd",
            &["-D", "-e", "-f", &p("sshd_config")],
        )?;
        Ok(())
    }

    /// nginx: plain HTTP and HTTPS on the services host, and on the second one a
    /// stand-in for a FortiGate SSL-VPN portal (its landing page and factory-style
    /// certificate; the bytes of a real appliance are not needed to exercise the
    /// fingerprints, only their shape) and the TLS server behind the RDP fixture.
    fn web(&mut self) -> Result<()> {
        let d = self.dir.clone();
        let p = |name: &str| d.join(name).to_string_lossy().into_owned();
        self.certificate("svc", "/O=kenshin lab/CN=lab-svc")?;
        self.certificate("rdp", "/CN=LAB-RDP")?;
        self.certificate(
            "fgt",
            "/C=US/ST=California/L=Sunnyvale/O=Fortinet/OU=FortiGate/CN=FGT60FTK2109LAB01",
        )?;
        self.nginx(
            "ksl-svc",
            &format!(
                "server {{ listen {SERVICES_ADDR}:80; location / {{ return 200 \"kenshin lab\\n\"; }} }}\n\
                 server {{ listen {SERVICES_ADDR}:443 ssl; ssl_certificate {c}; ssl_certificate_key {k};\n\
                 location / {{ default_type text/html; return 200 '<html><head><title>kenshin lab</title></head></html>'; }} }}\n",
                c = p("svc.crt"),
                k = p("svc.key"),
            ),
        )?;
        self.nginx(
            "ksl-svc2",
            &(format!(
                "server {{ listen {SERVICES2_ADDR}:10443 ssl; ssl_certificate {c}; ssl_certificate_key {k};\n\
                 location = / {{ default_type text/html; add_header ETag '{etag}';\
                 return 200 '<html><script type=\"text/javascript\">\
                 if (window!=top) top.location=window.location;top.location=\"/remote/login\";</script></html>'; }} }}\n",
                c = p("fgt.crt"),
                k = p("fgt.key"),
                etag = FORTIGATE_ETAG,
            ) + &format!(
                // The TLS server behind the RDP fixture, with a self-signed certificate
                // named like a Windows host's.
                "server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {c}; ssl_certificate_key {k};\n\
                 ssl_protocols TLSv1.2 TLSv1.3; return 444; }}\n",
                port = fixtures::RDP_TLS_BACKEND,
                c = p("rdp.crt"),
                k = p("rdp.key"),
            )),
        )?;
        Ok(())
    }

    /// vsftpd, with an empty anonymous area so that it greets with its default banner.
    fn vsftpd(&mut self) -> Result<()> {
        let d = self.dir.clone();
        let p = |name: &str| d.join(name).to_string_lossy().into_owned();
        fs::create_dir_all("/var/run/vsftpd/empty")?;
        fs::create_dir_all(d.join("ftp-empty"))?;
        fs::write(
            d.join("vsftpd.conf"),
            format!(
                "listen=YES\nlisten_ipv6=NO\nlisten_address={SERVICES_ADDR}\nbackground=NO\n\
                 anonymous_enable=YES\nno_anon_password=YES\nanon_root={anon}\n\
                 local_enable=NO\nwrite_enable=NO\nseccomp_sandbox=NO\n\
                 secure_chroot_dir=/var/run/vsftpd/empty\n",
                anon = p("ftp-empty"),
            ),
        )?;
        self.spawn_in("ksl-svc", "/usr/sbin/vsftpd", &[&p("vsftpd.conf")])?;
        Ok(())
    }

    /// snmpd on the services host, answering the lab's community and `public`.
    fn snmpd(&mut self) -> Result<()> {
        let d = self.dir.clone();
        let p = |name: &str| d.join(name).to_string_lossy().into_owned();
        fs::write(
            d.join("snmpd.conf"),
            format!(
                "rocommunity {SNMP_COMMUNITY} 198.18.0.0/15\nrocommunity public 198.18.0.0/15\n\
                 sysLocation kenshin lab\n\
                 sysName lab-svc\nsysDescr Linux lab-svc (kenshin lab snmpd)\n"
            ),
        )?;
        self.spawn_in(
            "ksl-svc",
            "/usr/sbin/snmpd",
            &[
                "-f",
                "-Lo",
                "-C",
                "-c",
                &p("snmpd.conf"),
                "-p",
                &p("snmpd.pid"),
                &format!("udp:{SERVICES_ADDR}:161"),
            ],
        )?;
        Ok(())
    }

    /// telnetd, one per connection, on a real socket (it checks its peer).
    fn telnetd(&mut self) -> Result<()> {
        self.spawn_in(
            "ksl-svc",
            "/usr/bin/systemd-socket-activate",
            &[
                "-l",
                &format!("{SERVICES_ADDR}:23"),
                "--inetd",
                "-a",
                "/usr/sbin/telnetd",
            ],
        )?;
        Ok(())
    }

    /// The lab switch's snmpd: the default community, a Cisco IOS 12.2 sysDescr.
    fn switch_snmpd(&mut self) -> Result<()> {
        let d = self.dir.clone();
        let p = |name: &str| d.join(name).to_string_lossy().into_owned();
        fs::write(
            d.join("snmpd-switch.conf"),
            format!(
                "rocommunity public 198.18.0.0/15\nsysName lab-switch\nsysDescr {SWITCH_SYS_DESCR}\n"
            ),
        )?;
        self.spawn_in(
            "ksl-net",
            "/usr/sbin/snmpd",
            &[
                "-f",
                "-Lo",
                "-C",
                "-c",
                &p("snmpd-switch.conf"),
                "-p",
                &p("snmpd-switch.pid"),
                &format!("udp:{SWITCH_ADDR}:161"),
            ],
        )?;
        Ok(())
    }

    /// The DICOM storage SCP (answers Verification).
    fn dicom(&mut self) -> Result<()> {
        let d = self.dir.clone();
        let p = |name: &str| d.join(name).to_string_lossy().into_owned();
        fs::create_dir_all(d.join("dicom"))?;
        self.spawn_in(
            "ksl-svc",
            "/usr/bin/storescp",
            &[
                "--aetitle",
                DICOM_AE,
                "--output-directory",
                &p("dicom"),
                "11112",
            ],
        )?;
        Ok(())
    }

    /// VNC without authentication, as found on forgotten modality consoles. A display
    /// number no desktop uses; a lock left by a killed run is removed first.
    fn vnc(&mut self) -> Result<()> {
        remove_x_display();
        self.spawn_in(
            "ksl-svc",
            "/usr/bin/Xvnc",
            &[
                X_DISPLAY,
                "-rfbport",
                "5901",
                "-SecurityTypes",
                "None",
                "-geometry",
                "640x480",
                "-depth",
                "16",
                "-nolisten",
                "tcp",
                "-interface",
                SERVICES_ADDR,
            ],
        )?;
        Ok(())
    }

    /// The TLS segment's servers (tls.rs): nginx for every port but the weak-certificate
    /// one, a second nginx at OpenSSL security level 0 for that one, and vsftpd.
    fn start_tls_servers(&mut self) -> Result<()> {
        let d = self.dir.join("tls");
        fs::create_dir_all(d.join("ftp-empty"))?;
        tls::write_pki(&d)?;
        let rest = tls::nginx_servers(&d, |port| port != tls::WEAK_CERT_PORT);
        self.nginx_instance("tls", "ksl-tls", &rest, None)?;
        let level0 = tls::openssl_level0_conf(&d)?;
        self.nginx_instance(
            "tls-level0",
            "ksl-tls",
            &tls::nginx_servers(&d, |port| port == tls::WEAK_CERT_PORT),
            Some(&level0),
        )?;
        let conf = d.join("vsftpd.conf");
        fs::write(&conf, tls::vsftpd_conf(&d))?;
        self.spawn_in("ksl-tls", "/usr/sbin/vsftpd", &[&conf.to_string_lossy()])?;
        let postfix = d.join("postfix");
        fs::create_dir_all(postfix.join("queue"))?;
        fs::create_dir_all(postfix.join("data"))?;
        run(Command::new("chown")
            .arg("postfix")
            .arg(postfix.join("data")))?;
        let (main, master) = tls::postfix_conf(&d);
        fs::write(postfix.join("main.cf"), main)?;
        fs::write(postfix.join("master.cf"), master)?;
        self.spawn_in(
            "ksl-tls",
            "/usr/sbin/postfix",
            &["-c", &postfix.to_string_lossy(), "start-fg"],
        )?;
        Ok(())
    }

    /// Writes a self-signed P-256 certificate and key as `NAME.crt` and `NAME.key`.
    fn certificate(&self, name: &str, subject: &str) -> Result<()> {
        crate::command::self_signed_p256(
            subject,
            &self.dir.join(format!("{name}.key")),
            &self.dir.join(format!("{name}.crt")),
        )
    }

    /// Starts an nginx in `ns` with its own pid and temp folders serving `servers`.
    fn nginx(&mut self, ns: &str, servers: &str) -> Result<()> {
        self.nginx_instance(ns, ns, servers, None)
    }

    /// Starts an nginx called `name` in `ns`, with `OPENSSL_CONF` set if given.
    fn nginx_instance(
        &mut self,
        name: &str,
        ns: &str,
        servers: &str,
        openssl_conf: Option<&str>,
    ) -> Result<()> {
        let d = self.dir.join(format!("nginx-{name}"));
        fs::create_dir_all(d.join("tmp"))?;
        let p = |s: &str| d.join(s).to_string_lossy().into_owned();
        let conf = d.join("nginx.conf");
        fs::write(
            &conf,
            format!(
                "pid {pid};\nerror_log {err};\nevents {{ worker_connections 64; }}\n\
                 http {{ access_log off; client_body_temp_path {t}/body; proxy_temp_path {t}/proxy;\n\
                 fastcgi_temp_path {t}/fcgi; uwsgi_temp_path {t}/uwsgi; scgi_temp_path {t}/scgi;\n\
                 {servers} }}\n",
                pid = p("nginx.pid"),
                err = p("error.log"),
                t = p("tmp"),
            ),
        )?;
        let conf = conf.to_string_lossy().into_owned();
        match openssl_conf {
            None => self.spawn_in(ns, "/usr/sbin/nginx", &["-c", &conf, "-g", "daemon off;"]),
            Some(c) => self.spawn_in(
                ns,
                "/usr/bin/env",
                &[
                    &format!("OPENSSL_CONF={c}"),
                    "/usr/sbin/nginx",
                    "-c",
                    &conf,
                    "-g",
                    "daemon off;",
                ],
            ),
        }
    }

    /// Starts an smbd with its own state folders, speaking no protocol below `min`.
    fn samba(&mut self, ns: &str, addr: &str, min: &str) -> Result<()> {
        let d = self.dir.join(format!("samba-{ns}"));
        for sub in ["lock", "state", "cache", "private", "pid", "ncalrpc", "log"] {
            fs::create_dir_all(d.join(sub))?;
        }
        let p = |s: &str| d.join(s).to_string_lossy().into_owned();
        let conf = d.join("smb.conf");
        fs::write(
            &conf,
            format!(
                "[global]\nserver role = standalone server\nworkgroup = KENSHINLAB\n\
                 netbios name = {name}\nserver min protocol = {min}\n\
                 interfaces = {addr}/24\nbind interfaces only = yes\nsmb ports = 445\n\
                 disable netbios = yes\nload printers = no\nprinting = bsd\n\
                 printcap name = /dev/null\ndisable spoolss = yes\n\
                 lock directory = {lock}\nstate directory = {state}\ncache directory = {cache}\n\
                 private dir = {private}\npid directory = {pid}\nncalrpc dir = {ncalrpc}\n\
                 log file = {log}/smbd.log\n",
                name = ns.replace('-', "").to_uppercase(),
                lock = p("lock"),
                state = p("state"),
                cache = p("cache"),
                private = p("private"),
                pid = p("pid"),
                ncalrpc = p("ncalrpc"),
                log = p("log"),
            ),
        )?;
        let conf = conf.to_string_lossy().into_owned();
        self.spawn_in(
            ns,
            "/usr/sbin/smbd",
            &[
                "--foreground",
                "--no-process-group",
                "--debug-stdout",
                "-s",
                &conf,
            ],
        )
    }
}
