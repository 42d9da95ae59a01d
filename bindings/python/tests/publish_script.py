"""A publishing script as a user writes it, that dies (SIGKILL, no clean-up) once it
has sent a given number of requests: the answer to the last one is lost with it.

usage: publish_script.py REPORT CONFIG.json STATE KILL_AFTER   (RALLY_API_KEY in the environment)
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import tmbridge.rally
from tmbridge.transport import UrllibTransport
from tmbridge.types import HttpRequest, HttpResponse


class DiesAfter(UrllibTransport):
    def __init__(self, requests: int) -> None:
        super().__init__(timeout=30)
        self.left = requests

    def send(self, request: HttpRequest) -> HttpResponse:
        answer = super().send(request)
        self.left -= 1
        if self.left == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return answer


def main() -> None:
    report, config, state, kill_after = sys.argv[1:5]
    result = tmbridge.rally.publish(
        Path(report),
        json.loads(Path(config).read_text()),
        context={"pipeline_id": "4242", "sha": "8f3c2a1d9e7b", "sprint": "14"},
        state=state,
        progress=False,
        transport=DiesAfter(int(kill_after)) if int(kill_after) > 0 else None,
    )
    print(json.dumps({"created": len(result["created"]), "resumed": result["resumed"]}))


if __name__ == "__main__":
    main()
