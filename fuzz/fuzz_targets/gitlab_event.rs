//! The GitLab pipeline event reader must never panic, and the decision taken on an
//! event it accepts must never panic either, with the default and a permissive
//! configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tmbridge_core::gitlab::{
    GitlabConfig, decide, is_pipeline_hook, parse_pipeline_event, verify_token,
};

fuzz_target!(|data: &[u8]| {
    let _ = is_pipeline_hook(std::str::from_utf8(data).ok());
    let _ = verify_token(b"expected-token", Some(data));
    if let Ok(event) = parse_pipeline_event(data) {
        let _ = decide(&event, &GitlabConfig::default());
        let permissive = GitlabConfig {
            include_tags: true,
            refs: vec!["*".into(), "release/**".into(), "[".into()],
            ..GitlabConfig::default()
        };
        let _ = decide(&event, &permissive);
    }
});
