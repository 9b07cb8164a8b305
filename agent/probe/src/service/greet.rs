//! Services that speak first: read what they say on connect, answer only where
//! the protocol needs an answer to state its facts (Telnet option negotiation,
//! the RFB version), and never log in.

use std::time::Duration;

use kenshin_wire::{greeting, rfb, ssh, telnet};
use tokio::io::{AsyncRead, AsyncWrite};

use super::conversation::{Conversation, Heard};
use super::sniff::{self, Opening};
use super::{heard_note, set, set_text, MAX_BANNER, STEP_WAIT};
use crate::observation::{Fact, ServiceObservation};

/// How long a Telnet server may stay quiet before its banner is taken as complete.
const TELNET_QUIET: Duration = Duration::from_millis(800);
/// The longest a Telnet negotiation and banner may take.
const TELNET_WAIT: Duration = Duration::from_secs(5);
/// Negotiation rounds answered before kenshin stops replying.
const TELNET_ROUNDS: usize = 8;

/// A banner as text (lines folded, binary shown as `\xNN`), capped at [`MAX_BANNER`]
/// characters.
pub(crate) fn printable_banner(bytes: &[u8]) -> String {
    kenshin_wire::line::banner_text(&bytes[..bytes.len().min(4 * MAX_BANNER)])
        .chars()
        .take(MAX_BANNER)
        .collect()
}

/// Reads the rest of a greeting whose first bytes are in `conv.buf`, by what those
/// bytes say the protocol is. Returns the evidence note.
pub(crate) async fn dispatch<S: AsyncRead + AsyncWrite + Unpin>(
    conv: &mut Conversation<S>,
    obs: &mut ServiceObservation,
) -> String {
    match sniff::opening(&conv.buf) {
        Opening::Ssh => ssh_ident(conv, obs).await,
        Opening::Reply => reply(conv, obs).await,
        Opening::Pop3 => pop3(conv, obs).await,
        Opening::Imap => imap(conv, obs).await,
        Opening::Telnet => telnet_banner(conv, obs).await,
        Opening::Rfb => vnc(conv, obs).await,
        Opening::Http => {
            obs.detected = Some("http".into());
            obs.banner = Some(printable_banner(first_line(&conv.buf)));
            "the service spoke HTTP unasked".into()
        }
        Opening::Tls | Opening::Unknown => {
            let _ = conv
                .hear_until_quiet(Duration::from_millis(500), Duration::from_secs(2))
                .await;
            obs.banner = Some(printable_banner(&conv.buf));
            format!(
                "connected and listened; {} bytes in no protocol kenshin knows",
                conv.buf.len()
            )
        }
    }
}

fn first_line(buf: &[u8]) -> &[u8] {
    let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    &buf[..end]
}

async fn ssh_ident<S: AsyncRead + AsyncWrite + Unpin>(
    conv: &mut Conversation<S>,
    obs: &mut ServiceObservation,
) -> String {
    match conv
        .hear(STEP_WAIT, |b| {
            Ok(match ssh::parse(b)? {
                ssh::Parsed::Complete(id) => Some(id),
                ssh::Parsed::Incomplete => None,
            })
        })
        .await
    {
        Heard::Done(id) => {
            obs.detected = Some("ssh".into());
            let mut banner = format!("SSH-{}-{}", id.proto_version, id.software);
            if let Some(c) = &id.comments {
                banner.push(' ');
                banner.push_str(c);
                set_text(obs, "ssh.comments", c.clone());
            }
            obs.banner = Some(banner.chars().take(MAX_BANNER).collect());
            set_text(obs, "ssh.proto_version", id.proto_version.clone());
            set_text(obs, "ssh.software", id.software.clone());
            if !id.prelude.is_empty() {
                set(obs, "ssh.prelude", Fact::List(id.prelude.clone()));
            }
            "connected and read the SSH identification string; nothing was sent".into()
        }
        other => partial(conv, obs, "ssh", "SSH identification", &other),
    }
}

