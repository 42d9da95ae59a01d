"""Exceptions raised for errors of the core. The text is the core's own."""

from __future__ import annotations

from typing import Any, Dict, Optional, Type


class Error(Exception):
    """Base class of every error the core reports.

    ``str(error)`` is the core's text (position, message, code, hint). The parts are
    attributes: ``code`` (stable, e.g. ``junit.malformed_xml``: match on this),
    ``detail`` (the message alone), ``line`` and ``column`` (from 1, column in
    characters), ``offset`` (bytes from 0) and ``hint``; the position ones are None
    when the error has no position.
    """

    code: str
    detail: str
    line: Optional[int]
    column: Optional[int]
    offset: Optional[int]
    hint: Optional[str]

    def __init__(self, text: str, error: Dict[str, Any]) -> None:
        super().__init__(text)
        self.code = str(error.get("code", ""))
        self.detail = str(error.get("message", ""))
        location = error.get("location") or {}
        self.line = location.get("line")
        self.column = location.get("column")
        self.offset = location.get("offset")
        self.hint = error.get("hint")


class InputError(Error):
    """The input of an op was not understood (``ops.*``): bad shape, bad JSON, unknown op."""


class JunitError(Error):
    """A JUnit report could not be read (``junit.*``)."""


class RallyQueryError(Error):
    """A Rally query was refused (``rally_query.*``)."""


class AutofillError(Error):
    """Defect auto-fill failed (``autofill.*``)."""


class ConfigError(Error):
    """A configuration, status map, matching rule, template or run context is wrong
    (``config.*``, ``status.*``, ``matching.*``, ``template.*``, ``context.*``)."""


class RallyError(Error):
    """A Rally payload could not be built (``rally.*``)."""


class QtestError(Error):
    """A qTest payload could not be built (``qtest.*``)."""


class TestrailError(Error):
    """A TestRail payload could not be built (``testrail.*``)."""


class GitlabError(Error):
    """A GitLab webhook could not be read (``gitlab.*``)."""


class SessionError(Error):
    """A session could not start, resume or take what the host gave it (``session.*``,
    ``sync.*``): an unknown kind, no credentials, saved progress from another version,
    an answer to a request that was not asked."""


_CLASSES: Dict[str, Type[Error]] = {
    "ops": InputError,
    "junit": JunitError,
    "rally_query": RallyQueryError,
    "autofill": AutofillError,
    "config": ConfigError,
    "status": ConfigError,
    "matching": ConfigError,
    "rally": RallyError,
    "qtest": QtestError,
    "testrail": TestrailError,
    "gitlab": GitlabError,
    "session": SessionError,
    "sync": SessionError,
    "template": ConfigError,
    "context": ConfigError,
}


def error_class_for(code: str) -> Type[Error]:
    """The exception class for an error code, by its area (the part before the first dot)."""
    return _CLASSES.get(code.split(".", 1)[0], Error)
