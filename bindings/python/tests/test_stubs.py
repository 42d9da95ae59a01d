"""The type information shipped with the package is right: the stubs of the native
module match it (mypy stubtest) and the package type-checks strictly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "python"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=PACKAGE_DIR)


def test_stubtest_finds_no_mismatch() -> None:
    result = run("mypy.stubtest", "tmbridge")
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_type_checks_strictly() -> None:
    result = run("mypy", "--strict", "-p", "tmbridge")
    assert result.returncode == 0, result.stdout + result.stderr


def test_py_typed_and_stubs_are_installed() -> None:
    import tmbridge

    here = Path(tmbridge.__file__).parent
    assert (here / "py.typed").is_file()
    assert (here / "_native.pyi").is_file()


def test_typos_in_rally_calls_are_type_errors(tmp_path: Path) -> None:
    # What a new user typed: a misspelt report key and an unknown context field.
    script = tmp_path / "typos.py"
    script.write_text(
        "from pathlib import Path\n"
        "import tmbridge.rally\n"
        "report = tmbridge.rally.publish(Path('r.xml'), {}, context={'nwo': '1'})\n"
        "print(report['resuts'])\n"
        "print(report['created'][0]['key'])\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(script)], capture_output=True, text=True, cwd=PACKAGE_DIR
    )
    assert result.returncode == 1, result.stdout
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, result.stdout
    assert "MapContext" in errors[0] and '"resuts"' in errors[1]


def test_every_op_has_a_typed_function() -> None:
    import tmbridge
    import tmbridge.ops

    for spec in tmbridge.list_ops():
        function = getattr(tmbridge.ops, spec["name"].replace(".", "_"))
        assert spec["summary"] in (function.__doc__ or "")
    report = tmbridge.ops.junit_parse({"xml": "<testsuite name='s'><testcase name='t'/></testsuite>"})
    assert report["counts"]["tests"] == 1
    assert tmbridge.ops.rally_query_normalize({"query": "(Name = x)"})["query"] == "(Name = x)"


def test_misuse_of_generated_types_is_a_type_error(tmp_path: Path) -> None:
    script = tmp_path / "misuse.py"
    script.write_text(
        "import tmbridge.ops\n"
        "from tmbridge.types import Config, MapInput\n"
        "tmbridge.ops.junit_parse({'xmll': '<testsuite/>'})\n"
        "report = tmbridge.ops.junit_parse({'xml': '<testsuite/>'})\n"
        "print(report['resuts'])\n"
        "config: Config = {'ralley': {}}\n"
        "plan: MapInput = {'target': 'ralley', 'context': {'now': 'x'}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(script)], capture_output=True, text=True, cwd=PACKAGE_DIR
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    lines = sorted({int(line.split(":")[1]) for line in errors})
    assert lines == [3, 5, 6, 7], result.stdout
