//! Peak memory of the CLI on large inputs: `map` streams its reports and keeps only
//! what mapping reads; `autofill` bounds the values it renders. Each child's peak
//! resident size comes from `wait4` (the kernel's own accounting of that process),
//! so parallel tests do not disturb the measure.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo(parts: &[&str]) -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), ".."]
        .iter()
        .chain(parts)
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tmbridge-memory-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// What a finished child left: exit code, its output, peak resident size in MiB.
struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    peak_mib: u64,
}

// The child is reaped by `wait4`, which also returns its resource usage.
#[allow(clippy::zombie_processes)]
fn run_measured(args: &[&str], dir: &Path) -> Finished {
    let out_path = dir.join("stdout.txt");
    let err_path = dir.join("stderr.txt");
    let child = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).expect("stdout file"))
        .stderr(fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("the binary runs");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child spawned above, which nothing else waits for.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Finished {
        code,
        stdout: fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: fs::read_to_string(&err_path).unwrap_or_default(),
        // Linux reports ru_maxrss in KiB.
        peak_mib: u64::try_from(usage.ru_maxrss).unwrap_or(0) / 1024,
    }
}

/// Writes `count` copies of `unit` without holding them: the test process stays small,
/// so a child forked from it starts small too (the kernel counts a child's memory from
/// the fork on).
fn write_repeated(out: &mut impl Write, unit: &str, count: usize) {
    let chunk = unit.repeat(64 * 1024 / unit.len().max(1) + 1);
    let per_chunk = chunk.len() / unit.len().max(1);
    let mut left = count;
    while left >= per_chunk {
        out.write_all(chunk.as_bytes()).expect("write");
        left -= per_chunk;
    }
    out.write_all(unit.repeat(left).as_bytes()).expect("write");
}

fn map_args<'a>(config: &'a Path, report: &'a Path) -> Vec<&'a str> {
    vec![
        "map",
        "--target",
        "testrail",
        "--config",
        config.to_str().expect("path"),
        "--var",
        "pipeline_id=981",
        "--now",
        "2024-05-01T10:00:00Z",
        report.to_str().expect("path"),
    ]
}

#[test]
fn map_memory_grows_with_the_cases_not_with_the_report() {
    // 20,000 matched cases with 4 KiB of output each: an 85 MB report. Reading it
    // whole, building the report and copying its cases needed three times that.
    let dir = temp_dir("map");
    let report = dir.join("big.xml");
    let mut out = std::io::BufWriter::new(fs::File::create(&report).expect("report"));
    let output = "log line of a passing test that wrote to stdout\n".repeat(85);
    writeln!(out, "<testsuites>").expect("write");
    for suite in 0..20 {
        writeln!(out, "<testsuite name=\"suite{suite}\">").expect("write");
        for case in 0..1000 {
            let id = suite * 1000 + case + 1;
            writeln!(
                out,
                "<testcase classname=\"pkg.Suite{suite}\" name=\"C{id} case {case}\" time=\"0.01\"><system-out>{output}</system-out></testcase>"
            )
            .expect("write");
        }
        writeln!(out, "</testsuite>").expect("write");
    }
    writeln!(out, "</testsuites>").expect("write");
    drop(out);
    let config = repo(&["tests", "fixtures", "map", "testrail.toml"]);
    let run = run_measured(&map_args(&config, &report), &dir);
    let size_mib = fs::metadata(&report).map(|m| m.len()).unwrap_or(0) >> 20;
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("C20000"), "every case is mapped");
    assert!(
        run.peak_mib < 120,
        "map of 20k cases ({size_mib} MiB of XML) peaked at {} MiB",
        run.peak_mib
    );
}

#[test]
fn a_report_with_a_50_mb_name_is_refused_without_holding_it() {
    let dir = temp_dir("name");
    let report = dir.join("name.xml");
    let mut out = std::io::BufWriter::new(fs::File::create(&report).expect("report"));
    write!(out, "<testsuite name=\"s\">\n<testcase name=\"").expect("write");
    write_repeated(&mut out, "n", 50 * 1024 * 1024);
    writeln!(out, "\"/></testsuite>").expect("write");
    drop(out);
    let config = repo(&["tests", "fixtures", "map", "testrail.toml"]);
    let run = run_measured(&map_args(&config, &report), &dir);
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("junit.element_too_large"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
    // The reader streams and refuses the tag at 1 MiB: the 50 MB are never held.
    assert!(run.peak_mib < 40, "peaked at {} MiB", run.peak_mib);
}

#[test]
fn autofill_with_a_50_mb_test_name_is_cut_and_stays_within_400_mib() {
    let dir = temp_dir("autofill");
    let fixtures = repo(&["tests", "fixtures", "autofill"]);
    let mut run_json: serde_json::Value =
        serde_json::from_slice(&fs::read(fixtures.join("failed-run.json")).expect("run fixture"))
            .expect("run json");
    run_json["test_case"]["name"] = "@NAME@".into();
    let text = serde_json::to_string(&run_json).expect("json");
    let (before, after) = text.split_once("@NAME@").expect("placeholder");
    let run_path = dir.join("run.json");
    let mut out = std::io::BufWriter::new(fs::File::create(&run_path).expect("run file"));
    out.write_all(before.as_bytes()).expect("write");
    write_repeated(&mut out, "Grüße aus dem Test ", 50 * 1024 * 1024 / 21);
    out.write_all(after.as_bytes()).expect("write");
    drop(out);
    let run = run_measured(
        &[
            "autofill",
            "--schema",
            fixtures
                .join("rally-defect-typedef.json")
                .to_str()
                .expect("path"),
            "--settings",
            fixtures
                .join("defect-form-settings.json")
                .to_str()
                .expect("path"),
            "--run",
            run_path.to_str().expect("path"),
        ],
        &dir,
    );
    let _ = fs::remove_dir_all(&dir);
    assert!(matches!(run.code, Some(0 | 1)), "{}", run.stderr);
    assert!(
        run.stdout.contains("autofill.value_too_long"),
        "{}",
        run.stdout
    );
    assert!(run.peak_mib < 400, "peaked at {} MiB", run.peak_mib);
}
