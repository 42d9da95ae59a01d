"""Starts the simulators binary on free loopback ports, puts a TLS front (a CA made
here) before the Rally simulator, and runs the pyral and python-gitlab scenarios.

usage: run_real_clients.py PATH-TO-tmbridge-simulators
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gitlab_scenario  # noqa: E402
import pyral_scenario  # noqa: E402
import tls_proxy  # noqa: E402

GITLAB_TOKEN = "glpat-real-client-scenario"


def start_simulators(binary: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [binary, "--rally", "127.0.0.1:0", "--gitlab", "127.0.0.1:0",
         "--gitlab-token", GITLAB_TOKEN, "--gitlab-demo-pipeline"],
        stdout=subprocess.PIPE,
        text=True,
    )
    info: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if m := re.match(r"rally\.url = (\S+)", line):
            info["rally_url"] = m.group(1)
        elif m := re.match(r"rally api key \(ZSESSIONID\) = (\S+)", line):
            info["api_key"] = m.group(1)
        elif m := re.match(r"rally user / password = (\S+) / (\S+)", line):
            info["user"], info["password"] = m.group(1), m.group(2)
        elif m := re.match(r"gitlab url = (\S+)", line):
            info["gitlab_url"] = m.group(1)
        elif m := re.match(r"gitlab project = \d+ \((\S+)\)", line):
            info["project_path"] = m.group(1)
            break
    missing = {"rally_url", "api_key", "user", "password", "gitlab_url", "project_path"} - set(info)
    if missing:
        proc.kill()
        raise SystemExit(f"the simulators did not print {sorted(missing)}")
    return proc, info


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    proc, info = start_simulators(sys.argv[1])
    try:
        with tempfile.TemporaryDirectory(prefix="tmbridge-real-clients-") as tmp:
            ca, cert, key = tls_proxy.make_ca_and_server_cert(Path(tmp))
            tls_proxy.trust(ca)
            host, port = info["rally_url"].removeprefix("http://").rsplit(":", 1)
            proxy = tls_proxy.TlsProxy((host, int(port)), cert, key)
            try:
                pyral_scenario.run(
                    server=f"localhost:{proxy.port}",
                    apikey=info["api_key"],
                    user=info["user"],
                    password=info["password"],
                    workdir=Path(tmp),
                )
            finally:
                proxy.close()
        gitlab_scenario.run(info["gitlab_url"], GITLAB_TOKEN, info["project_path"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print("2 passed, 0 failed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
