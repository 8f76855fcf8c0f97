//! Fetching the page of a knowledge item of kind `url` (the background job's first step): http
//! and https only, a total timeout, a few redirects, a response no larger than the body limit,
//! text only (HTML reduced to text by [`crate::html`]). Every failure is a reason the item records.
//!
//! The SSRF guard: unless [`FetchConfig::allow_private`], a URL whose host is, or resolves
//! only to, a loopback, private, link-local, shared, multicast or unspecified address is
//! refused — checked where the connection is made (the resolver filters the addresses, so a
//! name that resolves differently on a second look gains nothing) and on every redirect.

use std::error::Error as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::CONTENT_TYPE;
use reqwest::redirect::{Attempt, Policy};
use reqwest::{Client, Url};

use crate::html;

/// How URLs are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchConfig {
    /// Largest response body in bytes (the server's body limit).
    pub max_bytes: usize,
    /// Time for the whole fetch: connecting, redirects and the body.
    pub timeout: Duration,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// Allow loopback, private and link-local addresses (off by default: SSRF).
    pub allow_private: bool,
}

/// A fetched page, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The text (HTML reduced to text).
    pub text: String,
    /// The response's media type (`text/html`, …).
    pub content_type: String,
}

/// An HTTP client that fetches knowledge URLs under [`FetchConfig`]'s rules.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: Client,
    config: FetchConfig,
}

impl Fetcher {
    /// A fetcher with `config`; fails only when the HTTP client cannot be built.
    pub fn new(config: FetchConfig) -> Result<Self, String> {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Err means another thread installed a provider meanwhile, which is as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let (allow_private, max_redirects) = (config.allow_private, config.max_redirects);
        let client = Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .no_proxy()
            .user_agent(concat!("nexus/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(GuardedResolver { allow_private })
            .redirect(Policy::custom(move |attempt: Attempt<'_>| {
                if attempt.previous().len() > max_redirects {
                    return attempt.error(format!("more than {max_redirects} redirects"));
                }
                match check_url(attempt.url(), allow_private) {
                    Ok(()) => attempt.follow(),
                    Err(reason) => attempt.error(format!("redirect refused: {reason}")),
                }
            }))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", chain(&e)))?;
        Ok(Self { client, config })
    }

    /// Fetches `url` and returns its text, or why it cannot.
    pub async fn fetch(&self, url: &str) -> Result<Page, String> {
        let url = parse_url(url)?;
        check_url(&url, self.config.allow_private)?;
        let mut response = self.client.get(url).send().await.map_err(|e| chain(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the server answered {status}"));
        }
        let media = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        let kind = TextKind::of(media.as_deref())?;
        let limit = self.config.max_bytes;
        if response.content_length().is_some_and(|len| len > limit as u64) {
            return Err(format!("the page is larger than {limit} bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| chain(&e))? {
            if body.len() + chunk.len() > limit {
                return Err(format!("the page is larger than {limit} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let text = match kind {
            TextKind::Html => html::to_text(body).await?,
            TextKind::Plain => {
                String::from_utf8(body).map_err(|_| "the page is not UTF-8 text".to_owned())?
            }
        };
        if text.trim().is_empty() {
            return Err("the page has no text".to_owned());
        }
        Ok(Page { text, content_type: media.unwrap_or_else(|| "text/plain".to_owned()) })
    }
}

/// How a response's body becomes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextKind {
    /// HTML, reduced to text.
    Html,
    /// Text as it is (plain, Markdown, CSV, JSON, XML…).
    Plain,
}

impl TextKind {
    /// The kind of a media type; anything but text is refused. No media type: plain text
    /// (a body that is not UTF-8 is refused later).
    fn of(media: Option<&str>) -> Result<Self, String> {
        match media {
            Some("text/html" | "application/xhtml+xml") => Ok(Self::Html),
            None => Ok(Self::Plain),
            Some(m)
                if m.starts_with("text/")
                    || matches!(m, "application/json" | "application/xml")
                    || m.ends_with("+json")
                    || m.ends_with("+xml") =>
            {
                Ok(Self::Plain)
            }
            Some(m) => Err(format!("not a text page (content type {m})")),
        }
    }
}

/// `text` as an http or https URL, or why it is not one.
pub fn parse_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("invalid URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(format!("only http and https URLs are fetched, not {other}")),
    }
    if url.host().is_none() {
        return Err("the URL has no host".to_owned());
    }
    Ok(url)
}

/// Refuses a URL of another scheme, or whose host is an address the guard refuses (names are
/// checked by the resolver, where the connection is made).
fn check_url(url: &Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("only http and https URLs are fetched, not {}", url.scheme()));
    }
    let host = url.host_str().ok_or_else(|| "the URL has no host".to_owned())?;
    let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else {
        return Ok(());
    };
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(format!("{ip} is a loopback, private or link-local address (refused)"))
    }
}

/// Resolves names with the system resolver and keeps only the addresses the guard allows.
#[derive(Debug, Clone, Copy)]
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> =
                found.iter().copied().filter(|a| allow_private || is_public(a.ip())).collect();
            if kept.is_empty() {
                let reason = if found.is_empty() {
                    format!("{host} has no address")
                } else {
                    format!("{host} resolves to a loopback, private or link-local address (refused)")
                };
                return Err(reason.into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// True for a globally routable address: not loopback, private, link-local, shared (CGNAT),
/// unique-local, multicast, broadcast, documentation or unspecified (IPv4-mapped IPv6
/// addresses are judged as their IPv4 address).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

/// An error and its sources, one sentence.
fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    if error.is_timeout() && !text.contains("timed out") {
        text.push_str(" (timed out)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_globally_routable_addresses_are_public() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = refused.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(!is_public(ip), "{refused} should be refused");
        }
        for allowed in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            let ip: IpAddr = allowed.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(is_public(ip), "{allowed} should be allowed");
        }
    }

    #[test]
    fn urls_are_http_or_https_with_a_host() {
        assert!(parse_url("https://example.com/a").is_ok());
        assert!(parse_url("ftp://example.com/a").is_err());
        assert!(parse_url("file:///etc/passwd").is_err());
        assert!(parse_url("not a url").is_err());
        let refused = parse_url("http://[::1]:8080/").and_then(|u| check_url(&u, false));
        assert!(refused.is_err_and(|e| e.contains("refused")));
        assert!(parse_url("http://127.0.0.1/").and_then(|u| check_url(&u, true)).is_ok());
    }

    #[test]
    fn only_text_media_types_are_read() {
        assert_eq!(TextKind::of(Some("text/html")), Ok(TextKind::Html));
        assert_eq!(TextKind::of(Some("text/markdown")), Ok(TextKind::Plain));
        assert_eq!(TextKind::of(Some("application/ld+json")), Ok(TextKind::Plain));
        assert_eq!(TextKind::of(None), Ok(TextKind::Plain));
        assert!(TextKind::of(Some("image/png")).is_err());
        assert!(TextKind::of(Some("application/pdf")).is_err());
    }
}
