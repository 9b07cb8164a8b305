//! How a TLS handshake begins on each kind of port: at once (HTTPS, LDAPS,
//! DICOM-TLS, any TLS port), or after the protocol's own upgrade command:
//! SMTP `STARTTLS`, FTP `AUTH TLS`, IMAP `STARTTLS`, POP3 `STLS`.
//!
//! Each preamble says as little as the protocol allows: the greeting is read,
//! SMTP gets one `EHLO` (to learn that STARTTLS is offered), and the upgrade is
//! asked for. No login, no mail, no file command is ever sent.

use kenshin_wire::{greeting, rdp};
use tokio::io::{AsyncRead, AsyncWrite};

use super::ask::hear_message;
use super::conversation::Conversation;
use super::greet::hear_greeting;
use super::{heard_note, Heard};
use crate::net::tcp::FirstWords;
use crate::observation::{Fact, ServiceObservation};

/// The name kenshin gives itself in SMTP's EHLO: a reserved name (RFC 2606).
const EHLO_NAME: &str = "kenshin.invalid";

/// How TLS starts on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// TLS from the first byte.
    Direct,
    Smtp,
    Ftp,
    Imap,
    Pop3,
    /// RDP: TLS follows an X.224 negotiation that selected TLS or CredSSP.
    Rdp,
}

impl Channel {
    /// The channel for a service identification found, if TLS can be asked for on it.
    pub fn for_service(obs: &ServiceObservation) -> Option<Channel> {
        if obs.tls {
            return Some(Channel::Direct);
        }
        let port = obs.port;
        match obs.detected.as_deref()? {
            "rdp" => match obs.facts.get("rdp.selected_protocol") {
                Some(Fact::Text(p)) if p != "rdp" => Some(Channel::Rdp),
                _ => None,
            },
            "smtp" => Some(Channel::Smtp),
            "ftp" => Some(Channel::Ftp),
            "imap" => Some(Channel::Imap),
            "pop3" => Some(Channel::Pop3),
            "ftp-or-smtp" => match port {
                21 => Some(Channel::Ftp),
                25 | 587 => Some(Channel::Smtp),
                _ => None,
            },
            _ => None,
        }
    }

