"""Shapes the Python host adds to the core's (``tmbridge.types`` holds the core's own,
generated from it)."""

from __future__ import annotations

from typing import List

from .types import HttpRequest, SyncReport


class RunReport(SyncReport):
    """What a ``tmbridge.rally`` function returns: the session's report, plus how the
    run went on the host."""

    #: Saved progress of an earlier run of the same work was picked up (or that run's
    #: report returned: it had finished).
    resumed: bool
    #: Dry run: every request that would have been sent, secrets masked; else empty.
    dry_run_requests: List[HttpRequest]
