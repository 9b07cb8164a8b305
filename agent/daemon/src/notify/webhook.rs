//! Webhooks: the notification JSON POSTed to an operator's URL, with a timeout per
//! attempt and retries with doubling back-off on connection errors, timeouts, 429
//! and 5xx. Other answers (a 4xx) are permanent and not retried; redirects are not
//! followed.

use std::time::Duration;

use super::Notification;
use super::Webhook;

/// First pause between attempts; it doubles, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The system's CA bundle, for https webhooks.
fn roots() -> Vec<reqwest::Certificate> {
    let path = std::env::var_os("SSL_CERT_FILE").map_or_else(
        || "/etc/ssl/certs/ca-certificates.crt".into(),
        std::path::PathBuf::from,
    );
    std::fs::read(&path)
        .ok()
        .and_then(|pem| reqwest::Certificate::from_pem_bundle(&pem).ok())
        .unwrap_or_default()
}

fn client(hook: &Webhook) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .timeout(hook.timeout)
        .connect_timeout(hook.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("kenshin/", env!("CARGO_PKG_VERSION")));
    for c in roots() {
        b = b.add_root_certificate(c);
    }
    b.build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// POSTs `n`; returns how many attempts it took.
pub async fn send(hook: &Webhook, n: &Notification) -> Result<u32, String> {
    let body = serde_json::to_vec(n).map_err(|e| format!("cannot encode the notification: {e}"))?;
    let client = client(hook)?;
    let mut backoff = FIRST_BACKOFF;
    let attempts = hook.retries + 1;
    let mut last = String::new();
    for attempt in 1..=attempts {
        let mut req = client
            .post(hook.url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .body(body.clone());
        for (k, v) in &hook.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        match req.send().await {
            Ok(resp) if resp.status().is_success() => return Ok(attempt),
            Ok(resp) => {
                let status = resp.status();
                last = format!("HTTP {status}");
                if !(status.is_server_error() || status.as_u16() == 429) {
                    return Err(format!("{last} (not retried)"));
                }
            }
            Err(e) => {
                last = if e.is_timeout() {
                    format!("no answer within {} s", hook.timeout.as_secs())
                } else {
                    format!("{:#}", anyhow::Error::from(e))
                };
            }
        }
        if attempt < attempts {
            tracing::debug!(url = %hook.url, attempt, "webhook failed ({last}); retrying in {} s", backoff.as_secs());
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
    Err(format!("{last} after {attempts} attempts"))
}
