//! Who the client is, network-wise: the TCP peer, or — only when the peer is
//! one of the configured proxies (`TRUSTED_PROXIES`) — the address those
//! proxies report in `X-Forwarded-For`.
//!
//! The header is read from the right: each trusted proxy appends the address
//! it received the request from, so the first address from the right that is
//! not a trusted proxy is the client. Whatever the client wrote itself sits
//! further left and is never believed. Without trusted proxies (the default)
//! the header is ignored entirely.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use actix_web::http::header::HeaderMap;

/// One trusted network: an address and the length of its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed: addresses and CIDR
/// networks (`10.0.0.0/8`, `fd00::/8`). Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<Network>,
}

/// A `TRUSTED_PROXIES` entry that is neither an address nor a CIDR network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadProxy(String);

impl fmt::Display for BadProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TRUSTED_PROXIES: '{}' is not an IP address or a CIDR network (e.g. 10.0.0.1, 10.0.0.0/8, fd00::/8)",
            self.0
        )
    }
}

impl std::error::Error for BadProxy {}

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR networks; blank
    /// entries are ignored.
    ///
    /// # Errors
    /// The first entry that is neither.
    pub fn parse(list: &str) -> Result<Self, BadProxy> {
        let mut networks = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || BadProxy(entry.to_owned());
            let (addr, prefix) = match entry.split_once('/') {
                Some((addr, prefix)) => (addr, Some(prefix)),
                None => (entry, None),
            };
            let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
                None => max,
            };
            networks.push(Network { addr, prefix });
        }
        Ok(Self { networks })
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The client of a request that arrived from `peer` with these
    /// `X-Forwarded-For` values (in the order received): `peer` itself
    /// unless it is a trusted proxy; otherwise the rightmost forwarded
    /// address that is not a trusted proxy. An entry that is not an address
    /// stops the walk at the trusted hop that passed it on.
    pub fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let mut client = canonical(peer);
        if !self.contains(client) {
            return client;
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.into_iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }

    /// The client of a request: see [`TrustedProxies::client`]. `None`
    /// without a peer address (not a TCP connection).
    pub fn client_of(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.ip();
        if self.is_empty() {
            return Some(canonical(peer));
        }
        Some(
            self.client(
                peer,
                headers
                    .get_all("x-forwarded-for")
                    .filter_map(|v| v.to_str().ok()),
            ),
        )
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`) as the IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// One `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    let bracketed = hop.strip_prefix('[')?.strip_suffix(']')?;
    bracketed
        .parse::<Ipv6Addr>()
        .ok()
        .map(|v6| canonical(IpAddr::V6(v6)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_addresses_and_networks() {
        let t = TrustedProxies::parse(" 10.0.0.0/8, 192.168.1.7 ,,fd00::/8, ::1").unwrap();
        assert!(t.contains(ip("10.200.3.4")));
        assert!(!t.contains(ip("11.0.0.1")));
        assert!(t.contains(ip("192.168.1.7")));
        assert!(!t.contains(ip("192.168.1.8")));
        assert!(t.contains(ip("fd12::1")));
        assert!(!t.contains(ip("fe80::1")));
        assert!(t.contains(ip("::1")));
        assert!(t.contains(ip("::ffff:10.1.2.3")), "mapped IPv4");
        assert!(TrustedProxies::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("8.8.8.8")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "proxy.local",
            "::/129",
            "1.2.3.4/x",
        ] {
            let err = TrustedProxies::parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("TRUSTED_PROXIES") && err.contains(bad),
                "{err}"
            );
        }
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_trusted() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("203.0.113.5"), ["6.6.6.6"]),
            ip("203.0.113.5")
        );
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(t.client(ip("203.0.113.5"), ["6.6.6.6"]), ip("203.0.113.5"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // the client forged the leftmost entry; the proxy appended the real one
        assert_eq!(
            t.client(ip("10.0.0.2"), ["6.6.6.6, 198.51.100.4"]),
            ip("198.51.100.4")
        );
        // two proxies, headers split over two lines
        assert_eq!(
            t.client(ip("10.0.0.2"), ["6.6.6.6, 198.51.100.4", "10.0.0.9"]),
            ip("198.51.100.4")
        );
        assert_eq!(
            t.client(ip("10.0.0.2"), ["198.51.100.4:5050"]),
            ip("198.51.100.4")
        );
        assert_eq!(
            t.client(ip("10.0.0.2"), ["[2001:db8::1]:80"]),
            ip("2001:db8::1")
        );
        // only proxies: the leftmost
        assert_eq!(t.client(ip("10.0.0.2"), ["10.0.0.3"]), ip("10.0.0.3"));
        // no header: the proxy itself
        assert_eq!(t.client(ip("10.0.0.2"), []), ip("10.0.0.2"));
        // garbage stops the walk at the hop that passed it on
        assert_eq!(
            t.client(ip("10.0.0.2"), ["1.1.1.1, 6.6.6.6\" \"GET /x, 10.0.0.7"]),
            ip("10.0.0.7")
        );
        assert_eq!(t.client(ip("10.0.0.2"), ["unknown"]), ip("10.0.0.2"));
    }

    #[test]
    fn from_request_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            actix_web::http::header::HeaderName::from_static("x-forwarded-for"),
            actix_web::http::header::HeaderValue::from_static("198.51.100.4"),
        );
        let peer = Some(SocketAddr::new(LOOPBACK, 4000));
        assert_eq!(
            TrustedProxies::default().client_of(peer, &headers),
            Some(LOOPBACK)
        );
        let t = TrustedProxies::parse("127.0.0.1").unwrap();
        assert_eq!(t.client_of(peer, &headers), Some(ip("198.51.100.4")));
        assert_eq!(t.client_of(None, &headers), None);
    }
}
