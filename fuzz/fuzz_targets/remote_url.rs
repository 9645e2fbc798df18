//! Any remote URL: the parser never panics, and what it finds has an owner and a name.
#![no_main]

use hotfix::github::remote::parse_remote_url;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|url: &str| {
    if let Some(id) = parse_remote_url(url) {
        assert!(!id.owner.is_empty() && !id.name.is_empty());
        assert!(!id.owner.contains('/') && !id.name.contains('/'));
    }
});
