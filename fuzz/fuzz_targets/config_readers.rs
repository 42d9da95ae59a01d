//! The readers of what users write (the configuration as JSON and TOML, auto-fill
//! settings, field lists) must never panic, and a configuration they accept must
//! validate without panicking and survive a JSON round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tmbridge_core::autofill::Settings;
use tmbridge_core::config::Config;
use tmbridge_core::rally::query::FieldList;

fuzz_target!(|data: &[u8]| {
    let _ = FieldList::from_json_bytes(data);
    let _ = serde_json::from_slice::<Settings>(data);
    let mut configs = Vec::new();
    if let Ok(config) = Config::from_json(data) {
        configs.push(config);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = toml::from_str::<Settings>(text);
        if let Ok(config) = toml::from_str::<Config>(text) {
            configs.push(config);
        }
    }
    for config in configs {
        let _ = config.validate(None);
        let json = serde_json::to_vec(&config).expect("a configuration serialises");
        let again = Config::from_json(&json).expect("a serialised configuration reads back");
        assert_eq!(again, config);
    }
});