    /// `tls`, `smtp-starttls`, `ftp-auth-tls`, `imap-starttls`, `pop3-stls`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Direct => "tls",
            Channel::Smtp => "smtp-starttls",
            Channel::Ftp => "ftp-auth-tls",
            Channel::Imap => "imap-starttls",
            Channel::Pop3 => "pop3-stls",
            Channel::Rdp => "rdp-tls",
        }
    }

    /// The STARTTLS protocol name for the report (`smtp`, `ftp` …), `None` for direct TLS.
    pub fn starttls(self) -> Option<&'static str> {
        match self {
            Channel::Direct => None,
            Channel::Smtp => Some("smtp"),
            Channel::Ftp => Some("ftp"),
            Channel::Imap => Some("imap"),
            Channel::Pop3 => Some("pop3"),
            Channel::Rdp => Some("rdp"),
        }
    }

    /// Who speaks first on a fresh connection: kenshin for direct TLS and RDP (the
    /// ClientHello, the X.224 request), the server's greeting for the others.
    pub(crate) fn first_words(self) -> FirstWords {
        match self {
            Channel::Direct | Channel::Rdp => FirstWords::Ours,
            Channel::Smtp | Channel::Ftp | Channel::Imap | Channel::Pop3 => FirstWords::Theirs,
        }
    }

    /// Brings a fresh connection to the point where the next bytes are a ClientHello.
    pub(crate) async fn prepare<S>(self, conv: &mut Conversation<S>) -> Result<(), String>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match self {
            Channel::Direct => Ok(()),
            Channel::Smtp => {
                expect_reply(conv, "the SMTP greeting", 220).await?;
                conv.say(format!("EHLO {EHLO_NAME}\r\n").as_bytes()).await?;
                let ehlo = expect_reply(conv, "the EHLO reply", 250).await?;
                if !ehlo
                    .lines
                    .iter()
                    .any(|l| l.trim().eq_ignore_ascii_case("STARTTLS"))
                {
                    return Err("the SMTP server does not offer STARTTLS".into());
                }
                conv.say(b"STARTTLS\r\n").await?;
                expect_reply(conv, "the STARTTLS reply", 220)
                    .await
                    .map(drop)
            }
            Channel::Ftp => {
                expect_reply(conv, "the FTP greeting", 220).await?;
                conv.say(b"AUTH TLS\r\n").await?;
                expect_reply(conv, "the AUTH TLS reply", 234)
                    .await
                    .map(drop)
            }
            Channel::Imap => {
                match hear_greeting(conv, greeting::parse_imap).await {
                    Heard::Done(g) if g.status == greeting::ImapStatus::Ok => {}
                    Heard::Done(g) => {
                        return Err(format!("the IMAP greeting is not OK: {}", g.text))
                    }
                    other => return Err(format!("the IMAP greeting: {}", heard_note(&other))),
                }
                conv.buf.clear();
                conv.say(b"k1 STARTTLS\r\n").await?;
                expect_line(conv, "the STARTTLS reply", b"k1 OK").await
            }
            Channel::Rdp => {
                let offered = rdp::Protocols(
                    rdp::Protocols::SSL.0 | rdp::Protocols::HYBRID.0 | rdp::Protocols::HYBRID_EX.0,
                );
                conv.say(&rdp::encode_connection_request(offered)).await?;
                match hear_message(conv, rdp::tpkt_length, rdp::decode_connection_confirm).await {
                    Heard::Done(rdp::Negotiation::Selected { protocol, .. })
                        if protocol != rdp::Protocols::RDP =>
                    {
                        Ok(())
                    }
                    Heard::Done(other) => Err(format!(
                        "the RDP server did not select TLS or CredSSP: {other:?}"
                    )),
                    other => Err(format!(
                        "the RDP Connection Confirm: {}",
                        heard_note(&other)
                    )),
                }
            }
            Channel::Pop3 => {
                match hear_greeting(conv, greeting::parse_pop3).await {
                    Heard::Done(g) if g.ok => {}
                    Heard::Done(g) => return Err(format!("the POP3 greeting is -ERR: {}", g.text)),
                    other => return Err(format!("the POP3 greeting: {}", heard_note(&other))),
                }
                conv.buf.clear();
                conv.say(b"STLS\r\n").await?;
                expect_line(conv, "the STLS reply", b"+OK").await
            }
        }
    }
}

/// Reads one FTP/SMTP reply and checks its code.
async fn expect_reply<S>(
    conv: &mut Conversation<S>,
    what: &str,
    code: u16,
) -> Result<greeting::Reply, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let heard = conv
        .hear(super::STEP_WAIT, |b| {
            Ok(match greeting::parse_reply(b)? {
                greeting::Parsed::Complete { value, consumed } => Some((value, consumed)),
                greeting::Parsed::Incomplete => None,
            })
        })
        .await;
    match heard {
        Heard::Done((reply, consumed)) => {
            conv.consume(consumed);
            if reply.code == code {
                Ok(reply)
            } else {
                Err(format!(
                    "{what} was {} {}, not {code}",
                    reply.code,
                    reply.text()
                ))
            }
        }
        other => Err(format!("{what}: {}", heard_note(&other))),
    }
}

