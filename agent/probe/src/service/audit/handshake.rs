//! One handshake of the audit: a ClientHello (or SSLv2 CLIENT-HELLO) on a new
//! connection, the server's first flight read as far as it goes in clear, a
//! `user_canceled` goodbye, and the exchange recorded as evidence with a note
//! that says in words what the server answered.

use crate::net::tcp::Stream as TcpStream;
use kenshin_wire::tls::{
    self, sslv2, CipherSuite, ClientHello, Flight, FlightEnd, KeyExchangeParams, NamedGroup,
    Version,
};

use super::super::conversation::Conversation;
use super::super::{heard_note, Heard, STEP_WAIT};
use super::Auditor;

/// What one handshake came to.
pub(super) enum Reply {
    Hello(Box<Flight>),
    Sslv2(sslv2::ServerHello),
    /// The server answered but took nothing offered (an alert, a close, silence).
    Refused(String),
    /// The audit cannot go on (no connection, the STARTTLS upgrade refused, the cap).
    Stopped,
}

/// Which hello to send.
pub(super) enum Hello<'a> {
    Tls(ClientHello<'a>),
    Sslv2,
}

impl Auditor<'_, '_> {
    /// One ClientHello at `version` offering `suites` (and `groups`, or every group).
    pub(super) async fn tls_hello(
        &mut self,
        version: Version,
        suites: &[CipherSuite],
        groups: &[NamedGroup],
        key_share: bool,
    ) -> (Reply, String) {
        let groups = if groups.is_empty() {
            NamedGroup::ALL
        } else {
            groups
        };
        // A random X25519 share is a valid public value; kenshin never uses the secret.
        let shares = if key_share && version >= Version::TLS13 {
            vec![(NamedGroup::X25519, rand::random::<[u8; 32]>().to_vec())]
        } else {
            Vec::new()
        };
        let session_id: [u8; 32] = rand::random();
        let server_name = self.server_name.clone();
        let hello = ClientHello {
            version,
            suites,
            groups,
            key_shares: &shares,
            server_name: server_name.as_deref(),
            random: rand::random(),
            session_id: if version >= Version::TLS13 {
                &session_id
            } else {
                &[]
            },
        };
        let what = format!(
            "{} ClientHello offering {} suites and {} groups{}",
            version.display(),
            suites.len(),
            groups.len(),
            if version >= Version::TLS13 && !key_share {
                " with no key share"
            } else {
                ""
            }
        );
        self.handshake(Hello::Tls(hello), &what).await
    }

    /// Sends one hello on a new connection, reads the server's flight, says goodbye,
    /// and records the exchange.
    pub(super) async fn handshake(&mut self, hello: Hello<'_>, what: &str) -> (Reply, String) {
        let Some((mut conv, _admission)) = self.open(what).await else {
            return (Reply::Stopped, String::new());
        };
        let reply = exchange(&mut conv, &hello).await;
        if let (Reply::Hello(f), Hello::Tls(h)) = (&reply, &hello) {
            if f.server_hello.is_some() && h.version != Version::SSL2 {
                let _ = conv.say(&tls::encode_goodbye(h.version)).await;
            }
        }
        let note = note(what, &reply);
        let reply = match reply {
            Reply::Hello(f) if f.server_hello.is_none() => Reply::Refused(describe(&f)),
            other => other,
        };
        let ev = self.p.record_only(
            self.cleared.addr(),
            self.port,
            "tls-hello",
            &conv.tape().snapshot(),
            note,
        );
        (reply, ev)
    }
}

/// Says the hello and hears the server's answer.
async fn exchange(conv: &mut Conversation<TcpStream>, hello: &Hello<'_>) -> Reply {
    let bytes = match hello {
        Hello::Tls(h) => tls::encode_client_hello(h),
        Hello::Sslv2 => sslv2::encode_client_hello(rand::random()),
    };
    let start = conv.buf.len();
    if let Err(e) = conv.say(&bytes).await {
        return Reply::Refused(format!("sending the hello failed: {e}"));
    }
    let heard = match hello {
        Hello::Tls(_) => conv
            .hear(STEP_WAIT, |b| tls::read_flight(&b[start..]))
            .await
            .map(|f| Reply::Hello(Box::new(f))),
        Hello::Sslv2 => conv
            .hear(STEP_WAIT, |b| sslv2::read_server_hello(&b[start..]))
            .await
            .map(Reply::Sslv2),
    };
    match heard {
        Heard::Done(r) => r,
        other => Reply::Refused(heard_note(&other)),
    }
}

/// The evidence note for the handshake `what`.
fn note(what: &str, reply: &Reply) -> String {
    match reply {
        Reply::Hello(f) => format!("{what}: {}", describe(f)),
        Reply::Sslv2(h) => format!(
            "{what}: SSLv2 SERVER-HELLO with {} cipher kinds",
            h.ciphers.len()
        ),
        Reply::Refused(why) => format!("{what}: no TLS answer ({why})"),
        Reply::Stopped => what.to_owned(),
    }
}

/// A flight in words, for the evidence note.
fn describe(f: &Flight) -> String {
    match (&f.server_hello, f.end, &f.alert) {
        (_, FlightEnd::Alert, Some(a)) => format!(
            "{} alert {}",
            if a.is_fatal() { "fatal" } else { "warning" },
            a.description.display()
        ),
        (Some(h), end, _) => {
            let mut s = format!("{} {}", h.version().display(), h.suite.display());
            if end == FlightEnd::HelloRetry {
                s.push_str(" (HelloRetryRequest");
                if let Some(g) = h.key_share_group {
                    s.push_str(&format!(" for {}", g.display()));
                }
                s.push(')');
            } else if let Some(g) = h.key_share_group {
                s.push_str(&format!(", key share {}", g.display()));
            }
            if let Some(kx) = &f.key_exchange {
                s.push_str(&describe_key_exchange(kx));
            }
            if !f.certificates.is_empty() {
                s.push_str(&format!(", {} certificates", f.certificates.len()));
            }
            s
        }
        (None, _, _) => "no ServerHello".into(),
    }
}

/// The ServerKeyExchange's parameters in words, as a clause of [`describe`].
fn describe_key_exchange(kx: &KeyExchangeParams) -> String {
    match kx {
        KeyExchangeParams::NamedCurve(g) => format!(", ECDHE {}", g.display()),
        KeyExchangeParams::Dh { prime_bits } => format!(", DHE {prime_bits} bits"),
        KeyExchangeParams::Rsa { modulus_bits } => format!(", temporary RSA {modulus_bits} bits"),
        KeyExchangeParams::ExplicitCurve(t) => format!(", explicit curve type {t}"),
    }
}
