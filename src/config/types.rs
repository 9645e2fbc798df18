//! Value types of the configuration that validate themselves while being deserialized, so that a
//! bad value is reported by the TOML parser with the value's own position: durations, globs,
//! the approval count, and the closed sets of words (model kinds, merge methods, …).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A duration written as `"250ms"`, `"30s"`, `"5m"`, `"1h"` (humantime syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub std::time::Duration);

impl Dur {
    pub const fn secs(s: u64) -> Self {
        Dur(std::time::Duration::from_secs(s))
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        humantime::parse_duration(s.trim()).map(Dur).map_err(|e| {
            format!(
                "invalid duration {s:?}: {e} (write it like \"250ms\", \"30s\", \"5m\" or \"1h\")"
            )
        })
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_zero() {
            return f.write_str("0s");
        }
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string like \"30s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                Dur::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// A path glob (`services/billing/**`), checked when the file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(pub String);

impl Serialize for Glob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Glob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        globset::GlobBuilder::new(&s)
            .literal_separator(true)
            .build()
            .map_err(|e| de::Error::custom(format!("invalid glob {s:?}: {}", e.kind())))?;
        Ok(Glob(s))
    }
}

/// `approval.min_approvals`: a whole number of at least 1. Zero would mean "no approval", which
/// the tool never allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MinApprovals(pub u32);

impl Default for MinApprovals {
    fn default() -> Self {
        MinApprovals(1)
    }
}

impl Serialize for MinApprovals {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for MinApprovals {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        if n < 1 {
            return Err(de::Error::custom(format!(
                "min_approvals = {n}: at least one real approval is required (must be >= 1)"
            )));
        }
        u32::try_from(n)
            .map(MinApprovals)
            .map_err(|_| de::Error::custom(format!("min_approvals = {n} is too large")))
    }
}

/// Defines a closed set of words with its serde names and a `Display` that prints the name.
macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }
        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

word_enum!(
    /// The team's branching model (SPEC section 4).
    ModelKind { GitFlow = "git-flow", Trunk = "trunk", ReleaseBranch = "release-branch" }
);
word_enum!(
    /// What a changed file that no test rule covers triggers.
    Unmatched { Full = "full", Smoke = "smoke", Fail = "fail" }
);
word_enum!(MergeMethod { Merge = "merge", Squash = "squash", Rebase = "rebase" });
word_enum!(Record { Github = "github", None = "none" });
word_enum!(Phase { Expand = "expand", Contract = "contract" });
word_enum!(Delegate { GithubDeployment = "github-deployment" });
word_enum!(OnFailure { Rollback = "rollback", Alert = "alert" });
word_enum!(BackportMethod { Auto = "auto", Merge = "merge", CherryPick = "cherry-pick" });
word_enum!(BackportMode { Push = "push", Pr = "pr", Auto = "auto" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip_in_the_spec_syntax() {
        for s in ["250ms", "30s", "5m", "1h", "0s", "1h 30m"] {
            let d = Dur::parse(s).unwrap();
            assert_eq!(Dur::parse(&d.to_string()).unwrap(), d, "{s}");
        }
        assert!(Dur::parse("5 minutes please").is_err());
        assert!(Dur::parse("").is_err());
    }
}
