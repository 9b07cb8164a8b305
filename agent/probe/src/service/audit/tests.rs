//! The audit against scripted servers on loopback, for behaviour no lab daemon
//! shows, and against model servers whose log of hellos is compared with a golden
//! file: the hellos the audit sends, in order, are part of its behaviour.

use std::path::Path;

use kenshin_wire::tls;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::connection::BACKOFF;
use super::*;

/// Reads one ClientHello record; returns (client_version, first offered suite).
async fn read_hello(s: &mut TcpStream) -> Option<(u16, u16)> {
    let mut header = [0u8; 5];
    s.read_exact(&mut header).await.ok()?;
    if header[0] != 22 {
        return None; // SSLv2 or anything else: no answer
    }
    let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    s.read_exact(&mut body).await.ok()?;
    let version = u16::from_be_bytes([*body.get(4)?, *body.get(5)?]);
    let sid = usize::from(*body.get(38)?);
    let at = 39 + sid + 2;
    Some((
        version,
        u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]),
    ))
}

/// Chooses the first suite of every TLS 1.2 hello and then aborts with internal_error,
/// as a server that cannot sign with its key does; refuses every other version.
async fn aborting_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let reply = match read_hello(&mut s).await {
                    Some((0x0303, suite)) if suite >> 8 != 0x13 => {
                        let mut hello = vec![3, 3];
                        hello.extend([7u8; 32]);
                        hello.push(0);
                        hello.extend(suite.to_be_bytes());
                        hello.push(0);
                        let mut msg = vec![2, 0, 0, u8::try_from(hello.len()).unwrap_or(0)];
                        msg.extend(hello);
                        let mut out = vec![22, 3, 3, 0, u8::try_from(msg.len()).unwrap_or(0)];
                        out.extend(msg);
                        out.extend([21, 3, 3, 0, 2, 2, 80]);
                        out
                    }
                    Some(_) => vec![21, 3, 1, 0, 2, 2, 70],
                    None => Vec::new(),
                };
                let _ = s.write_all(&reply).await;
            });
        }
    });
    port
}

/// Refuses every hello with protocol_version on its first `n` connections, then
/// closes its port, as a server that starts refusing a scanner does.
async fn server_that_stops_after(n: usize) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        for _ in 0..n {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let _ = read_hello(&mut s).await;
            let _ = s.write_all(&[21, 3, 1, 0, 2, 2, 70]).await;
        }
        drop(listener);
    });
    port
}

/// What a model server makes of one ClientHello record: a line for the log of
/// hellos (everything in it but the random values) and what the hello offers.
struct Asked {
    line: String,
    version: u16,
    suites: Vec<u16>,
    groups: Vec<u16>,
    shares: Vec<u16>,
}

/// FNV-1a over the offered suites: the log names a long offer by count and hash.
fn fnv(values: &[u16]) -> u64 {
    values
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// Reads one hello; `None` for anything that is not a TLS ClientHello record.
async fn read_client_hello(s: &mut TcpStream) -> Option<Asked> {
    let mut header = [0u8; 5];
    s.read_exact(&mut header).await.ok()?;
    if header[0] != 22 {
        return Some(Asked {
            line: format!("not a TLS record: first byte {:#04x}", header[0]),
            version: 0,
            suites: Vec::new(),
            groups: Vec::new(),
            shares: Vec::new(),
        });
    }
    let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    s.read_exact(&mut body).await.ok()?;
    let u16_at = |b: &[u8], at: usize| Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]));
    let list = |b: &[u8]| -> Vec<u16> {
        b.chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect()
    };
    let legacy = u16_at(&body, 4)?;
    let mut at = 38;
    at += 1 + usize::from(*body.get(at)?);
    let n = usize::from(u16_at(&body, at)?);
    let suites = list(body.get(at + 2..at + 2 + n)?);
    at += 2 + n;
    at += 1 + usize::from(*body.get(at)?);
    let (mut groups, mut versions, mut shares, mut exts) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    if let Some(total) = u16_at(&body, at) {
        let end = at + 2 + usize::from(total);
        at += 2;
        while at + 4 <= end {
            let (code, len) = (u16_at(&body, at)?, usize::from(u16_at(&body, at + 2)?));
            let data = body.get(at + 4..at + 4 + len)?;
            exts.push(code);
            match code {
                10 => groups = list(data.get(2..)?),
                43 => versions = list(data.get(1..)?),
                51 => {
                    let mut k = 2;
                    while let (Some(g), Some(l)) = (u16_at(data, k), u16_at(data, k + 2)) {
                        shares.push(g);
                        k += 4 + usize::from(l);
                    }
                }
                _ => {}
            }
            at += 4 + len;
        }
    }
    let version = match versions.as_slice() {
        [] => legacy,
        [one] => *one,
        _ => {
            // Only rustls offers several versions: its hello is its own business.
            return Some(Asked {
                line: "a rustls ClientHello".into(),
                version: 0x0304,
                suites,
                groups,
                shares,
            });
        }
    };
    let line = format!(
        "{version:04x} suites {} #{:016x} groups {:?} shares {:?} extensions {:?}",
        suites.len(),
        fnv(&suites),
        groups,
        shares,
        exts
    );
    Some(Asked {
        line,
        version,
        suites,
        groups,
        shares,
    })
}