/// Keeps what arrived when a greeting did not complete.
fn partial<S>(
    conv: &Conversation<S>,
    obs: &mut ServiceObservation,
    detected: &str,
    what: &str,
    heard: &Heard<impl Sized>,
) -> String {
    obs.detected = Some(detected.into());
    obs.banner = Some(printable_banner(&conv.buf));
    let note = format!("reading the {what}: {}", heard_note(heard));
    obs.notes.push(note.clone());
    note
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(
    conv: &mut Conversation<S>,
    obs: &mut ServiceObservation,
) -> String {
    match hear_greeting(conv, greeting::parse_reply).await {
        Heard::Done(reply) => {
            let text = reply.text();
            let named = sniff::reply_protocol(&text);
            let proto = named.unwrap_or("ftp-or-smtp");
            // Facts of a greeting that names no protocol go under `reply.`, a
            // namespace rules can read (fact names are `namespace.field`).
            let ns = named.unwrap_or("reply");
            obs.detected = Some(proto.into());
            obs.banner = Some(
                format!("{} {}", reply.code, text)
                    .chars()
                    .take(MAX_BANNER)
                    .collect(),
            );
            set(obs, &format!("{ns}.code"), Fact::Int(reply.code.into()));
            set_text(obs, &format!("{ns}.greeting"), text);
            format!("connected and read the {proto} greeting; nothing was sent")
        }
        other => partial(conv, obs, "ftp-or-smtp", "greeting", &other),
    }
}

/// Waits for one complete greeting as `parse` reads it.
pub(super) async fn hear_greeting<S, T>(
    conv: &mut Conversation<S>,
    parse: fn(&[u8]) -> Result<greeting::Parsed<T>, kenshin_wire::DecodeError>,
) -> Heard<T>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    conv.hear(STEP_WAIT, |b| {
        Ok(match parse(b)? {
            greeting::Parsed::Complete { value, .. } => Some(value),
            greeting::Parsed::Incomplete => None,
        })
    })
    .await
}

async fn pop3<S: AsyncRead + AsyncWrite + Unpin>(
    conv: &mut Conversation<S>,
    obs: &mut ServiceObservation,
) -> String {
    match hear_greeting(conv, greeting::parse_pop3).await {
        Heard::Done(g) => {
            obs.detected = Some("pop3".into());
            obs.banner = Some(format!("+OK {}", g.text).chars().take(MAX_BANNER).collect());
            set_text(obs, "pop3.greeting", g.text);
            "connected and read the POP3 greeting; nothing was sent".into()
        }
        other => partial(conv, obs, "pop3", "POP3 greeting", &other),
    }
}

async fn imap<S: AsyncRead + AsyncWrite + Unpin>(
    conv: &mut Conversation<S>,
    obs: &mut ServiceObservation,
) -> String {
    match hear_greeting(conv, greeting::parse_imap).await {
        Heard::Done(g) => {
            obs.detected = Some("imap".into());
            obs.banner = Some(g.text.chars().take(MAX_BANNER).collect());
            let caps = g.capabilities();
            if !caps.is_empty() {
                set(obs, "imap.capabilities", Fact::List(caps));
            }
            set_text(obs, "imap.greeting", g.text);
            "connected and read the IMAP greeting; nothing was sent".into()
        }
        other => partial(conv, obs, "imap", "IMAP greeting", &other),
    }
}

/// Answers the server's option negotiation as the plainest client and reads the
/// login banner until the server goes quiet. Never types a name.
async fn telnet_banner<S: AsyncRead + AsyncWrite + Unpin>(
    conv: &mut Conversation<S>,
    obs: &mut ServiceObservation,
) -> String {
    obs.detected = Some("telnet".into());
    let mut negotiator = telnet::Negotiator::default();
    let mut data = Vec::new();
    let mut options = Vec::new();
    let started = tokio::time::Instant::now();
    let mut last = Heard::Done(());
    for _ in 0..TELNET_ROUNDS {
        let fed = match negotiator.feed(&conv.buf) {
            Ok(f) => f,
            Err(e) => {
                last = Heard::Invalid(e);
                break;
            }
        };
        conv.consume(fed.consumed);
        data.extend_from_slice(&fed.data);
        for c in &fed.commands {
            let name = match c {
                telnet::Command::Will(o) => format!("WILL {}", option_name(*o)),
                telnet::Command::Do(o) => format!("DO {}", option_name(*o)),
                _ => continue,
            };
            if !options.contains(&name) {
                options.push(name);
            }
        }
        if !fed.reply.is_empty() {
            if let Err(e) = conv.say(&fed.reply).await {
                last = Heard::Failed(e);
                break;
            }
        }
        let left = TELNET_WAIT.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        last = conv.hear_until_quiet(TELNET_QUIET, left).await;
        if conv.buf.is_empty() {
            break; // quiet after our last answer: the banner is complete
        }
        if !matches!(last, Heard::Done(())) {
            // Closed, over budget or failed: decode what is left, then stop.
            if let Ok(fed) = negotiator.feed(&conv.buf) {
                data.extend_from_slice(&fed.data);
            }
            break;
        }
    }
    if !options.is_empty() {
        set(obs, "telnet.options", Fact::List(options));
    }
    let banner = printable_banner(&data);
    if !banner.is_empty() {
        set_text(obs, "telnet.banner", banner.clone());
        obs.banner = Some(banner);
    }
    match last {
        Heard::Done(()) => {
            "answered Telnet option negotiation as a plain client and read the login banner; \
             no name or password was sent"
                .into()
        }
        other => {
            let note = format!("reading the Telnet banner: {}", heard_note(&other));
            obs.notes.push(note.clone());
            note
        }
    }
}

