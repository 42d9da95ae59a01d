"""The Rally simulator binary on a free loopback port, for the tests of
``tmbridge.rally``: seeding it through its own WSAPI, arming faults, reading its ledger."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[3]


def binary() -> Path:
    """The simulators binary, built when missing (the test command builds it first)."""
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    path = target / "debug" / "tmbridge-simulators"
    if not path.is_file():
        subprocess.run(
            ["cargo", "build", "-q", "-p", "tmbridge-simulators", "--bin", "tmbridge-simulators"],
            cwd=ROOT,
            check=True,
        )
    return path


class RallySim:
    """A running simulator: ``url``, ``api_key``, ``workspace``, ``project``."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(binary()), "--rally", "127.0.0.1:0", "--gitlab", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        seen: Dict[str, str] = {}
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if m := re.match(r"rally\.url = (\S+)", line):
                seen["url"] = m.group(1)
            elif m := re.match(r"rally api key \(ZSESSIONID\) = (\S+)", line):
                seen["api_key"] = m.group(1)
            elif m := re.match(r"rally\.workspace = (\S+)", line):
                seen["workspace"] = m.group(1)
            elif m := re.match(r"rally\.project = (\S+)", line):
                seen["project"] = m.group(1)
                break
        if len(seen) != 4:
            self.close()
            raise RuntimeError(f"the simulator printed only {sorted(seen)}")
        self.url = seen["url"]
        self.api_key = seen["api_key"]
        self.workspace = seen["workspace"]
        self.project = seen["project"]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def config(self, **rally: Any) -> Dict[str, Any]:
        """A configuration for this simulator (the key stays out of it)."""
        settings: Dict[str, Any] = {"url": self.url, "workspace": self.workspace, "project": self.project}
        settings.update(rally)
        return {"rally": settings}

    def _call(self, method: str, path: str, body: Optional[Any] = None, auth: bool = True) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json", **({"ZSESSIONID": self.api_key} if auth else {})},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def create(self, type_name: str, fields: Dict[str, Any]) -> Dict[str, Any]:
        """Creates an object through WSAPI, as a Rally user would."""
        fields = {"Workspace": self.workspace, "Project": self.project, **fields}
        answer = self._call("POST", f"/slm/webservice/v2.0/{type_name.lower()}/create", {type_name: fields})
        result = answer["CreateResult"]
        assert result["Errors"] == [], result["Errors"]
        created: Dict[str, Any] = result["Object"]
        return created

    def fault(self, kind: str, count: int = 1, **params: Any) -> None:
        query = "&".join(f"{k}={v}" for k, v in {"kind": kind, "count": count, **params}.items())
        self._call("POST", f"/__sim/faults?{query}", auth=False)

    def clear_faults(self) -> None:
        self._call("DELETE", "/__sim/faults", auth=False)

    def ledger(self) -> List[Dict[str, Any]]:
        entries: List[Dict[str, Any]] = self._call("GET", "/__sim/ledger", auth=False)
        return entries

    def created(self, type_name: str) -> List[Dict[str, Any]]:
        return [e for e in self.ledger() if e["type"].lower() == type_name.lower()]
