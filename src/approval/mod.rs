//! The approval policy: a pure function from what GitHub says about a pull request to whether
//! the fix may be merged, with a reason for every review that does or does not count.
//!
//! A review counts only if it is the reviewer's latest non-comment review, `APPROVED`, on the
//! current head commit, submitted after that head was pushed (at GitHub's one-second
//! resolution), within `expires_after`, and by nobody who wrote the fix: not the PR author, not
//! an author or committer of any commit in the PR, not whoever pushed the head.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// The gate, from the configuration (already tightened by the safety-gate floor).
#[derive(Debug, Clone)]
pub struct Policy {
    pub min_approvals: u32,
    /// Users, or `org/team` for any member of that team.
    pub required_reviewers: Vec<String>,
    pub expires_after: Duration,
    pub required_checks: Vec<String>,
}

/// A review as GitHub reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub id: u64,
    pub login: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
    pub commit_id: Option<String>,
    pub submitted_at: Option<SystemTime>,
}

/// The state of a required status context or check run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    Success,
    Pending,
    Failure,
}

/// Everything the decision depends on.
#[derive(Debug, Clone)]
pub struct Facts {
    pub head_sha: String,
    pub head_pushed_at: SystemTime,
    pub now: SystemTime,
    pub pr_author: String,
    /// Logins of the authors and committers of the PR's commits.
    pub commit_people: BTreeSet<String>,
    /// Who pushed the head, when known.
    pub pusher: Option<String>,
    pub reviews: Vec<Review>,
    /// `org/team` → member logins, for team entries in `required_reviewers`.
    pub teams: BTreeMap<String, BTreeSet<String>>,
    /// Context or check-run name → state, on the head commit.
    pub checks: BTreeMap<String, CheckState>,
}

/// One reviewer's latest review and whether it counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judged {
    pub login: String,
    pub state: String,
    pub commit: Option<String>,
    pub submitted_at: Option<String>,
    pub counts: bool,
    pub reason: String,
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub approved: bool,
    /// A reviewer's latest review requests changes on the current head: not approved (exit 4).
    pub changes_requested: Option<String>,
    pub reviews: Vec<Judged>,
    pub counted: Vec<String>,
    /// Why it is not approved yet, one line each.
    pub waiting_for: Vec<String>,
    /// When the newest counted approval was submitted (deploys must start within
    /// `expires_after` of it).
    #[serde(skip)]
    pub last_counted_at: Option<SystemTime>,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Decides whether the pull request is approved under `policy`.
