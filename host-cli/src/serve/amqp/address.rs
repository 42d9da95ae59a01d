//! `--queue amqp://host[:port][/vhost]`: where the broker is. Credentials never sit in
//! the URL (it is shown in logs and messages); they come from the environment.

use std::fmt;

/// The variables the broker's user and password come from.
pub const USER_ENV: &str = "TMBRIDGE_AMQP_USER";
pub const PASSWORD_ENV: &str = "TMBRIDGE_AMQP_PASSWORD";

#[derive(Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    pub host: String,
    pub port: u16,
    pub vhost: String,
    pub user: String,
    pub password: String,
}

impl fmt::Debug for BrokerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// The address without its credentials: safe to show.
impl fmt::Display for BrokerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let vhost = if self.vhost == "/" {
            String::new()
        } else {
            format!("/{}", self.vhost.replace('%', "%25").replace('/', "%2F"))
        };
        write!(f, "amqp://{host}:{}{vhost}", self.port)
    }
}

const HOW: &str =
    "give it as amqp://HOST[:PORT][/VHOST], e.g. amqp://rabbitmq.internal:5672/tmbridge";

impl BrokerAddress {
    /// Reads `--queue`; the user and password come from `user` and `password` (the
    /// environment), `guest`/`guest` when unset (RabbitMQ's default, loopback only).
    pub fn parse(
        url: &str,
        user: Option<String>,
        password: Option<String>,
    ) -> Result<Self, String> {
        let url = url.trim();
        let rest = if let Some(rest) = strip_scheme(url, "amqp://") {
            rest
        } else if strip_scheme(url, "amqps://").is_some() {
            return Err(format!(
                "queue.tls_unsupported: amqps:// is not supported yet; reach the broker over a private network or a TLS tunnel with amqp://, {HOW}"
            ));
        } else {
            return Err(format!(
                "queue.bad_url: --queue {url:?} is not an AMQP URL; {HOW}"
            ));
        };
        if rest.contains(['?', '#']) {
            return Err(format!(
                "queue.bad_url: --queue takes no query or fragment; {HOW}"
            ));
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.contains('@') {
            return Err(format!(
                "config.credentials_in_url: --queue must not hold a user or password (URLs are shown in logs); put them in {USER_ENV} and {PASSWORD_ENV}"
            ));
        }
        let (host, port) = split_host_port(authority)
            .ok_or_else(|| format!("queue.bad_url: no host or a bad port in --queue; {HOW}"))?;
        let vhost = match path {
            "" => "/".to_string(),
            p => percent_decode(p).ok_or_else(|| {
                format!("queue.bad_url: the virtual host {p:?} is not valid percent-encoding")
            })?,
        };
        Ok(BrokerAddress {
            host,
            port,
            vhost,
            user: user.unwrap_or_else(|| "guest".into()),
            password: password.unwrap_or_else(|| "guest".into()),
        })
    }

    /// Reads `--queue` with the credentials from the environment.
    pub fn from_env(url: &str) -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self::parse(url, var(USER_ENV), var(PASSWORD_ENV))
    }
}

fn strip_scheme<'a>(url: &'a str, scheme: &str) -> Option<&'a str> {
    let head = url.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &url[scheme.len()..])
}

fn split_host_port(authority: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None => 5672,
        Some(p) => p.parse().ok().filter(|p| *p > 0)?,
    };
    Some((host.to_string(), port))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_and_shown_without_credentials() {
        let a = BrokerAddress::parse(
            "amqp://mq.internal:5673/%2Fci",
            Some("bob".into()),
            Some("pw-s3cret".into()),
        )
        .unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.vhost.as_str()),
            ("mq.internal", 5673, "/ci")
        );
        assert_eq!(a.to_string(), "amqp://mq.internal:5673/%2Fci");
        assert!(!format!("{a:?}").contains("pw-s3cret"));
        let d = BrokerAddress::parse("AMQP://[::1]", None, None).unwrap();
        assert_eq!(
            (d.host.as_str(), d.port, d.vhost.as_str(), d.user.as_str()),
            ("::1", 5672, "/", "guest")
        );
        assert_eq!(d.to_string(), "amqp://[::1]:5672");
    }

    #[test]
    fn credentials_tls_and_garbage_are_refused_with_a_way_out() {
        let e = BrokerAddress::parse("amqp://bob:s3cret@mq:5672", None, None).unwrap_err();
        assert!(e.starts_with("config.credentials_in_url"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
        assert!(
            BrokerAddress::parse("amqps://mq", None, None)
                .unwrap_err()
                .starts_with("queue.tls_unsupported")
        );
        for bad in [
            "http://mq",
            "amqp://",
            "amqp://mq:0",
            "amqp://mq:x",
            "amqp://mq/?a=1",
            "amqp://mq/%zz",
        ] {
            let e = BrokerAddress::parse(bad, None, None).unwrap_err();
            assert!(e.starts_with("queue.bad_url"), "{bad}: {e}");
        }
    }
}
