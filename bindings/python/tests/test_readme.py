"""The README's ten-line example runs exactly as printed, against the simulator: it
publishes, imports stories and files a defect; run twice, it duplicates nothing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from rally_sim import ROOT, RallySim

README = Path(__file__).resolve().parents[1] / "README.md"
FIXTURES = ROOT / "tests" / "fixtures" / "publish"


def example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Rally in ten lines", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def test_the_readme_example_runs_as_printed(tmp_path: Path) -> None:
    code = example()
    assert len(code.strip().splitlines()) <= 16
    sim = RallySim()
    try:
        for n in range(1, 15):
            sim.create("TestCase", {"Name": f"checkout test {n}"})
        sim.create("HierarchicalRequirement", {"Name": "Checkout by card"})
        # The team's configuration, pointed at the simulator.
        toml = (FIXTURES / "rally.toml").read_text(encoding="utf-8")
        for key, value in (("url", sim.url), ("workspace", sim.workspace), ("project", sim.project)):
            toml = re.sub(rf'(?m)^{key} = ".*"$', f'{key} = "{value}"', toml)
        (tmp_path / "rally.toml").write_text(toml, encoding="utf-8")
        shutil.copy(FIXTURES / "e2e-report.xml", tmp_path / "report.xml")
        shutil.copytree(FIXTURES / "shots", tmp_path / "shots")
        (tmp_path / "example.py").write_text(code, encoding="utf-8")
        env = dict(os.environ, RALLY_API_KEY=sim.api_key)
        for _ in range(2):
            run = subprocess.run(
                [sys.executable, "example.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
            )
            assert run.returncode == 0, run.stderr
        # The second run: the same stories, and the report of the defect filed before.
        assert "Checkout by card" in run.stdout and "filed DE" in run.stdout
        ledger = Counter(e["type"] for e in sim.ledger())
        assert ledger["TestCaseResult"] == 3 and ledger["Defect"] == 1 and ledger["Attachment"] == 1
        assert sim.api_key not in (tmp_path / "tmbridge.sqlite").read_text(encoding="latin-1")
    finally:
        sim.close()
