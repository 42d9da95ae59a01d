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
