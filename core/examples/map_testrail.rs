//! The map side of the benchmark: reads a JUnit file's cases as `tmbridge map` does and
//! plans the TestRail payloads, printing the plan as JSON. `map_testrail FILE`
use std::io::{BufReader, BufWriter, Write};
use tmbridge_core::config::{Config, RefCache, RunContext};
use tmbridge_core::junit::cases_for_mapping;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: map_testrail FILE")?;
    let file = std::fs::File::open(path)?;
    let t0 = std::time::Instant::now();
    let (cases, _warnings) = cases_for_mapping(BufReader::with_capacity(64 * 1024, file), 1 << 22)?;
    let config: Config = serde_json::from_str(
        r#"{"testrail": {"url": "https://example.testrail.io", "project_id": 1, "section_id": 1}}"#,
    )?;
    let ctx = RunContext {
        now: "2026-01-01T00:00:00Z".into(),
        ..RunContext::default()
    };
    let t1 = t0.elapsed();
    let plan = tmbridge_core::testrail::plan(&config, &cases, &ctx, &RefCache::default())?;
    let t2 = t0.elapsed();
    let mut out = BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, &plan)?;
    writeln!(out)?;
    out.flush()?;
    if std::env::var_os("MAP_PHASES").is_some() {
        eprintln!(
            "read {t1:?} plan {:?} print {:?}",
            t2 - t1,
            t0.elapsed() - t2
        );
    }
    Ok(())
}
