//! The reader's side of the benchmark: streams a JUnit file and counts its test cases,
//! as `tmbridge parse --format summary` does. `stream_cases FILE`
use std::io::BufReader;
use tmbridge_core::junit::{Event, Reader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: stream_cases FILE")?;
    let file = std::fs::File::open(path)?;
    let mut cases = 0u64;
    for event in Reader::new(BufReader::with_capacity(64 * 1024, file)) {
        if let Event::Case(_) = event? {
            cases += 1;
        }
    }
    println!("{cases} cases");
    Ok(())
}
