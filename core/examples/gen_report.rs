//! Writes a generated JUnit report of the given size in MB to stdout:
//! `cargo run --release --example gen_report -- 100 > big.xml`
#[path = "support/generate.rs"]
mod generate;

fn main() -> std::io::Result<()> {
    let mb: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    generate::write_report(&mut out, mb * 1024 * 1024)?;
    Ok(())
}
