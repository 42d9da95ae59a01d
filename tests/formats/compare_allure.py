"""Checks what `tmbridge parse --format ndjson` reads from the allure-results of the
sample suites in tests/formats/allure-pytest and tests/formats/allure-vitest, against
what those tests are written to do and against the test runner's own account of the
same run (pytest's JUnit XML, read by tmbridge; vitest's JSON reporter). Usage:

    compare_allure.py pytest RESULTS_DIR ALLURE_NDJSON PYTEST_JUNIT_NDJSON
    compare_allure.py vitest RESULTS_DIR ALLURE_NDJSON VITEST_JSON

Exits non-zero with the differences when they disagree.
"""

import json
import os
import sys

# What each sample test does, by the name the adapter gives it: the status Allure
# means (an exception other than a failed check is `broken`, an error here), the
# case id its tms link gives, its defects, parameters, attachments (by content), the
# keywords and depths of its steps, and its earlier failed attempts.
KNOWN = {
    "pytest": {
        "test_add_to_cart": dict(
            status="passed", test_id=["C101"], defects=["SHOP-7"],
            props={"feature": ["Cart"], "story": ["Add items"], "epic": ["Shop"],
                   "tag": ["smoke"], "owner": ["ann"], "severity": ["critical"]},
            steps=[(None, "open the shop", 0), (None, "log in", 1), (None, "add one item", 0)]),
        "test_total_is_wrong": dict(
            status="failed", test_id=["C102"], attachments=[b"total=41"],
            message="AssertionError: the total is off by one",
            steps=[(None, "compute the total", 0), (None, "check the total", 0)]),
        "test_payment_service_down": dict(status="error", message="ConnectionError: payment service unreachable"),
        "test_refund": dict(status="skipped", message="Skipped: not ready"),
        "test_quantity[1]": dict(status="passed", props={"parameter:quantity": ["1"]}),
        "test_quantity[3]": dict(status="failed", props={"parameter:quantity": ["3"]}),
        # The fixture raised: allure-pytest writes the test broken and the fixture
        # broken in its container; tmbridge shows the fixture as a SETUP step.
        "test_needs_database": dict(status="error", setup_failed="database"),
        # pytest-rerunfailures: two results with one historyId, failed then passed.
        "test_sometimes_slow": dict(status="flaky", reruns=1,
                                    message="AssertionError: first attempt times out"),
        "test_pay": dict(status="passed", steps=[(None, "pay by card", 0)]),
    },
    "vitest": {
        "adds an item": dict(
            status="passed", test_id=["C201"], defects=["SHOP-8"],
            props={"feature": ["Cart"], "story": ["Add items"], "epic": ["Shop"],
                   "tag": ["smoke"], "owner": ["ann"], "severity": ["critical"]}),
        # A tms link without a name: the id is the URL's last segment.
        "computes the total": dict(status="failed", test_id=["202"], attachments=[b"total=41"]),
        "reaches the payment service": dict(status="error", message="payment service unreachable"),
        "accepts quantity 1": dict(status="passed", props={"parameter:currency": ["EUR"]}),
        "accepts quantity 3": dict(status="failed", props={"parameter:currency": ["EUR"]}),
        # allure-vitest keeps the attempts of a retried test in one result (the first
        # attempt's failed check is one of its steps), so it reads as passed.
        "is sometimes slow": dict(status="passed", reruns=0),
        # Its beforeAll hook threw: vitest skips it, allure-vitest writes it skipped
        # and the hook's error into a globals file (a warning of tmbridge).
        "lists orders": dict(status="skipped"),
    },
}

# How each runner's own status reads next to Allure's: the runners have no `broken`.
COARSE = {"passed": "passed", "flaky": "passed", "failed": "not passed",
          "error": "not passed", "skipped": "skipped", "pending": "skipped", "todo": "skipped"}


