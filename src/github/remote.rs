//! Which GitHub repository and API a checkout talks to, and where the token comes from.

use crate::error::{Error, Result};

/// `owner/name` on a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoId {
    pub host: Option<String>,
    pub owner: String,
    pub name: String,
}

impl RepoId {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// Parses a remote URL: `https://host/owner/name(.git)`, `ssh://[user@]host[:port]/owner/name`,
/// `user@host:owner/name`. Local paths and other shapes give `None`.
pub fn parse_remote_url(url: &str) -> Option<RepoId> {
    let url = url.trim();
    let (host, path) = if let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .or_else(|| url.strip_prefix("ssh://"))
        .or_else(|| url.strip_prefix("git://"))
    {
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = host.split_once(':').map_or(host, |(h, _)| h);
        (host.to_string(), path)
    } else if let Some((left, path)) = url.split_once(':') {
        // scp-like: git@github.com:owner/name.git (but not C:\… or a path with a colon later)
        if left.contains('/') || path.starts_with("//") {
            return None;
        }
        let host = left.rsplit_once('@').map_or(left, |(_, h)| h);
        (host.to_string(), path)
    } else {
        return None;
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let mut parts = path.rsplitn(2, '/');
    let name = parts.next()?.to_string();
    let owner = parts.next()?.rsplit('/').next()?.to_string();
    if owner.is_empty() || name.is_empty() || host.is_empty() {
        return None;
    }
    Some(RepoId {
        host: Some(host),
        owner,
        name,
    })
}

/// The API base URL: configured, else `$GITHUB_API_URL`, else from the remote's host
/// (`github.com` → `https://api.github.com`, GitHub Enterprise → `https://HOST/api/v3`).
pub fn api_url(configured: Option<&str>, env: Option<&str>, host: Option<&str>) -> String {
    if let Some(u) = configured.or(env).filter(|u| !u.is_empty()) {
        return u.trim_end_matches('/').to_string();
    }
    match host {
        Some(h) if h != "github.com" && h != "www.github.com" => format!("https://{h}/api/v3"),
        _ => "https://api.github.com".to_string(),
    }
}

/// A token and the name of where it came from (never the value, in any message).
#[derive(Clone)]
pub struct Token {
    pub value: String,
    pub source: String,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token(from {})", self.source)
    }
}

/// `GH_TOKEN`, then `GITHUB_TOKEN`, then `gh auth token`.
pub fn find_token(env: &[(String, String)], host: Option<&str>) -> Result<Token> {
    for var in crate::exec::TOKEN_VARS {
        if let Some((_, v)) = env.iter().find(|(k, v)| k == var && !v.trim().is_empty()) {
            return Ok(Token {
                value: v.trim().to_string(),
                source: var.to_string(),
            });
        }
    }
    let mut cmd = std::process::Command::new("gh");
    cmd.args(["auth", "token"]);
    if let Some(h) = host {
        cmd.args(["--hostname", h]);
    }
    if let Ok(out) = cmd.stdin(std::process::Stdio::null()).output()
        && out.status.success()
    {
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !v.is_empty() {
            return Ok(Token {
                value: v,
                source: "`gh auth token`".into(),
            });
        }
    }
    Err(Error::precondition(
        "no GitHub token: GH_TOKEN and GITHUB_TOKEN are unset and `gh auth token` gave none",
    )
    .hint("export GH_TOKEN=<a token with repo scope>, or log in with: gh auth login"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(host: &str, owner: &str, name: &str) -> Option<RepoId> {
        Some(RepoId {
            host: Some(host.into()),
            owner: owner.into(),
            name: name.into(),
        })
    }

    #[test]
    fn remote_urls_of_every_form_are_understood() {
        assert_eq!(
            parse_remote_url("https://github.com/acme/claims.git"),
            id("github.com", "acme", "claims")
        );
        assert_eq!(
            parse_remote_url("https://user:pw@github.com/acme/claims"),
            id("github.com", "acme", "claims")
        );
        assert_eq!(
            parse_remote_url("git@github.com:acme/claims.git"),
            id("github.com", "acme", "claims")
        );
        assert_eq!(
            parse_remote_url("ssh://git@ghe.example.com:2222/acme/claims.git"),
            id("ghe.example.com", "acme", "claims")
        );
        assert_eq!(
            parse_remote_url("https://ghe.example.com/scm/acme/claims/"),
            id("ghe.example.com", "acme", "claims")
        );
        assert_eq!(parse_remote_url("/srv/git/origin.git"), None);
        assert_eq!(parse_remote_url("../origin.git"), None);
        assert_eq!(parse_remote_url("https://github.com/"), None);
    }

    #[test]
    fn the_api_url_follows_the_host() {
        assert_eq!(
            api_url(None, None, Some("github.com")),
            "https://api.github.com"
        );
        assert_eq!(
            api_url(None, None, Some("ghe.acme.io")),
            "https://ghe.acme.io/api/v3"
        );
        assert_eq!(
            api_url(None, Some("https://env/api/"), Some("ghe.acme.io")),
            "https://env/api"
        );
        assert_eq!(
            api_url(Some("http://127.0.0.1:9"), Some("https://env"), None),
            "http://127.0.0.1:9"
        );
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let t = Token {
            value: "secret-value".into(),
            source: "GH_TOKEN".into(),
        };
        assert_eq!(format!("{t:?}"), "Token(from GH_TOKEN)");
    }
}
