"""Sessions in both engines of the CLI, against the Rally simulator over loopback.

Every session command prints the same dry run with `--engine native` and
`--engine wasm`; the Defect schema loaded by either is the same file; a publish
started in one engine and finished in the other (the outbox holds the progress the
WebAssembly core saved) creates each result once.

usage: sessions_across_engines.py TMBRIDGE SIMULATORS WASM
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path


def start_simulator(binary: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [binary, "--rally", "127.0.0.1:0", "--gitlab", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    info: dict[str, str] = {}
    assert proc.stdout is not None
    patterns = {
        "url": r"rally\.url = (\S+)",
        "key": r"rally api key \(ZSESSIONID\) = (\S+)",
        "workspace": r"rally\.workspace = (\S+)",
        "project": r"rally\.project = (\S+)",
    }
    for line in proc.stdout:
        for name, pattern in patterns.items():
            if m := re.match(pattern, line):
                info[name] = m.group(1)
        if len(info) == len(patterns):
            break
    if len(info) != len(patterns):
        proc.kill()
        raise SystemExit(f"the simulator printed only {sorted(info)}")
    return proc, info


def wsapi(info: dict[str, str], path: str, body: object | None = None) -> dict:
    request = urllib.request.Request(
        f"{info['url']}/slm/webservice/v2.0{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"ZSESSIONID": info["key"], "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def main() -> int:
    tmbridge, simulators, wasm = (str(Path(p).resolve()) for p in sys.argv[1:4])
    proc, info = start_simulator(simulators)
    failures: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tmbridge-engines-") as tmp:
            work = Path(tmp)
            config = work / "tmbridge.toml"
            config.write_text(
                f'[rally]\nurl = "{info["url"]}"\napi_key_env = "ENGINES_RALLY_KEY"\n'
                f'workspace = "{info["workspace"]}"\nproject = "{info["project"]}"\n'
                'test_set = "Engines-{pipeline_id}"\n'
                # One create per request: the kill below lands between two of them.
                'batch_size = 0\n'
            )
            ids = []
            for name in ("signs in", "pays by card", "signs out"):
                created = wsapi(info, "/testcase/create", {"TestCase": {
                    "Name": name, "Workspace": info["workspace"], "Project": info["project"]}})
                ids.append(created["CreateResult"]["Object"]["FormattedID"])
            report = work / "junit.xml"
            (work / "shots").mkdir()
            (work / "shots" / "pay.png").write_bytes(b"\x89PNG not really")
            report.write_text(
                '<testsuite name="checkout" tests="3">'
                f'<testcase classname="shop" name="{ids[0]} signs in" time="1.5"/>'
                f'<testcase classname="shop" name="{ids[1]} pays by card" time="2">'
                '<failure message="total was 0">at pay()</failure>'
                '<system-out>[[ATTACHMENT|shots/pay.png]]</system-out></testcase>'
                f'<testcase classname="shop" name="{ids[2]} signs out"><skipped/></testcase>'
                "</testsuite>"
            )
            env = dict(os.environ, ENGINES_RALLY_KEY=info["key"])
            run_values = ["--now", "2026-01-01T00:00:00Z", "--var", "pipeline_id=77"]

            def tmbridge_run(engine: str, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
                return subprocess.run(
                    [tmbridge, "--engine", engine, "--wasm", wasm, *args],
                    capture_output=True, text=True, env=env, cwd=work, timeout=120, **kw)

            common = ["--target", "rally", "--config", str(config)]
            dry_runs = [
                ["connect", *common, "--dry-run", "--format", "json"],
                ["defect", "schema", *common, "--dry-run", "--format", "json"],
                ["requirements", "import", *common, "--dry-run", "--format", "json",
                 "--query", '(Name contains "card")'],
                ["link", *common, "--dry-run", "--format", "json", "--test-case", "pays by card",
                 "--story", "US1"],
                ["publish", *common, "--dry-run", "--format", "json", *run_values, str(report)],
            ]
            for args in dry_runs:
                native = tmbridge_run("native", *args)
                in_wasm = tmbridge_run("wasm", *args)
                same = (native.returncode, native.stdout) == (in_wasm.returncode, in_wasm.stdout)
                label = " ".join(args[:2])
                print(("same" if same else "DIFFERENT") + f": dry run of {label}")
                if not same:
                    failures.append(f"dry run of {label}: {native.stdout[:300]!r} vs {in_wasm.stdout[:300]!r}")

            connect = tmbridge_run("wasm", "connect", *common)
            if connect.returncode != 0 or "OK: every check passed" not in connect.stdout:
                failures.append(f"connect in wasm: {connect.stdout}{connect.stderr}")

            schemas = []
            for engine in ("native", "wasm"):
                out = work / f"schema-{engine}.json"
                run = tmbridge_run(engine, "defect", "schema", *common, "--out", str(out))
                if run.returncode != 0:
                    failures.append(f"defect schema in {engine}: {run.stdout}{run.stderr}")
                    continue
                schemas.append(out.read_bytes())
            if len(schemas) == 2 and schemas[0] != schemas[1]:
                failures.append("defect schema: the two engines saved different schemas")
            if len(schemas) == 2 and schemas[0] == schemas[1]:
                print("defect schema: the same file from both engines")

            # A publish killed mid-way in the WebAssembly engine, finished natively:
            # each result takes a second to be answered, so the kill lands while the
            # second one is in flight (its outcome unknown to the outbox).
            control = urllib.request.Request(
                f"{info['url']}/__sim/faults?kind=slow&ms=1000&count=3&method=POST&path=testcaseresult/create",
                method="POST")
            urllib.request.urlopen(control, timeout=10).close()
            outbox = work / "outbox.sqlite3"
            publish = ["publish", *common, "--outbox", str(outbox), "--format", "json",
                       *run_values, str(report)]
            child = subprocess.Popen(
                [tmbridge, "--engine", "wasm", "--wasm", wasm, *publish],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=work)
            # Kill it once Rally holds its first result.
            for _ in range(600):
                found = wsapi(info, "/testcaseresult?fetch=TestCase&pagesize=200")
                if found["QueryResult"]["TotalResultCount"] >= 1 or child.poll() is not None:
                    break
                subprocess.run(["sleep", "0.02"], check=True)
            killed = child.poll() is None
            if killed:
                subprocess.run(["sleep", "0.3"], check=True)
                child.send_signal(signal.SIGKILL)
            child.wait()
            if not killed:
                failures.append("the publish in wasm ended before it could be killed")
            finish = tmbridge_run("native", *publish)
            if finish.returncode != 0:
                failures.append(f"publish finished natively: {finish.stdout[-500:]}{finish.stderr[-500:]}")
            results = wsapi(info, "/testcaseresult?fetch=TestCase&pagesize=200")["QueryResult"]["Results"]
            per_case: dict[str, int] = {}
            for r in results:
                ref = r["TestCase"]["_ref"]
                per_case[ref] = per_case.get(ref, 0) + 1
            if sorted(per_case.values()) != [1, 1, 1]:
                failures.append(f"results per test case after a kill in wasm and a native rerun: {per_case}")
            attachments = wsapi(info, "/attachment?fetch=Name&pagesize=200")["QueryResult"]["TotalResultCount"]
            if attachments != 1:
                failures.append(f"{attachments} attachments, expected 1")
            print(f"publish killed in wasm, finished natively: {len(results)} results, {attachments} attachment")

            # Another run, whole in wasm: progress lines come from the session's units.
            again = tmbridge_run("wasm", "publish", *common, "--outbox", str(outbox),
                                 "--now", "2026-01-02T00:00:00Z", "--var", "pipeline_id=78",
                                 str(report))
            if again.returncode != 0 or "3/3 done" not in again.stderr:
                failures.append(f"publish in wasm showed no progress: {again.stderr[-500:]}")
            else:
                print("publish in wasm: progress shown (3/3 done)")
    finally:
        proc.kill()
        proc.wait()
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