def read_ndjson(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def props(case, name):
    return [p["value"] for p in case["properties"] if p["name"] == name]


def check_case(name, case, want, results_dir, problems):
    def expect(what, got, wanted):
        if got != wanted:
            problems.append(f"{name}: {what} is {got!r}, expected {wanted!r}")

    expect("status", case["status"], want["status"])
    expect("test_id", props(case, "test_id"), want.get("test_id", []))
    expect("defects", props(case, "defects"), want.get("defects", []))
    for prop, values in want.get("props", {}).items():
        expect(prop, props(case, prop), values)
    if "message" in want:
        message = case["message"] or ""
        if not message.startswith(want["message"]):
            problems.append(f"{name}: message {message!r} does not start with {want['message']!r}")
    contents = []
    for source in case["attachments"]:
        path = os.path.join(results_dir, source)
        if not os.path.isfile(path):
            problems.append(f"{name}: attachment {source} is not a file of the results folder")
            continue
        with open(path, "rb") as f:
            contents.append(f.read())
    expect("attachments", contents, want.get("attachments", []))
    if "steps" in want:
        got = [(s["keyword"], s["name"], s["depth"]) for s in case.get("steps", [])]
        expect("steps", got, want["steps"])
    if "setup_failed" in want:
        setup = [s for s in case.get("steps", []) if s["keyword"] == "SETUP"]
        if not any(s["name"] == want["setup_failed"] and s["status"] == "error" for s in setup):
            problems.append(f"{name}: no failed SETUP step {want['setup_failed']}: {setup}")
    expect("reruns", len(case["reruns"]), want.get("reruns", 0))


def runner_statuses(tool, path):
    """name -> the runner's own statuses for it (several when it ran several times),
    and name -> its classname where the runner gives one (pytest's JUnit XML)."""
    out, classnames = {}, {}
    if tool == "pytest":
        for case in read_ndjson(path):
            out.setdefault(case["name"], set()).add(case["status"])
            classnames[case["name"]] = case["classname"]
    else:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
        for file in report["testResults"]:
            for test in file["assertionResults"]:
                out.setdefault(test["title"], set()).add(test["status"])
    return out, classnames


def main():
    tool, results_dir, allure_ndjson, runner_report = sys.argv[1:5]
    cases = read_ndjson(allure_ndjson)
    problems = []
    by_name = {}
    for case in cases:
        if case["name"] in by_name:
            problems.append(f"{case['name']}: read twice")
        by_name[case["name"]] = case
    known = KNOWN[tool]
    for name, want in known.items():
        if name not in by_name:
            problems.append(f"{name}: not read")
            continue
        check_case(name, by_name[name], want, results_dir, problems)
    for name in by_name.keys() - known.keys():
        problems.append(f"{name}: read, but no sample test has this name")

    # The runner's own account: every test it reports is read with the same outcome
    # (passed / not passed / skipped), except those its Allure adapter never writes.
    runner, classnames = runner_statuses(tool, runner_report)
    # The same automation id (classname.name) as the runner's JUnit XML gives.
    for name, classname in sorted(classnames.items()):
        if name in by_name and by_name[name]["classname"] != classname:
            problems.append(f"{name}: classname {by_name[name]['classname']!r}, the runner's JUnit XML has {classname!r}")
    not_written = {"vitest": {"refunds"}}.get(tool, set())
    for name, statuses in sorted(runner.items()):
        if name in not_written:
            if name in by_name:
                problems.append(f"{name}: the adapter was expected not to write it")
            continue
        if name not in by_name:
            problems.append(f"{name}: the runner reports it; tmbridge did not read it")
            continue
        final = COARSE[by_name[name]["status"]]
        # A retried test: the runner may list each attempt; the last one counts.
        if final not in {COARSE.get(s, s) for s in statuses}:
            problems.append(f"{name}: the runner says {sorted(statuses)}, tmbridge read {by_name[name]['status']}")

    if problems:
        print(f"allure-{tool}: tmbridge and the run disagree:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        sys.exit(1)
    statuses = sorted({c["status"] for c in cases})
    print(f"allure-{tool}: {len(cases)} tests agree with the run ({', '.join(statuses)})")


if __name__ == "__main__":
    main()
