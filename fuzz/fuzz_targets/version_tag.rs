//! Any tag name against any tag format: the version parser never panics, and a version it
//! returns formats back to the same tag.
#![no_main]

use hotfix::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: (String, String)| {
    let (format, tag) = data;
    let mut cfg = Config::default();
    if format.contains("{version}") {
        cfg.model.tag_format = format;
    }
    if let Some(v) = cfg.version_of_tag(&tag) {
        assert!(v.pre.is_empty());
        assert_eq!(cfg.version_of_tag(&cfg.tag_for(&v)), Some(v));
    }
});
