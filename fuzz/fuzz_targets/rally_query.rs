//! The Rally query parser and normaliser must never panic, and a printed query must
//! parse back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tmbridge_core::rally::query;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = query::check(text, &query::Options::default());
    if let Ok(tree) = query::parse(text) {
        let printed = query::print(&tree);
        let again = query::parse(&printed).expect("a printed query parses");
        assert_eq!(query::print(&again), printed);
    }
});
