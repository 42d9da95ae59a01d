"""Envelopes into values and exceptions: shared by every part of the package."""

from __future__ import annotations

import json
from typing import Any, Dict, NoReturn, Optional

from . import _native
from ._errors import error_class_for


def raise_error(error: Dict[str, Any], cause: Optional[BaseException] = None) -> NoReturn:
    """Raise the exception of an envelope's ``error``, with the core's own text."""
    text = _native.error_text(json.dumps(error))
    raise error_class_for(str(error.get("code", "")))(text, error) from cause


def unwrap(envelope: str) -> Any:
    """The ``ok`` of an envelope (JSON text); raise its ``error``."""
    value = json.loads(envelope)
    if value["error"] is not None:
        raise_error(value["error"])
    return value["ok"]