fn option_name(o: telnet::TelnetOption) -> String {
    o.name().map_or_else(|| o.0.to_string(), str::to_owned)
}

/// Reads the RFB version, answers with the version kenshin speaks, and reads the
/// security types offered. Chooses none of them.
async fn vnc<S: AsyncRead + AsyncWrite + Unpin>(
    conv: &mut Conversation<S>,
    obs: &mut ServiceObservation,
) -> String {
    obs.detected = Some("vnc".into());
    let version = match conv.hear(STEP_WAIT, rfb::parse_version).await {
        Heard::Done(v) => v,
        other => return partial(conv, obs, "vnc", "RFB version", &other),
    };
    conv.consume(rfb::VERSION_LEN);
    obs.banner = Some(format!("RFB {:03}.{:03}", version.major, version.minor));
    set_text(
        obs,
        "vnc.version",
        format!("{}.{}", version.major, version.minor),
    );
    let ours = rfb::client_version(version);
    if let Err(e) = conv.say(&rfb::encode_version(ours)).await {
        obs.notes.push(format!("sending the RFB version: {e}"));
        return "read the RFB version; the connection failed before the security types".into();
    }
    match conv
        .hear(STEP_WAIT, |b| rfb::parse_security(b, ours.minor))
        .await
    {
        Heard::Done(rfb::Security::Offered(types)) => {
            let names: Vec<String> = types
                .iter()
                .map(|t| {
                    t.name()
                        .map_or_else(|| format!("type-{}", t.0), str::to_owned)
                })
                .collect();
            set(
                obs,
                "vnc.no_auth",
                Fact::Bool(types.iter().any(|t| t.0 == 1)),
            );
            set(obs, "vnc.security_types", Fact::List(names));
            "exchanged RFB versions and read the offered security types; none was chosen".into()
        }
        Heard::Done(rfb::Security::Refused(reason)) => {
            set_text(obs, "vnc.refused", reason);
            "exchanged RFB versions; the server refused the connection".into()
        }
        other => partial(conv, obs, "vnc", "RFB security types", &other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::Instant;

    fn conversation(stream: tokio::io::DuplexStream) -> Conversation<tokio::io::DuplexStream> {
        Conversation::new(stream, 64 * 1024, Instant::now() + Duration::from_secs(30))
    }

    #[tokio::test(start_paused = true)]
    async fn a_telnet_server_that_never_stops_negotiating_is_left_after_a_few_rounds() {
        let (client, mut server) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            let mut sink = [0u8; 256];
            for opt in 0u8.. {
                // A new option every time, so there is always something to answer.
                if server.write_all(&[255, 253, opt]).await.is_err() {
                    break;
                }
                let _ =
                    tokio::time::timeout(Duration::from_millis(50), server.read(&mut sink)).await;
            }
        });
        let mut conv = conversation(client);
        conv.hear(
            Duration::from_secs(1),
            |b| Ok((!b.is_empty()).then_some(())),
        )
        .await;
        let mut obs = ServiceObservation::default();
        let started = Instant::now();
        let note = dispatch(&mut conv, &mut obs).await;
        assert!(
            started.elapsed() <= TELNET_WAIT + Duration::from_secs(1),
            "{note}"
        );
        assert_eq!(obs.detected.as_deref(), Some("telnet"));
        // Each option was refused exactly once: three bytes per round answered.
        assert!(conv.tape().snapshot().sent.len() <= 3 * 256);
    }

    #[tokio::test]
    async fn a_vnc_server_is_answered_with_the_version_it_offered_and_nothing_chosen() {
        let (client, mut server) = tokio::io::duplex(4096);
        let srv = tokio::spawn(async move {
            server.write_all(b"RFB 003.008\n").await.expect("w");
            let mut v = [0u8; 12];
            server.read_exact(&mut v).await.expect("client version");
            server.write_all(&[2, 1, 2]).await.expect("w"); // none, vnc-auth
            let mut rest = Vec::new();
            let _ = tokio::time::timeout(Duration::from_millis(200), server.read_to_end(&mut rest))
                .await;
            (v, rest)
        });
        let mut conv = conversation(client);
        conv.hear(
            Duration::from_secs(1),
            |b| Ok((!b.is_empty()).then_some(())),
        )
        .await;
        let mut obs = ServiceObservation::default();
        dispatch(&mut conv, &mut obs).await;
        drop(conv);
        let (version, rest) = srv.await.expect("server");
        assert_eq!(&version, b"RFB 003.008\n");
        assert!(rest.is_empty(), "kenshin chose a security type: {rest:?}");
        assert_eq!(obs.facts.get("vnc.no_auth"), Some(&Fact::Bool(true)));
        assert_eq!(
            obs.facts.get("vnc.security_types"),
            Some(&Fact::List(vec!["none".into(), "vnc-auth".into()]))
        );
    }
}
