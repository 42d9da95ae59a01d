//! The JUnit reader must never panic, and streaming in small chunks must agree with
//! whole-input parsing, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::BufReader;
use tmbridge_core::junit;

fuzz_target!(|data: &[u8]| {
    let whole = junit::parse(data);
    let mut streamed = Vec::new();
    let mut error = None;
    for event in junit::Reader::new(BufReader::with_capacity(5, data)) {
        match event {
            Ok(junit::Event::Case(case)) => streamed.push(*case),
            Ok(_) => {}
            Err(err) => error = Some(err),
        }
    }
    match whole {
        Ok(report) => {
            assert!(error.is_none());
            let cases: Vec<_> = report.cases().into_iter().cloned().collect();
            assert_eq!(cases, streamed);
        }
        Err(err) => assert_eq!(Some(err.code), error.map(|e| e.code)),
    }
});
