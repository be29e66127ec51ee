//! Which `Host` a request may name: the defence against DNS rebinding.
//!
//! A web page can make a developer's browser send requests to kinesd on 127.0.0.1 under a
//! name the page's author controls (`evil.example.com`, rebound to 127.0.0.1 after the page
//! loaded). Such a request is same-origin for the browser, so nothing else stops it from
//! reading or deleting streams. The browser still sends the attacker's name in `Host`, which
//! is what this check refuses.
//!
//! Allowed: `localhost` and any `*.localhost` name, every IP address literal (rebinding needs
//! a name, so an address cannot be forged this way), the names the TLS certificate was made
//! for, and the names the operator allows (`--allowed-host`, `*.suffix` for a whole domain).
//! `--allow-any-host` turns the check off. A request without any host (HTTP/1.0) is allowed:
//! browsers always send one.

use std::net::IpAddr;

/// The hosts a server answers to (see the module doc).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    /// Serve whatever `Host` a request names.
    pub any: bool,
    /// Names allowed besides the loopback ones; `*.example.com` allows every subdomain.
    pub names: Vec<String>,
}

impl HostPolicy {
    /// Whether a request naming `host` (a `Host` header or HTTP/2 `:authority`, with or
    /// without a port) is served.
    pub fn allows(&self, host: Option<&str>) -> bool {
        if self.any {
            return true;
        }
        let Some(host) = host else { return true };
        let name = hostname(host);
        if name.is_empty() {
            return false;
        }
        if name.parse::<IpAddr>().is_ok() {
            return true;
        }
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        self.names.iter().any(|allowed| matches(allowed, &name))
    }

    /// The 403 message for a refused host, telling the operator how to allow it.
    pub fn refusal(host: &str) -> String {
        let name = hostname(host);
        format!(
            "Host '{name}' is not allowed (a defence against DNS rebinding); \
             start kinesd with --allowed-host {name} to serve it"
        )
    }
}

/// The name part of a host: without the port, and without brackets around an IPv6 address.
fn hostname(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match host.rsplit_once(':') {
        // One colon: name:port. More: an unbracketed IPv6 address, kept whole.
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

fn matches(allowed: &str, name: &str) -> bool {
    let allowed = allowed.trim().trim_end_matches('.');
    match allowed.strip_prefix("*.") {
        Some(domain) => name
            .strip_suffix(&domain.to_ascii_lowercase())
            .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
        None => allowed.eq_ignore_ascii_case(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(names: &[&str]) -> HostPolicy {
        HostPolicy {
            any: false,
            names: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    #[test]
    fn loopback_names_and_addresses_are_allowed() {
        let p = policy(&[]);
        for host in [
            "localhost",
            "localhost:4567",
            "LOCALHOST.",
            "kinesis.localhost:4567",
            "127.0.0.1:4567",
            "127.1.2.3",
            "[::1]:4567",
            "::1",
            "10.0.0.5:4567",
        ] {
            assert!(p.allows(Some(host)), "{host}");
        }
        assert!(p.allows(None));
    }

    #[test]
    fn other_names_are_refused_unless_allowed() {
        let p = policy(&["kinesd", "*.internal.example"]);
        for host in [
            "evil.example.com",
            "evil.example.com:4567",
            "localhost.evil.example.com",
            "internal.example",
            "kinesd.evil",
            "",
            ":4567",
        ] {
            assert!(!p.allows(Some(host)), "{host}");
        }
        for host in [
            "kinesd",
            "KINESD:4567",
            "a.internal.example",
            "b.a.internal.example:1",
        ] {
            assert!(p.allows(Some(host)), "{host}");
        }
        let any = HostPolicy {
            any: true,
            names: vec![],
        };
        assert!(any.allows(Some("evil.example.com")));
    }

    #[test]
    fn the_refusal_names_the_flag() {
        assert_eq!(
            HostPolicy::refusal("evil.example.com:4567"),
            "Host 'evil.example.com' is not allowed (a defence against DNS rebinding); \
             start kinesd with --allowed-host evil.example.com to serve it"
        );
    }
}