pub fn evaluate(policy: &Policy, f: &Facts) -> Verdict {
    let lower = |s: &str| s.to_ascii_lowercase();
    let author = lower(&f.pr_author);
    let people: BTreeSet<String> = f.commit_people.iter().map(|s| lower(s)).collect();
    let pusher = f.pusher.as_deref().map(lower);

    // The latest non-comment review of each reviewer, in submission order.
    let mut latest: BTreeMap<String, &Review> = BTreeMap::new();
    let mut ordered: Vec<&Review> = f
        .reviews
        .iter()
        .filter(|r| {
            matches!(
                r.state.as_str(),
                "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED"
            )
        })
        .collect();
    ordered.sort_by_key(|r| (r.submitted_at.map(secs).unwrap_or(0), r.id));
    for r in ordered {
        latest.insert(lower(&r.login), r);
    }

    let mut judged = Vec::new();
    let mut counted = Vec::new();
    let mut changes_requested = None;
    let mut last_counted_at: Option<SystemTime> = None;
    for (login, r) in &latest {
        let on_head = r.commit_id.as_deref() == Some(f.head_sha.as_str());
        let commit = r.commit_id.clone();
        let (counts, reason) = match r.state.as_str() {
            "CHANGES_REQUESTED" if on_head => {
                changes_requested.get_or_insert_with(|| {
                    format!("{} requested changes on the current head", r.login)
                });
                (false, "requested changes on the current head".to_string())
            }
            "CHANGES_REQUESTED" => (
                false,
                format!(
                    "requested changes on an older commit {} (stale; not blocking)",
                    commit.as_deref().map(short).unwrap_or("?")
                ),
            ),
            "DISMISSED" => (false, "review dismissed".to_string()),
            _ => {
                let submitted = r.submitted_at;
                if *login == author {
                    (false, "is the author of the pull request".into())
                } else if people.contains(login) {
                    (
                        false,
                        "wrote or committed a commit in the pull request".into(),
                    )
                } else if pusher.as_deref() == Some(login.as_str()) {
                    (false, "pushed the head commit".into())
                } else if !on_head {
                    (
                        false,
                        format!(
                            "approved an older commit {}, not the head {}",
                            commit.as_deref().map(short).unwrap_or("?"),
                            short(&f.head_sha)
                        ),
                    )
                } else if submitted.is_none_or(|s| secs(s) < secs(f.head_pushed_at)) {
                    (false, "approved before the head was pushed".into())
                } else if submitted.is_some_and(|s| {
                    f.now.duration_since(s).unwrap_or_default() > policy.expires_after
                }) {
                    (
                        false,
                        format!(
                            "approval expired (older than {})",
                            humantime::format_duration(policy.expires_after)
                        ),
                    )
                } else {
                    (true, "approved the head".into())
                }
            }
        };
        if counts {
            counted.push(r.login.clone());
            last_counted_at = last_counted_at.max(r.submitted_at);
        }
        judged.push(Judged {
            login: r.login.clone(),
            state: r.state.clone(),
            commit,
            submitted_at: r.submitted_at.map(rfc3339),
            counts,
            reason,
        });
    }

    let mut waiting_for = Vec::new();
    let counted_lower: BTreeSet<String> = counted.iter().map(|s| lower(s)).collect();
    if (counted.len() as u32) < policy.min_approvals {
        waiting_for.push(format!(
            "{} of {} required approval(s)",
            counted.len(),
            policy.min_approvals
        ));
    }
    for req in &policy.required_reviewers {
        let ok = if req.contains('/') {
            f.teams
                .get(&lower(req))
                .or_else(|| f.teams.get(req))
                .is_some_and(|members| members.iter().any(|m| counted_lower.contains(&lower(m))))
        } else {
            counted_lower.contains(&lower(req))
        };
        if !ok {
            waiting_for.push(if req.contains('/') {
                format!("an approval from a member of {req}")
            } else {
                format!("an approval from {req} (required reviewer)")
            });
        }
    }
    for check in &policy.required_checks {
        match f.checks.get(check) {
            Some(CheckState::Success) => {}
            Some(CheckState::Pending) => waiting_for.push(format!("check {check:?} is pending")),
            Some(CheckState::Failure) => waiting_for.push(format!("check {check:?} failed")),
            None => waiting_for.push(format!("check {check:?} has not reported on the head")),
        }
    }
    if let Some(c) = &changes_requested {
        waiting_for.insert(0, c.clone());
    }
    Verdict {
        approved: waiting_for.is_empty(),
        changes_requested,
        reviews: judged,
        counted,
        waiting_for,
        last_counted_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const OLD: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn t(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
    }

    fn policy(min: u32) -> Policy {
        Policy {
            min_approvals: min,
            required_reviewers: vec![],
            expires_after: Duration::from_secs(4 * 3600),
            required_checks: vec![],
        }
    }

    fn facts(reviews: Vec<Review>) -> Facts {
        Facts {
            head_sha: HEAD.into(),
            head_pushed_at: t(100),
            now: t(200),
            pr_author: "fixer".into(),
            commit_people: ["fixer".to_string(), "pair".to_string()].into(),
            pusher: Some("pusher".into()),
            reviews,
            teams: BTreeMap::new(),
            checks: BTreeMap::new(),
        }
    }

    fn review(id: u64, login: &str, state: &str, commit: &str, at: u64) -> Review {
        Review {
            id,
            login: login.into(),
            state: state.into(),
            commit_id: Some(commit.into()),
            submitted_at: Some(t(at)),
        }
    }

    fn approve(id: u64, login: &str) -> Review {
        review(id, login, "APPROVED", HEAD, 150)
    }

    #[test]
    fn two_approvals_on_the_head_approve() {
        let v = evaluate(
            &policy(2),
            &facts(vec![approve(1, "alice"), approve(2, "bob")]),
        );
        assert!(v.approved, "{v:?}");
        assert_eq!(v.counted, ["alice", "bob"]);
        assert_eq!(v.last_counted_at, Some(t(150)));
    }

    #[test]
    fn one_approval_is_not_two() {
        let v = evaluate(&policy(2), &facts(vec![approve(1, "alice")]));
        assert!(!v.approved);
        assert_eq!(v.waiting_for, ["1 of 2 required approval(s)"]);
    }

    #[test]
    fn an_approval_on_an_older_head_does_not_count() {
        let v = evaluate(
            &policy(1),
            &facts(vec![review(1, "alice", "APPROVED", OLD, 150)]),
        );
        assert!(!v.approved);
        assert!(
            v.reviews[0].reason.contains("older commit bbbbbbb"),
            "{v:?}"
        );
    }

    #[test]
    fn an_approval_before_the_head_was_pushed_does_not_count() {
        let v = evaluate(
            &policy(1),
            &facts(vec![review(1, "alice", "APPROVED", HEAD, 99)]),
        );
        assert!(!v.approved);
        assert_eq!(v.reviews[0].reason, "approved before the head was pushed");
    }

    #[test]
    fn the_same_second_as_the_push_counts_as_after() {
        let v = evaluate(
            &policy(1),
            &facts(vec![review(1, "alice", "APPROVED", HEAD, 100)]),
        );
        assert!(v.approved, "{v:?}");
        let mut f = facts(vec![review(1, "alice", "APPROVED", HEAD, 100)]);
        f.head_pushed_at = t(100) + Duration::from_millis(900);
        assert!(evaluate(&policy(1), &f).approved);
    }

    #[test]
    fn an_expired_approval_does_not_count() {
        let mut f = facts(vec![approve(1, "alice")]);
        f.now = t(150 + 4 * 3600 + 1);
        let v = evaluate(&policy(1), &f);
        assert!(!v.approved);
        assert!(v.reviews[0].reason.contains("expired"), "{v:?}");
        f.now = t(150 + 4 * 3600);
        assert!(
            evaluate(&policy(1), &f).approved,
            "exactly at the limit still counts"
        );
    }

    #[test]
    fn nobody_who_wrote_the_fix_counts() {
        for who in ["fixer", "FIXER", "pair", "pusher"] {
            let v = evaluate(&policy(1), &facts(vec![approve(1, who)]));
            assert!(!v.approved, "{who} must not count");
            assert!(!v.reviews[0].counts);
        }
    }

    #[test]
    fn changes_requested_on_the_head_blocks() {
        let v = evaluate(
            &policy(1),
            &facts(vec![
                approve(1, "alice"),
                review(2, "bob", "CHANGES_REQUESTED", HEAD, 160),
            ]),
        );
        assert!(!v.approved);
        assert_eq!(
            v.changes_requested.as_deref(),
            Some("bob requested changes on the current head")
        );
    }

    #[test]
    fn changes_requested_on_an_older_head_is_only_reported() {
        let v = evaluate(
            &policy(1),
            &facts(vec![
                approve(1, "alice"),
                review(2, "bob", "CHANGES_REQUESTED", OLD, 90),
            ]),
        );
        assert!(v.approved, "{v:?}");
        assert!(v.changes_requested.is_none());
        assert!(v.reviews.iter().any(|r| r.reason.contains("stale")));
    }

    #[test]
    fn only_the_latest_non_comment_review_of_a_reviewer_counts() {
        // Approved, then requested changes: blocked.
        let v = evaluate(
            &policy(1),
            &facts(vec![
                approve(1, "alice"),
                review(2, "alice", "CHANGES_REQUESTED", HEAD, 170),
            ]),
        );
        assert!(!v.approved);
        // Requested changes, then approved, then commented: approved.
        let v = evaluate(
            &policy(1),
            &facts(vec![
                review(1, "alice", "CHANGES_REQUESTED", HEAD, 120),
                review(2, "alice", "APPROVED", HEAD, 130),
                review(3, "alice", "COMMENTED", HEAD, 140),
            ]),
        );
        assert!(v.approved, "{v:?}");
        // Approved, then the approval was dismissed.
        let v = evaluate(
            &policy(1),
            &facts(vec![
                approve(1, "alice"),
                review(2, "alice", "DISMISSED", HEAD, 170),
            ]),
        );
        assert!(!v.approved);
    }

    #[test]
    fn a_required_reviewer_must_be_among_the_approvers() {
        let mut p = policy(1);
        p.required_reviewers = vec!["oncall-lead".into()];
        let v = evaluate(&p, &facts(vec![approve(1, "alice")]));
        assert!(!v.approved);
        assert_eq!(
            v.waiting_for,
            ["an approval from oncall-lead (required reviewer)"]
        );
        let v = evaluate(
            &p,
            &facts(vec![approve(1, "alice"), approve(2, "OnCall-Lead")]),
        );
        assert!(v.approved);
    }

    #[test]
    fn a_required_team_is_satisfied_by_any_member() {
        let mut p = policy(1);
        p.required_reviewers = vec!["acme/sre".into()];
        let mut f = facts(vec![approve(1, "alice")]);
        f.teams
            .insert("acme/sre".into(), ["carol".to_string()].into());
        assert!(!evaluate(&p, &f).approved);
        f.reviews.push(approve(2, "carol"));
        assert!(evaluate(&p, &f).approved);
    }

    #[test]
    fn required_checks_must_be_green_on_the_head() {
        let mut p = policy(1);
        p.required_checks = vec!["ci".into(), "lint".into()];
        let mut f = facts(vec![approve(1, "alice")]);
        f.checks.insert("ci".into(), CheckState::Failure);
        let v = evaluate(&p, &f);
        assert!(!v.approved);
        assert_eq!(
            v.waiting_for,
            [
                "check \"ci\" failed",
                "check \"lint\" has not reported on the head"
            ]
        );
        f.checks.insert("ci".into(), CheckState::Success);
        f.checks.insert("lint".into(), CheckState::Pending);
        assert!(!evaluate(&p, &f).approved);
        f.checks.insert("lint".into(), CheckState::Success);
        assert!(evaluate(&p, &f).approved);
    }

    #[test]
    fn no_reviews_waits() {
        let v = evaluate(&policy(1), &facts(vec![]));
        assert!(!v.approved);
        assert!(v.changes_requested.is_none());
    }
}
