"""The qTest and TestRail simulators (the same binary as the Rally one) on free
loopback ports, for the tests of ``tmbridge.qtest`` and ``tmbridge.testrail``:
their URLs and credentials as the binary prints them, faults, and their ledgers."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from typing import Any, Dict, List

from rally_sim import binary


class TargetSims:
    """A running simulators process with qTest and TestRail."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(binary()), "--rally", "127.0.0.1:0", "--gitlab", "127.0.0.1:0", "--qtest", "127.0.0.1:0", "--testrail", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        seen: Dict[str, str] = {}
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if m := re.match(r"qtest url = (\S+)\s+\(bearer token (\S+), project (\d+)\)", line):
                seen.update(qtest_url=m.group(1), qtest_token=m.group(2), qtest_project=m.group(3))
            elif m := re.match(r"testrail url = (\S+)", line):
                seen["testrail_url"] = m.group(1)
            elif m := re.match(r"testrail user / password / api key = (\S+) / (\S+) / (\S+)", line):
                seen.update(testrail_user=m.group(1), testrail_key=m.group(3))
            elif m := re.match(r"testrail single-suite project = P(\d+) \(suite S\d+, section (\d+)\)", line):
                seen.update(testrail_project=m.group(1), testrail_section=m.group(2))
            if len(seen) == 8:
                break
        if len(seen) != 8:
            self.close()
            raise RuntimeError(f"the simulators printed only {sorted(seen)}")
        self.qtest_url = seen["qtest_url"]
        self.qtest_token = seen["qtest_token"]
        self.qtest_project = int(seen["qtest_project"])
        self.testrail_url = seen["testrail_url"]
        self.testrail_user = seen["testrail_user"]
        self.testrail_key = seen["testrail_key"]
        self.testrail_project = int(seen["testrail_project"])
        self.testrail_section = int(seen["testrail_section"])

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def qtest_config(self, **qtest: Any) -> Dict[str, Any]:
        settings: Dict[str, Any] = {"url": self.qtest_url, "project_id": self.qtest_project}
        settings.update(qtest)
        return {"qtest": settings}

    def testrail_config(self, **testrail: Any) -> Dict[str, Any]:
        settings: Dict[str, Any] = {
            "url": self.testrail_url,
            "project_id": f"P{self.testrail_project}",
            "section_id": self.testrail_section,
        }
        settings.update(testrail)
        return {"testrail": settings}

    def _control(self, base: str, method: str, path: str) -> Any:
        request = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def fault(self, target: str, query: str) -> None:
        """Arms a fault (``kind=throttle&retry_after=1&count=1``) on one simulator."""
        base = self.qtest_url if target == "qtest" else self.testrail_url
        self._control(_origin(base), "POST", "/__sim/faults?" + query)

    def ledger(self, target: str) -> List[Dict[str, Any]]:
        """What clients created, in order (qTest entries have ``kind``, TestRail's ``action``)."""
        base = self.qtest_url if target == "qtest" else self.testrail_url
        return list(self._control(_origin(base), "GET", "/__sim/ledger"))

    def revoke_testrail(self) -> None:
        self._control(_origin(self.testrail_url), "POST", "/__sim/revoke")


def _origin(url: str) -> str:
    m = re.match(r"(https?://[^/]+)", url)
    assert m is not None
    return m.group(1)
