//! Any text as a `.rolloutrc`: parsing, layering and validation never panic, and a problem is
//! always reported with a position or a key.
#![no_main]

use hotfix::config::{FileLayer, load};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let layer = FileLayer {
        label: ".rolloutrc".into(),
        text: text.to_string(),
    };
    if let Err(e) = load(&[layer], &[]) {
        assert!(!e.message.is_empty());
    }
});