/// A TLS record holding handshake messages.
fn record(version: u16, messages: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut hs = Vec::new();
    for (kind, body) in messages {
        hs.push(*kind);
        hs.extend(&u32::try_from(body.len()).unwrap_or(0).to_be_bytes()[1..]);
        hs.extend(body);
    }
    let mut out = vec![22];
    out.extend(version.to_be_bytes());
    out.extend(u16::try_from(hs.len()).unwrap_or(0).to_be_bytes());
    out.extend(hs);
    out
}

fn server_hello(version: u16, random: [u8; 32], suite: u16, exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend(random);
    b.push(0);
    b.extend(suite.to_be_bytes());
    b.push(0);
    let mut e = Vec::new();
    for (code, data) in exts {
        e.extend(code.to_be_bytes());
        e.extend(u16::try_from(data.len()).unwrap_or(0).to_be_bytes());
        e.extend(data);
    }
    if !e.is_empty() {
        b.extend(u16::try_from(e.len()).unwrap_or(0).to_be_bytes());
        b.extend(e);
    }
    b
}

/// How a model server is set up.
#[derive(Clone, Copy)]
struct Model {
    /// Speaks TLS 1.3 besides 1.2 and 1.0.
    tls13: bool,
    /// Takes the client's first acceptable suite and group instead of its own.
    client_order: bool,
    /// The certificate it sends up to TLS 1.2.
    leaf: Option<&'static [u8]>,
}

/// An ECDSA P-256 self-signed certificate (made with `openssl req -x509 -newkey ec
/// -pkeyopt ec_paramgen_curve:prime256v1 -days 36500 -outform DER`).
const P256_LEAF: &[u8] = include_bytes!("testdata/p256-leaf.der");

