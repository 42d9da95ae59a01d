"""Compares what `tmbridge parse --format ndjson` reads from a report with the summary
the tool that wrote it gives itself. Usage:

    compare.py robot OUTPUT_XML NDJSON        (Robot Framework's own result model)
    compare.py behave SUMMARY_TXT NDJSON      (behave's summary formatter)
    compare.py cucumber SUMMARY_TXT NDJSON    (cucumber-js's summary formatter)

Exits non-zero with the differences when they disagree.
"""

import json
import re
import sys
from collections import Counter


def read_cases(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def tally(cases):
    return Counter(c["status"] for c in cases)


def all_tests(suite):
    """Every test below a suite (RF 4 has no `all_tests`)."""
    yield from suite.tests
    for child in suite.suites:
        yield from all_tests(child)


def robot(output_xml, cases):
    from robot.api import ExecutionResult

    result = ExecutionResult(output_xml)
    stats = result.statistics.total
    ours = tally(cases)
    problems = []
    want = {"passed": stats.passed, "failed": stats.failed, "skipped": stats.skipped}
    got = {
        "passed": ours["passed"] + ours["flaky"],
        "failed": ours["failed"] + ours["error"],
        "skipped": ours["skipped"],
    }
    if want != got:
        problems.append(f"totals: robot says {want}, tmbridge read {got}")
    # Test by test: Robot's long name is the suite path and the test name.
    status_of = {"PASS": "passed", "FAIL": "failed", "SKIP": "skipped", "NOT RUN": "skipped"}
    tests = list(all_tests(result.suite))
    theirs = {t.longname: status_of[t.status] for t in tests}
    mine = {f'{c["classname"]}.{c["name"]}': c["status"] for c in cases}
    if theirs != mine:
        problems.append(f"per test: robot {theirs}\n   tmbridge {mine}")
    # Keywords reach the steps: every test that ran a keyword has steps.
    for test in tests:
        case = next(c for c in cases if c["name"] == test.name)
        if len(test.body) and not case.get("steps"):
            problems.append(f"{test.longname}: robot ran keywords, tmbridge read no steps")
    return problems


def counts_in(pattern, text):
    match = re.search(pattern, text, re.MULTILINE)
    if not match:
        raise SystemExit(f"no summary line matching {pattern!r} in:\n{text}")
    return match


def behave(summary_txt, cases):
    text = open(summary_txt, encoding="utf-8").read()
    line = counts_in(r"^(\d+) scenarios? passed, (\d+) failed, (\d+) skipped(?:, (\d+) untested)?", text)
    passed, failed, skipped, untested = (int(g or 0) for g in line.groups())
    ours = tally(cases)
    want = {"passed": passed, "failed": failed, "skipped": skipped + untested}
    # behave counts a scenario with an undefined step as failed; so does tmbridge.
    got = {"passed": ours["passed"], "failed": ours["failed"] + ours["error"], "skipped": ours["skipped"]}
    return [] if want == got else [f"behave says {want}, tmbridge read {got}"]


def cucumber(summary_txt, cases):
    text = open(summary_txt, encoding="utf-8").read()
    line = counts_in(r"^(\d+) scenarios? \(([^)]*)\)", text)
    total = int(line.group(1))
    parts = dict((name, int(n)) for n, name in re.findall(r"(\d+) (\w+)", line.group(2)))
    ours = tally(cases)
    # The mapping the reader documents: undefined fails, ambiguous is an error,
    # pending and skipped are skipped.
    want = {
        "tests": total,
        "passed": parts.get("passed", 0),
        "failed": parts.get("failed", 0) + parts.get("undefined", 0),
        "errors": parts.get("ambiguous", 0),
        "skipped": parts.get("pending", 0) + parts.get("skipped", 0),
    }
    got = {
        "tests": len(cases),
        "passed": ours["passed"],
        "failed": ours["failed"],
        "errors": ours["error"],
        "skipped": ours["skipped"],
    }
    problems = [] if want == got else [f"cucumber says {want}, tmbridge read {got}"]
    if not any(p["name"] == "embedding" for c in cases for p in c["properties"]):
        problems.append("the attachment a step made is not recorded")
    return problems


def main():
    tool, summary, ndjson = sys.argv[1:4]
    cases = read_cases(ndjson)
    problems = {"robot": robot, "behave": behave, "cucumber": cucumber}[tool](summary, cases)
    if problems:
        print(f"{tool}: tmbridge disagrees with the tool's own summary:", file=sys.stderr)
        for p in problems:
            print(" -", p, file=sys.stderr)
        sys.exit(1)
    statuses = dict(sorted(tally(cases).items()))
    if tool == "robot":
        from robot.version import VERSION

        tool = f"robot {VERSION}"
    print(f"{tool}: {len(cases)} cases, {statuses}: equal to the tool's own summary")


main()
