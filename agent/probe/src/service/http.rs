//! HTTP with reqwest over rustls: a GET of `/`, redirects followed by hand (at
//! most [`MAX_REDIRECTS`], only on the same address, each hop admitted by the
//! governor), bodies capped at [`MAX_BODY`], certificates accepted and no proxy
//! ever used. Titles are decoded with the page's charset, since Japanese
//! devices still serve Shift_JIS and EUC-JP.
//!
//! reqwest opens its own connection; the address it connects to is the one the
//! scope guard cleared, spelled as a literal, so no name is resolved.

use std::net::IpAddr;

use reqwest::header::HeaderMap;
use reqwest::Url;

use super::{set, set_text, Prober, STEP_WAIT};
use crate::evidence::{Direction, Segment, Transcript};
use crate::governor::{FrameCost, ProbeKind};
use crate::observation::{Fact, ServiceObservation};
use crate::ports::Protocol;
use crate::scope::Cleared;

/// Redirects followed at most.
pub(crate) const MAX_REDIRECTS: usize = 3;
/// The most body bytes read from one response.
pub(crate) const MAX_BODY: usize = 256 * 1024;
/// The most characters of a page kept for the fingerprints (landing pages, login
/// scripts and portal markers sit at the top).
pub(crate) const MAX_BODY_KEPT: usize = 16 * 1024;
/// The longest header value or title kept as a fact.
const MAX_FACT: usize = 512;

/// The scan's HTTP client.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    user_agent: String,
}

/// A fetch that failed: what reqwest said, and whether the connection had been made
/// (then the request, the ACKs and the close went out as on success).
#[derive(Debug)]
struct FetchError {
    text: String,
    connected: bool,
}

/// One response, as far as it was read.
#[derive(Debug)]
struct Page {
    status: u16,
    version: String,
    headers: HeaderMap,
    body: Vec<u8>,
    body_cut: bool,
}

impl HttpClient {
    pub fn new(tls: &rustls::ClientConfig, user_agent: &str) -> Result<Self, String> {
        let mut tls = tls.clone();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .http1_only()
            .user_agent(user_agent)
            .connect_timeout(STEP_WAIT)
            .timeout(STEP_WAIT * 2)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            client,
            user_agent: user_agent.to_owned(),
        })
    }

    async fn fetch(&self, url: Url) -> Result<Page, FetchError> {
        let mut resp = self.client.get(url).send().await.map_err(|e| FetchError {
            connected: !e.is_connect(),
            text: describe(e),
        })?;
        let mut page = Page {
            status: resp.status().as_u16(),
            version: format!("{:?}", resp.version()),
            headers: resp.headers().clone(),
            body: Vec::new(),
            body_cut: false,
        };
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_BODY - page.body.len();
                    if chunk.len() > room {
                        page.body.extend_from_slice(&chunk[..room]);
                        page.body_cut = true;
                        break;
                    }
                    page.body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    // Headers and part of a body still identify the server.
                    page.body_cut = true;
                    tracing::debug!(error = %describe(e), "HTTP body read failed");
                    break;
                }
            }
        }
        Ok(page)
    }
}