/// A server like a careful hospital portal: TLS 1.3 (if `model.tls13`), 1.2 and
/// 1.0 (not 1.1, not SSLv3), a few suites and ECDHE groups, and an answer to each
/// hello as a real server gives it (ServerHello, Certificate, ServerKeyExchange,
/// HelloRetryRequest, alerts). Every hello is logged.
async fn model_server(model: Model, log: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> u16 {
    const TLS13_SUITES: [u16; 3] = [0x1302, 0x1301, 0x1303];
    const TLS12_SUITES: [u16; 7] = [0xC030, 0xC02F, 0xCCA8, 0x009D, 0x009C, 0x003C, 0x002F];
    const TLS10_SUITES: [u16; 3] = [0xC014, 0x002F, 0x000A];
    const GROUPS: [u16; 3] = [24, 29, 23];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let Some(asked) = read_client_hello(&mut s).await else {
                continue;
            };
            log.lock().expect("log").push(asked.line.clone());
            let pick = |mine: &[u16], theirs: &[u16]| {
                if model.client_order {
                    theirs.iter().copied().find(|x| mine.contains(x))
                } else {
                    mine.iter().copied().find(|x| theirs.contains(x))
                }
            };
            let alert = |v: u16, d: u8| {
                let mut a = vec![21];
                a.extend(v.to_be_bytes());
                a.extend([0, 2, 2, d]);
                a
            };
            let v = asked.version;
            let reply = match v {
                0 => Vec::new(),
                0x0304 if !model.tls13 => alert(0x0303, 70),
                0x0304 => match (
                    pick(&TLS13_SUITES, &asked.suites),
                    pick(&GROUPS, &asked.groups),
                ) {
                    (Some(suite), Some(group)) => {
                        let sv = (43, vec![3, 4]);
                        match pick(&GROUPS, &asked.shares) {
                            Some(shared) => {
                                let mut ks = shared.to_be_bytes().to_vec();
                                ks.extend([0, 32]);
                                ks.extend([9u8; 32]);
                                record(
                                    0x0303,
                                    &[(2, server_hello(0x0303, [5; 32], suite, &[sv, (51, ks)]))],
                                )
                            }
                            None => record(
                                0x0303,
                                &[(
                                    2,
                                    server_hello(
                                        0x0303,
                                        tls::HELLO_RETRY_RANDOM,
                                        suite,
                                        &[sv, (51, group.to_be_bytes().to_vec())],
                                    ),
                                )],
                            ),
                        }
                    }
                    _ => alert(0x0303, 40),
                },
                0x0303 | 0x0301 => {
                    let suites: &[u16] = if v == 0x0303 {
                        &TLS12_SUITES
                    } else {
                        &TLS10_SUITES
                    };
                    match pick(suites, &asked.suites) {
                        None => alert(v, 40),
                        Some(suite) => {
                            let mut flight = vec![(2, server_hello(v, [6; 32], suite, &[]))];
                            if let Some(der) = model.leaf {
                                let len = |n: usize| {
                                    u32::try_from(n).unwrap_or(0).to_be_bytes()[1..].to_vec()
                                };
                                let mut c = len(der.len() + 3);
                                c.extend(len(der.len()));
                                c.extend(der);
                                flight.push((11, c));
                            }
                            let ecdhe = suite >> 8 == 0xC0 || suite >> 8 == 0xCC;
                            match (ecdhe, pick(&GROUPS, &asked.groups)) {
                                (true, None) => alert(v, 40),
                                (true, Some(g)) => {
                                    let mut ske = vec![3];
                                    ske.extend(g.to_be_bytes());
                                    ske.extend([1, 4]);
                                    flight.push((12, ske));
                                    flight.push((14, Vec::new()));
                                    record(v, &flight)
                                }
                                (false, _) => {
                                    flight.push((14, Vec::new()));
                                    record(v, &flight)
                                }
                            }
                        }
                    }
                }
                _ => alert(0x0301, 70),
            };
            let _ = s.write_all(&reply).await;
        }
    });
    port
}

/// Audits a model server and compares the hellos it heard, and what the audit
/// concluded, with `name`'s golden log (`KENSHIN_BLESS=1` rewrites it).
async fn golden(model: Model, name: &str) {
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let port = model_server(model, log.clone()).await;
    let audit = audit(port, 400).await;
    let hellos = log.lock().expect("log").join("\n");
    let summary: Vec<String> = audit
        .versions
        .iter()
        .map(|v| {
            format!(
                "{} {} {:?}",
                v.version.display(),
                v.suites.len(),
                v.preference
            )
        })
        .collect();
    let groups: Vec<String> = audit.groups.iter().map(|(g, _)| g.display()).collect();
    let got = format!(
        "{hellos}\nversions {summary:?}\ngroups {groups:?}\nchains {}\nhandshakes {}\nnotes {:?}\n",
        audit.chains.len(),
        audit.handshakes,
        audit.notes
    );
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/service/audit/testdata")
        .join(name);
    if std::env::var_os("KENSHIN_BLESS").is_some() {
        std::fs::write(&file, &got).expect("write the golden log");
    }
    let want = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (KENSHIN_BLESS=1 writes it)", file.display()));
    assert_eq!(got, want, "the audit's hellos changed");
}

#[tokio::test]
async fn the_audit_of_a_server_ordered_tls13_server_sends_its_golden_hellos() {
    let model = Model {
        tls13: true,
        client_order: false,
        leaf: None,
    };
    golden(model, "hellos-tls13-server-order.golden").await;
}

