"""Sessions: a sync the core runs and the host drives with a short loop.

The core decides every request, retry, wait and save point; the host only moves
bytes: it sends each request as given, sleeps, reads the files asked for, and stores
the saved progress when the session says ``save``::

    session = tmbridge.Session.start("rally.connect", {"config": config}, secrets={"api_key": key})
    while True:
        step = session.next()
        if step["step"] == "send":
            session.receive(step["id"], http(step))        # the host's HTTP
        elif step["step"] == "read":
            session.provide_file(step["id"], data=read(step["path"]))
        elif step["step"] == "wait":
            time.sleep(step["ms"] / 1000)
        elif step["step"] == "save":
            store(session.save())                          # durably, before going on
        else:
            report = step                                  # "done": the report
            break
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Union, cast

from . import _native
from ._envelope import unwrap
from .types import HttpResponse, SessionKind, Step, SessionUnits

__all__ = ["Session", "session_kinds"]


def _secrets_json(secrets: Optional[Mapping[str, str]]) -> str:
    return json.dumps(dict(secrets or {}))


class Session:
    """A live session. Create it with :meth:`start` or :meth:`resume`.

    Errors of the host's calls (an unknown kind, no credentials, an answer to a
    request that was not asked) raise ``tmbridge.SessionError`` or another
    ``tmbridge.Error`` with the core's code. What goes wrong with the target (a bad
    key, the server down) is not an exception: the final ``done`` step's ``error``
    says it.
    """

    __slots__ = ("_kind", "_native")

    def __init__(self, native: _native.NativeSession) -> None:
        opened = unwrap(native.opened())
        self._native = native
        self._kind = cast(str, opened["kind"])

    @classmethod
    def start(
        cls,
        kind: str,
        input: Mapping[str, Any],
        *,
        secrets: Optional[Mapping[str, str]] = None,
        options: Optional[Mapping[str, Any]] = None,
    ) -> Session:
        """Start a session of ``kind`` (see :func:`session_kinds`) on its input.

        ``secrets``: ``{"api_key": ...}`` or ``{"username": ..., "password": ...}``;
        given to the session, never saved. ``options``: ``{"seed": n, "retry": {...}}``.
        """
        request: Dict[str, Any] = {"kind": kind, "input": dict(input)}
        if options is not None:
            request["options"] = dict(options)
        return cls(_native.NativeSession.start(json.dumps(request), _secrets_json(secrets)))

    @classmethod
    def resume(cls, saved: Union[str, bytes], *, secrets: Optional[Mapping[str, str]] = None) -> Session:
        """Go on from what :meth:`save` returned (in this or any other runtime)."""
        return cls(_native.NativeSession.resume(saved, _secrets_json(secrets)))

    @property
    def kind(self) -> str:
        """The session's kind, e.g. ``rally.publish``."""
        return self._kind

    def next(self) -> Step:
        """What the host does next: a dict keyed by ``step`` (``send``, ``read``,
        ``wait``, ``save`` or ``done``)."""
        return cast(Step, unwrap(self._native.next_envelope()))

    def receive(self, id: int, response: HttpResponse) -> None:
        """The answer to the request ``id`` (from a ``send`` step)."""
        unwrap(self._native.receive(id, json.dumps(response)))

    def provide_file(
        self,
        id: int,
        data: Optional[Union[bytes, bytearray, memoryview]] = None,
        error: Optional[str] = None,
    ) -> None:
        """The bytes of the file a ``read`` step asked for, or ``error``: why it could
        not be read. Give exactly one of the two."""
        unwrap(self._native.provide_file(id, data, error))

    def save(self) -> str:
        """The session's progress as JSON, secrets excepted: store it when a ``save``
        step comes, and :meth:`resume` from it after a crash."""
        return cast(str, unwrap(self._native.save()))

    def units(self) -> SessionUnits:
        """``{"done", "total"}``: units of work, for progress displays."""
        return cast(SessionUnits, unwrap(self._native.units()))

    def __repr__(self) -> str:
        return f"<tmbridge.Session {self._kind}>"


def session_kinds() -> List[SessionKind]:
    """Every kind of session the core can start, with its input's shape."""
    return cast(List[SessionKind], unwrap(_native.call_json("session.kinds", "{}")))
