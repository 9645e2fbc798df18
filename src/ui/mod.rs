//! Output, progress and prompts: the only module that knows about terminals.
//!
//! Human-readable messages go to stderr (the result of a command to stdout), so that `--json`
//! can own stdout with exactly one JSON object. Progress bars are shown only on a terminal;
//! elsewhere a plain timestamped line is printed instead. Questions are asked only when stdin is
//! a terminal and `--yes` was not given; otherwise they become an error naming the flag.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use console::Style;

use crate::error::{Error, Result};

/// How the user asked to be talked to.
#[derive(Debug, Clone)]
pub struct Ui {
    pub quiet: bool,
    pub verbose: bool,
    pub json: bool,
    pub yes: bool,
    color: bool,
    stderr_tty: bool,
    stdin_tty: bool,
    github_actions: bool,
}

impl Ui {
    pub fn new(quiet: bool, verbose: bool, json: bool, yes: bool, no_color: bool) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = stderr_tty && !no_color && !no_color_env;
        console::set_colors_enabled(color);
        console::set_colors_enabled_stderr(color);
        Ui {
            quiet,
            verbose,
            json,
            yes,
            color,
            stderr_tty,
            stdin_tty: std::io::stdin().is_terminal(),
            github_actions: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
        }
    }

    fn style(&self, s: Style) -> Style {
        if self.color { s } else { Style::new() }
    }

    fn line(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }

    /// A normal progress message ("Fetching origin…"). Hidden by `--quiet`.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            self.line(msg.as_ref());
        }
    }

    /// A finished step, marked as such.
    pub fn done(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            let mark = self.style(Style::new().green()).apply_to("✓");
            self.line(&format!("{mark} {}", msg.as_ref()));
        }
    }

    /// Detail shown only with `--verbose`.
    pub fn detail(&self, msg: impl AsRef<str>) {
        if self.verbose {
            let dim = self.style(Style::new().dim());
            self.line(&dim.apply_to(msg.as_ref()).to_string());
        }
    }

    /// Something the user should know even with `--quiet`.
    pub fn warn(&self, msg: impl AsRef<str>) {
        let w = self
            .style(Style::new().yellow().bold())
            .apply_to("warning:");
        self.line(&format!("{w} {}", msg.as_ref()));
        if self.github_actions {
            println!("::warning::{}", msg.as_ref());
        }
    }

    /// What `--dry-run` would have done.
    pub fn would(&self, msg: impl AsRef<str>) {
        let tag = self.style(Style::new().cyan()).apply_to("[dry-run]");
        self.line(&format!("{tag} {}", msg.as_ref()));
    }

    /// The human result of a command, on stdout (suppressed in `--json` mode).
    pub fn out(&self, msg: impl AsRef<str>) {
        if !self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", msg.as_ref());
        }
    }

    /// An error with its hints, on stderr.
    pub fn error(&self, e: &Error) {
        let red = self.style(Style::new().red().bold());
        self.line(&format!("{} {}", red.apply_to("error:"), e.message));
        for h in &e.hints {
            self.line(&format!(
                "  {} {h}",
                self.style(Style::new().bold()).apply_to("hint:")
            ));
        }
    }

    /// Bold text for headings inside `out`.
    pub fn bold(&self, s: &str) -> String {
        self.style(Style::new().bold()).apply_to(s).to_string()
    }

    /// A spinner for anything that can take more than a second. On a terminal it is an
    /// indicatif spinner; elsewhere a plain timestamped line.
    pub fn progress(&self, msg: impl Into<String>) -> Progress {
        let msg = msg.into();
        if self.quiet || self.json {
            return Progress { bar: None };
        }
        if self.stderr_tty {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_message(msg);
            bar.enable_steady_tick(Duration::from_millis(100));
            Progress { bar: Some(bar) }
        } else {
            self.line(&format!("[{}] {msg}", timestamp()));
            Progress { bar: None }
        }
    }

    /// Asks a yes/no question. Without a terminal (or with `--json`) this is an error naming
    /// `flag`, the flag that answers the question; `--yes` answers yes.
    pub fn confirm(&self, question: &str, flag: &str) -> Result<bool> {
        if self.yes {
            return Ok(true);
        }
        if !self.stdin_tty || self.json {
            return Err(
                Error::usage(format!("{question} — cannot ask without a terminal"))
                    .hint(format!("answer it on the command line with {flag}")),
            );
        }
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(|e| Error::internal(format!("prompt failed: {e}")))
    }
}

impl Ui {
    /// A set of progress lines shown together (one per running command). On a terminal each
    /// line is a spinner; elsewhere each start is a plain timestamped line.
    pub fn group(&self) -> ProgressGroup {
        let multi =
            (self.stderr_tty && !self.quiet && !self.json).then(indicatif::MultiProgress::new);
        ProgressGroup {
            multi,
            ui: self.clone(),
        }
    }
}

/// Several progress lines at once.
pub struct ProgressGroup {
    multi: Option<indicatif::MultiProgress>,
    ui: Ui,
}

impl ProgressGroup {
    pub fn start(&self, msg: impl Into<String>) -> Progress {
        let msg = msg.into();
        match &self.multi {
            Some(m) => {
                let bar = m.add(indicatif::ProgressBar::new_spinner());
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                bar.set_message(msg);
                bar.enable_steady_tick(Duration::from_millis(100));
                Progress { bar: Some(bar) }
            }
            None => {
                if !self.ui.quiet && !self.ui.json {
                    self.ui.line(&format!("[{}] {msg}", timestamp()));
                }
                Progress { bar: None }
            }
        }
    }

    /// Prints a line above the spinners (or plainly).
    pub fn println(&self, msg: impl AsRef<str>) {
        if self.ui.quiet {
            return;
        }
        match &self.multi {
            Some(m) => {
                let _ = m.println(msg.as_ref());
            }
            None => self.ui.line(msg.as_ref()),
        }
    }
}

/// A running progress indicator; finishing it clears the line.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Now as RFC 3339 with seconds, UTC.
pub fn timestamp() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