#[tokio::test]
async fn the_audit_of_a_client_ordered_tls12_server_sends_its_golden_hellos() {
    let model = Model {
        tls13: false,
        client_order: true,
        leaf: Some(P256_LEAF),
    };
    golden(model, "hellos-tls12-client-order.golden").await;
}

async fn audit(port: u16, max_handshakes: u32) -> TlsAuditObservation {
    audit_with(port, max_handshakes, false).await
}

async fn audit_with(port: u16, max_handshakes: u32, versions_only: bool) -> TlsAuditObservation {
    let lo = crate::service::test_prober::Loopback::new();
    let (prober, cleared) = (lo.prober(), lo.cleared());
    let settings = AuditSettings {
        pause: Duration::ZERO,
        max_handshakes,
        deadline: Duration::from_secs(30),
        versions_only,
    };
    Auditor::new(&prober, cleared, port, Channel::Direct, None, settings)
        .run()
        .await
}

#[tokio::test]
async fn a_medical_devices_audit_asks_each_version_once_and_enumerates_no_suites() {
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let model = Model {
        tls13: true,
        client_order: false,
        leaf: Some(P256_LEAF),
    };
    let full = audit(model_server(model, log.clone()).await, 400).await;
    let limited = audit_with(model_server(model, log.clone()).await, 400, true).await;
    let accepted = |a: &TlsAuditObservation| -> Vec<Version> {
        a.versions
            .iter()
            .filter(|v| v.accepted)
            .map(|v| v.version)
            .collect()
    };
    // The same versions are found accepted, each from one suite at most …
    assert_eq!(accepted(&limited), accepted(&full));
    assert!(
        limited.versions.iter().all(|v| v.suites.len() <= 1),
        "{limited:?}"
    );
    // … with a fraction of the handshakes, no group questions, and a note saying why.
    assert!(
        limited.handshakes * 3 <= full.handshakes,
        "{} handshakes limited against {} in full",
        limited.handshakes,
        full.handshakes
    );
    assert!(limited.groups.is_empty());
    assert!(limited
        .notes
        .iter()
        .any(|n| n.contains("versions and the certificate")));
}

#[tokio::test]
async fn a_server_that_starts_refusing_is_given_a_rest_then_left_with_a_partial_result() {
    let port = server_that_stops_after(3).await;
    let started = std::time::Instant::now();
    let audit = audit(port, 100).await;
    assert!(started.elapsed() >= BACKOFF, "asked again without resting");
    assert!(!audit.complete);
    assert_eq!(audit.handshakes, 3, "{audit:?}");
    let note = audit.notes.join(" | ");
    assert!(
        note.contains("stopped accepting connections after 3 handshakes"),
        "{note}"
    );
    // TLS 1.3 was refused in full; TLS 1.2's offer takes three hellos (at most 128
    // suites each), and the third found the port closed: TLS 1.2 is unfinished.
    let finished: Vec<(Version, bool)> = audit
        .versions
        .iter()
        .map(|v| (v.version, v.complete))
        .collect();
    assert_eq!(finished, [(Version::TLS13, true), (Version::TLS12, false)]);
}

#[tokio::test]
async fn suites_a_server_chooses_and_then_aborts_are_not_counted_as_accepted() {
    let port = aborting_server().await;
    let audit = audit(port, 100).await;
    assert!(
        audit.versions.iter().all(|v| !v.accepted),
        "{:?}",
        audit.versions
    );
    let note = audit
        .notes
        .iter()
        .find(|n| n.contains("aborted its own handshake"))
        .unwrap_or_else(|| panic!("no note about the aborts: {:?}", audit.notes));
    assert!(note.contains("(internal_error)"), "{note}");
    // Two aborts of a kind and the rest of that kind is left untried, so the audit
    // costs about two handshakes per kind, not one per suite, and says it is partial.
    assert!(audit.handshakes < 50, "{} handshakes", audit.handshakes);
    assert!(!audit.complete);
    assert!(
        audit.notes.iter().any(|n| n.contains("ECDHE-RSA")),
        "{:?}",
        audit.notes
    );
}
