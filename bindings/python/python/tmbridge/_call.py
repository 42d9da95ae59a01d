"""The one entry point to the core's ops, shared by the package and the generated
per-op functions (``tmbridge.ops``)."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Union, cast

from . import _native
from ._envelope import unwrap
from .types import OpSpec

_BYTES = (str, bytes, bytearray, memoryview)


def call_json(
    op: str,
    input: Union[str, bytes] = "{}",
    document: Optional[Union[str, bytes]] = None,
) -> str:
    """Run an op and return its envelope exactly as the core wrote it (JSON text).

    ``{"ok": <output>, "error": null}`` or ``{"ok": null, "error": {...}}``: the same
    bytes in every runtime. Never raises for errors of the op.
    """
    return _native.call_json(op, input, document)


_document_fields: Optional[Dict[str, Optional[str]]] = None


def _document_field(op: str) -> Optional[str]:
    global _document_fields
    if _document_fields is None:
        specs = cast(List[OpSpec], unwrap(_native.call_json("ops.list", "{}")))
        _document_fields = {s["name"]: s["document"] for s in specs}
    return _document_fields.get(op)


def call(op: str, input: Optional[Mapping[str, Any]] = None) -> Any:
    """Run an op on a dict and return its output; raise ``tmbridge.Error`` on failure.

    The op's document field (see ``list_ops()``) may be ``bytes``.
    """
    fields: Dict[str, Any] = dict(input or {})
    field = _document_field(op)
    if field is not None and isinstance(fields.get(field), _BYTES):
        document = fields.pop(field)
        return unwrap(_native.call_json(op, json.dumps(fields), document))
    return unwrap(_native.call_json(op, json.dumps(fields)))