/// Reads one line and checks that it starts with `prefix`.
async fn expect_line<S>(conv: &mut Conversation<S>, what: &str, prefix: &[u8]) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let heard = conv
        .hear(super::STEP_WAIT, |b| {
            Ok(b.iter().position(|&c| c == b'\n').map(|i| i + 1))
        })
        .await;
    match heard {
        Heard::Done(n) => {
            let line = conv.buf[..n].to_vec();
            conv.consume(n);
            if line.starts_with(prefix) {
                Ok(())
            } else {
                Err(format!(
                    "{what} was {:?}",
                    String::from_utf8_lossy(&line).trim_end()
                ))
            }
        }
        other => Err(format!("{what}: {}", heard_note(&other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::Instant;

    /// Runs `channel`'s preamble against a scripted server: each (expect, reply) pair
    /// waits for a line starting with `expect`, then sends `reply`.
    async fn preamble(
        channel: Channel,
        greeting: &str,
        script: &[(&str, &str)],
    ) -> Result<(), String> {
        let (client, mut server) = tokio::io::duplex(4096);
        let greeting = greeting.to_owned();
        let script: Vec<(String, String)> = script
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        let server_task = tokio::spawn(async move {
            server.write_all(greeting.as_bytes()).await.ok();
            for (expect, reply) in script {
                let mut line = Vec::new();
                let mut byte = [0u8; 1];
                while server.read_exact(&mut byte).await.is_ok() {
                    line.push(byte[0]);
                    if byte[0] == b'\n' {
                        break;
                    }
                }
                assert!(line.starts_with(expect.as_bytes()), "got {line:?}");
                server.write_all(reply.as_bytes()).await.ok();
            }
        });
        let mut conv = Conversation::new(client, 4096, Instant::now() + Duration::from_secs(5));
        let result = channel.prepare(&mut conv).await;
        server_task.await.expect("server script");
        result
    }

    #[tokio::test]
    async fn smtp_asks_for_starttls_only_after_ehlo_lists_it() {
        let ok = preamble(
            Channel::Smtp,
            "220 mail ESMTP\r\n",
            &[
                (
                    "EHLO kenshin.invalid",
                    "250-mail\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
                ),
                ("STARTTLS", "220 2.0.0 Ready to start TLS\r\n"),
            ],
        )
        .await;
        assert_eq!(ok, Ok(()));
        let refused = preamble(
            Channel::Smtp,
            "220 mail ESMTP\r\n",
            &[("EHLO", "250-mail\r\n250 PIPELINING\r\n")],
        )
        .await;
        assert_eq!(
            refused,
            Err("the SMTP server does not offer STARTTLS".into())
        );
    }

    #[tokio::test]
    async fn ftp_asks_for_auth_tls_and_needs_234() {
        let ok = preamble(
            Channel::Ftp,
            "220 (vsFTPd 3.0.3)\r\n",
            &[("AUTH TLS", "234 Proceed with negotiation.\r\n")],
        )
        .await;
        assert_eq!(ok, Ok(()));
        let refused = preamble(
            Channel::Ftp,
            "220 hi\r\n",
            &[("AUTH TLS", "530 Please login with USER and PASS.\r\n")],
        )
        .await;
        assert!(refused.expect_err("refused").contains("530"));
    }

    #[tokio::test]
    async fn imap_and_pop3_use_their_own_upgrade_commands() {
        let imap = preamble(
            Channel::Imap,
            "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
            &[("k1 STARTTLS", "k1 OK Begin TLS\r\n")],
        )
        .await;
        assert_eq!(imap, Ok(()));
        let pop3 = preamble(
            Channel::Pop3,
            "+OK POP3 ready\r\n",
            &[("STLS", "+OK Begin TLS\r\n")],
        )
        .await;
        assert_eq!(pop3, Ok(()));
        let pop3_no = preamble(
            Channel::Pop3,
            "+OK POP3 ready\r\n",
            &[("STLS", "-ERR not now\r\n")],
        )
        .await;
        assert!(pop3_no.is_err());
    }

    fn seen(
        tls: bool,
        detected: Option<&str>,
        port: u16,
        facts: &[(&str, &str)],
    ) -> ServiceObservation {
        ServiceObservation {
            port,
            tls,
            detected: detected.map(str::to_owned),
            facts: facts
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Fact::Text((*v).to_owned())))
                .collect(),
            ..ServiceObservation::default()
        }
    }

    #[test]
    fn the_channel_follows_what_identification_found() {
        let channel = |tls, detected, port| Channel::for_service(&seen(tls, detected, port, &[]));
        assert_eq!(channel(true, Some("http"), 443), Some(Channel::Direct));
        assert_eq!(channel(false, Some("smtp"), 25), Some(Channel::Smtp));
        assert_eq!(channel(false, Some("ftp-or-smtp"), 21), Some(Channel::Ftp));
        assert_eq!(channel(false, Some("ssh"), 22), None);
        assert_eq!(channel(false, None, 443), None);
    }

    #[test]
    fn rdp_is_audited_only_when_it_negotiated_tls_or_credssp() {
        let rdp = |p| {
            Channel::for_service(&seen(
                false,
                Some("rdp"),
                3389,
                &[("rdp.selected_protocol", p)],
            ))
        };
        assert_eq!(rdp("credssp"), Some(Channel::Rdp));
        assert_eq!(rdp("tls"), Some(Channel::Rdp));
        assert_eq!(rdp("rdp"), None);
    }
}
