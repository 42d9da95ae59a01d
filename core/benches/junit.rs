//! Parse throughput of the JUnit reader against a bare quick-xml event loop over the
//! same bytes (the floor any quick-xml based reader pays). Compare the MiB/s lines.
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quick_xml::Reader;
use quick_xml::events::Event;
use std::hint::black_box;
use tmbridge_core::junit;

#[path = "../examples/support/generate.rs"]
mod generate;

fn report(mb: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = generate::write_report(&mut bytes, mb * 1024 * 1024);
    bytes
}

fn bare_quick_xml(bytes: &[u8]) -> u64 {
    let mut reader = Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut events = 0u64;
    while let Ok(event) = reader.read_event_into(&mut buf) {
        if matches!(event, Event::Eof) {
            break;
        }
        events += 1;
        buf.clear();
    }
    events
}

fn streamed_cases(bytes: &[u8]) -> u64 {
    junit::Reader::new(bytes)
        .filter(|e| matches!(e, Ok(junit::Event::Case(_))))
        .count() as u64
}

fn bench(c: &mut Criterion) {
    for mb in [10u64, 100] {
        let bytes = report(mb);
        let mut group = c.benchmark_group(format!("junit_{mb}mb"));
        group.sample_size(10);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("baseline_quick_xml_events", |b| {
            b.iter(|| bare_quick_xml(black_box(&bytes)))
        });
        group.bench_function("tmbridge_stream", |b| {
            b.iter(|| streamed_cases(black_box(&bytes)))
        });
        group.bench_function("tmbridge_parse_report", |b| {
            b.iter(|| junit::parse(black_box(&bytes)).map(|r| r.counts.tests))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
