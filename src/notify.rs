//! Milestone notifications: a JSON event with a Slack-compatible `text` to every webhook URL
//! named in `notify.webhooks_env`, with a few quick retries. A dead endpoint never blocks the
//! hotfix path: it is reported, with the URL's path redacted (webhook paths are secrets).

use std::time::Duration;

use serde_json::json;

use crate::config::Config;
use crate::journal::State;
use crate::ui::Ui;

/// `https://hooks.slack.com/services/T000/B000/XXXX` → `https://hooks.slack.com/…`.
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or("");
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            format!("{scheme}://{host}/…")
        }
        None => "(a webhook URL)".to_string(),
    }
}

/// Sends `event` (`started`, `approval-requested`, `approved`, `deploying`, `deployed`,
/// `rolled-back`, `backported`) for `state` to every configured webhook.
pub fn send(
    env: &[(String, String)],
    cfg: &Config,
    ui: &Ui,
    state: &State,
    event: &str,
    text: &str,
) {
    if cfg.notify.webhooks_env.is_empty() {
        return;
    }
    let body = json!({
        "event": event,
        "version": state.version,
        "tag": state.tag,
        "branch": state.branch,
        "incident": state.incident,
        "phase": state.phase.as_str(),
        "text": format!("[hotfix {}] {text}", state.version),
    });
    for var in &cfg.notify.webhooks_env {
        let Some(url) = env
            .iter()
            .find(|(k, v)| k == var && !v.is_empty())
            .map(|(_, v)| v.clone())
        else {
            ui.warn(format!(
                "notify: {var} is not set; no {event} notification sent there"
            ));
            continue;
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(3)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut last = String::new();
        let mut delivered = false;
        for attempt in 0..3 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 * attempt));
            }
            match agent
                .post(&url)
                .header("content-type", "application/json")
                .send(body.to_string())
            {
                Ok(r) if r.status().is_success() => {
                    delivered = true;
                    break;
                }
                Ok(r) => last = format!("HTTP {}", r.status().as_u16()),
                Err(e) => last = e.to_string().replace(&url, &redact(&url)),
            }
        }
        if !delivered {
            ui.warn(format!(
                "notify: {event} could not be delivered to {} ({var}): {last}",
                redact(&url)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_paths_are_redacted() {
        assert_eq!(
            redact("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact("http://user:pw@127.0.0.1:9/x"),
            "http://127.0.0.1:9/…"
        );
    }
}
