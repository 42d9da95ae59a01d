//! A deterministic, realistic JUnit report of any size, for benchmarks: suites of
//! Surefire-like test cases with properties, failures with stack traces, skips and
//! captured output.

use std::io::{self, Write};

/// Writes a report of at least `target_bytes` bytes.
pub fn write_report(out: &mut impl Write, target_bytes: u64) -> io::Result<u64> {
    let written = std::cell::Cell::new(0u64);
    let emit = |out: &mut dyn Write, s: &str| -> io::Result<()> {
        written.set(written.get() + s.len() as u64);
        out.write_all(s.as_bytes())
    };
    emit(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"bench\">\n",
    )?;
    let mut suite = 0u64;
    while written.get() < target_bytes {
        emit(
            out,
            &format!(
                "  <testsuite name=\"com.example.module{suite}.ServiceTest\" tests=\"50\" timestamp=\"2026-11-21T10:00:00\" hostname=\"ci-runner-3\" time=\"12.345\">\n    <properties><property name=\"java.version\" value=\"21.0.2\"/><property name=\"os.name\" value=\"Linux\"/></properties>\n"
            ),
        )?;
        for case in 0..50u64 {
            let name = format!("shouldHandleRequest{case}_withValidInput[{suite}]");
            let class = format!("com.example.module{suite}.ServiceTest");
            match case % 10 {
                3 => emit(
                    out,
                    &format!(
                        "    <testcase name=\"{name}\" classname=\"{class}\" time=\"0.{case:03}\">\n      <failure message=\"expected: &lt;200&gt; but was: &lt;500&gt;\" type=\"org.opentest4j.AssertionFailedError\">org.opentest4j.AssertionFailedError: expected: &lt;200&gt; but was: &lt;500&gt;\n\tat com.example.module{suite}.ServiceTest.{name}(ServiceTest.java:{case})\n\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)\n</failure>\n      <system-out><![CDATA[2026-11-21 10:00:01 INFO request id={case} started\n2026-11-21 10:00:01 ERROR upstream returned 500\n]]></system-out>\n    </testcase>\n"
                    ),
                )?,
                7 => emit(
                    out,
                    &format!(
                        "    <testcase name=\"{name}\" classname=\"{class}\" time=\"0\">\n      <skipped message=\"disabled on CI\"/>\n    </testcase>\n"
                    ),
                )?,
                _ => emit(
                    out,
                    &format!(
                        "    <testcase name=\"{name}\" classname=\"{class}\" time=\"0.{case:03}\"/>\n"
                    ),
                )?,
            }
        }
        emit(out, "  </testsuite>\n")?;
        suite += 1;
    }
    emit(out, "</testsuites>\n")?;
    Ok(written.get())
}