/// reqwest's error with its causes, which say what really failed.
fn describe(e: reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn authority(host: IpAddr, port: u16) -> String {
    match host {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// The next URL of a redirect, if it stays on the scanned address.
fn same_host_redirect(from: &Url, page: &Page, host: IpAddr) -> Result<Option<Url>, String> {
    if !(300..400).contains(&page.status) {
        return Ok(None);
    }
    let Some(location) = page
        .headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let next = from
        .join(location)
        .map_err(|e| format!("redirect to {location:?} is not a URL: {e}"))?;
    let same = match next.host() {
        Some(url::Host::Ipv4(a)) => IpAddr::V4(a) == host,
        Some(url::Host::Ipv6(a)) => IpAddr::V6(a) == host,
        _ => false,
    };
    if same && matches!(next.scheme(), "http" | "https") {
        Ok(Some(next))
    } else {
        Err(format!(
            "redirect to {location:?} leaves the scanned address; not followed"
        ))
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| kenshin_wire::line::printable(v.as_bytes()))
        .collect();
    (!values.is_empty()).then(|| values.join(", ").chars().take(MAX_FACT).collect())
}

/// The request as reqwest sends it, for the evidence.
fn request_text(url: &Url, user_agent: &str) -> Vec<u8> {
    format!(
        "GET {} HTTP/1.1\r\naccept: */*\r\nuser-agent: {user_agent}\r\nhost: {}\r\n\r\n",
        &url[url::Position::BeforePath..],
        url.host_str()
            .map_or_else(String::new, |h| match url.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
    )
    .into_bytes()
}

/// The response, headers re-serialised, for the evidence.
fn response_text(page: &Page) -> Vec<u8> {
    let mut out = format!("{} {}\r\n", page.version, page.status).into_bytes();
    for (name, value) in &page.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&page.body);
    out
}

/// The page's text, decoded by the charset its headers or markup declare.
pub(crate) fn decode_body(content_type: Option<&str>, body: &[u8]) -> String {
    let declared = content_type.and_then(charset_of).or_else(|| {
        let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_ascii_lowercase();
        charset_of(&head)
    });
    let encoding = declared
        .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode_without_bom_handling(body).0.into_owned()
}

fn charset_of(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("charset=")? + "charset=".len();
    let rest = lower[at..].trim_start_matches(['"', '\'']);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_owned())
}

/// The text of the page's `<title>`, whitespace collapsed, basic entities decoded.
pub(crate) fn title_of(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let raw = text.get(start..end)?;
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let decoded = collapsed
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    let t: String = decoded.chars().take(MAX_FACT).collect();
    (!t.is_empty()).then_some(t)
}

/// The frames one plain HTTP fetch sends: SYN, the handshake's ACK, the request,
/// ACKs for the reply, and the FIN and last ACK of the close.
const HTTP_FRAMES: FrameCost = FrameCost {
    now: 1,
    expected: 6,
};
/// The frames one HTTPS fetch sends: those of HTTP, and the ClientHello, the ACKs
/// of the server's flight, the client's Finished and a close_notify.
const HTTPS_FRAMES: FrameCost = FrameCost {
    now: 1,
    expected: 11,
};
/// Segment size assumed for the reply's ACKs (Ethernet's MSS).
const REPLY_MSS: usize = 1448;

impl Prober<'_> {
    /// GET `/` over HTTP or HTTPS. Returns true if the service answered in HTTP.
    pub(crate) async fn http(
        &self,
        cleared: Cleared,
        port: u16,
        tls: bool,
        obs: &mut ServiceObservation,
    ) -> bool {
        let host = cleared.addr();
        let scheme = if tls { "https" } else { "http" };
        let Ok(mut url) = Url::parse(&format!("{scheme}://{}/", authority(host, port))) else {
            return false;
        };
        let mut redirects = Vec::new();
        let mut last = None;
        for hop in 0..=MAX_REDIRECTS {
            // The HTTP client opens its own connection, out of the meter's sight: room
            // is kept for all of its frames before it starts, and the reply's ACKs are
            // counted from its size once it is in.
            let cost = if tls { HTTPS_FRAMES } else { HTTP_FRAMES };
            let Some(admission) = self
                .governor
                .admit_costing(cleared, ProbeKind::Tcp, cost, self.cancel)
                .await
            else {
                break;
            };
            let started = std::time::Instant::now();
            let result = self.clients.http.fetch(url.clone()).await;
            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            match &result {
                Ok(page) => {
                    admission.arrived(cost.expected);
                    let extra = crate::net::segments(page.body.len(), REPLY_MSS);
                    admission.meter().unplanned(extra.saturating_sub(1));
                }
                // A reply that was not HTTP (a telnet server's negotiation, a TLS
                // alert), a timeout, a reset: the connection was made and the request,
                // the ACKs and the close went out all the same.
                Err(e) if e.connected => admission.arrived(cost.expected),
                // No connection: the SYN, and the SYNs the kernel sent again while
                // it waited; the rest of the room kept is released on drop.
                Err(_) => {
                    admission.arrived(crate::net::tcp::syn_retransmissions(started.elapsed()))
                }
            }
            drop(admission);
            let page = match result {
                Ok(p) => p,
                Err(e) => {
                    obs.notes.push(format!("GET {url}: {}", e.text));
                    break;
                }
            };
            let request = request_text(&url, &self.clients.http.user_agent);
            let response = response_text(&page);
            let id = self.evidence.record(Transcript {
                host,
                port: Some(url.port_or_known_default().unwrap_or(port)),
                protocol: Some(Protocol::Tcp),
                probe: if tls { "https-get" } else { "http-get" },
                sent: &request,
                received: &response,
                secrets: &[],
                exchange: &[
                    Segment {
                        direction: Direction::Sent,
                        at_ms: 0.0,
                        bytes: request.len(),
                    },
                    Segment {
                        direction: Direction::Received,
                        at_ms: elapsed_ms,
                        bytes: response.len(),
                    },
                ],
                note: format!(
                    "GET {url}: {} ({} body bytes{}); the exchange as the HTTP client saw it, \
                     headers re-serialised",
                    page.status,
                    page.body.len(),
                    if page.body_cut { ", cut" } else { "" }
                ),
            });
            obs.evidence.push(id);
            let next = same_host_redirect(&url, &page, host);
            last = Some(page);
            match next {
                Ok(Some(next)) if hop < MAX_REDIRECTS => {
                    redirects.push(next.to_string());
                    url = next;
                }
                Ok(_) => break,
                Err(e) => {
                    obs.notes.push(e);
                    break;
                }
            }
        }
        let Some(page) = last else {
            return false;
        };
        obs.detected = Some("http".into());
        if tls {
            obs.tls = true;
        }
        set(obs, "http.status", Fact::Int(page.status.into()));
        for (fact, name) in [
            ("http.server", "server"),
            ("http.www_authenticate", "www-authenticate"),
            ("http.etag", "etag"),
            ("http.last_modified", "last-modified"),
            ("http.content_type", "content-type"),
            ("http.powered_by", "x-powered-by"),
            ("http.location", "location"),
        ] {
            if let Some(v) = header(&page.headers, name) {
                set_text(obs, fact, v);
            }
        }
        let cookies: Vec<String> = page
            .headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split('=').next())
            .map(|n| n.trim().chars().take(64).collect())
            .collect();
        if !cookies.is_empty() {
            set(obs, "http.cookies", Fact::List(cookies));
        }
        if !redirects.is_empty() {
            set(obs, "http.redirects", Fact::List(redirects));
        }
        let ctype = header(&page.headers, "content-type");
        let text = decode_body(ctype.as_deref(), &page.body);
        if let Some(t) = title_of(&text) {
            set_text(obs, "http.title", t);
        }
        if let Some(s) = header(&page.headers, "server") {
            obs.banner.get_or_insert(s);
        }
        // The fingerprints read the head of the page; keeping every body whole would hold
        // up to 256 KiB per web service in memory until the report is written.
        obs.body = Some(text.chars().take(MAX_BODY_KEPT).collect());
        true
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::service::test_prober::Loopback;

    /// GETs `/` from a loopback service that answers with `reply` and closes; the
    /// frames the host was charged, and whether the service spoke HTTP.
    async fn fetch_charged(reply: &'static [u8]) -> (u64, bool) {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(reply).await;
        });
        let lo = Loopback::new();
        let mut obs = ServiceObservation::default();
        let http = lo.prober().http(lo.cleared(), port, false, &mut obs).await;
        server.await.expect("server");
        (lo.governor.tally(lo.cleared().addr()).frames.frames, http)
    }

    #[tokio::test]
    async fn a_fetch_answered_in_something_other_than_http_is_charged_every_frame_of_it() {
        // A telnet server's first words: the connection was made, the request, the ACK
        // of the reply and the close went out, as for a page.
        let (telnet, spoke_http) = fetch_charged(b"\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23").await;
        let (page, _) = fetch_charged(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").await;
        assert!(!spoke_http);
        assert_eq!(telnet, page);
        // SYN, the handshake's ACK, the request, the reply's ACK, the FIN and its ACK.
        assert!(telnet >= 6, "{telnet} frames charged");
    }

    #[test]
    fn titles_are_found_decoded_and_trimmed() {
        assert_eq!(
            title_of("<html><head><TITLE>\n  Web Image Monitor &amp; more </title>"),
            Some("Web Image Monitor & more".into())
        );
        assert_eq!(title_of("<title></title>"), None);
        assert_eq!(title_of("<title>never closed"), None);
    }

    #[test]
    fn shift_jis_pages_are_read_in_their_charset() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("<title>電子カルテ</title>");
        let text = decode_body(Some("text/html; charset=Shift_JIS"), &sjis);
        assert_eq!(title_of(&text), Some("電子カルテ".into()));
        let meta = [b"<meta charset=\"shift_jis\">".as_slice(), &sjis].concat();
        assert_eq!(
            title_of(&decode_body(None, &meta)),
            Some("電子カルテ".into())
        );
    }
}
