"""Conformance vectors for the Python runner: the same steps as
core/tests/support/vector_text.rs. Take a top-level value's raw text, minify it,
compare with the core's output text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, NamedTuple, Optional

VECTORS_DIR = Path(__file__).resolve().parents[3] / "tests" / "vectors"


def _skip_ws(t: str, i: int) -> int:
    while i < len(t) and t[i] in " \t\n\r":
        i += 1
    return i


def _string_end(t: str, i: int) -> int:
    i += 1
    while i < len(t):
        if t[i] == "\\":
            i += 2
        elif t[i] == '"':
            return i + 1
        else:
            i += 1
    raise ValueError("unterminated string")


def _value_end(t: str, i: int) -> int:
    c = t[i]
    if c == '"':
        return _string_end(t, i)
    if c in "{[":
        depth = 0
        while i < len(t):
            d = t[i]
            if d == '"':
                i = _string_end(t, i)
                continue
            if d in "{[":
                depth += 1
            elif d in "}]":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise ValueError("unterminated value")
    while i < len(t) and t[i] not in ",}] \t\n\r":
        i += 1
    return i


def raw_value(text: str, key: str) -> Optional[str]:
    """The raw text of a top-level key's value in a JSON object text."""
    i = _skip_ws(text, 0)
    if text[i] != "{":
        raise ValueError("a vector is a JSON object")
    i += 1
    while True:
        i = _skip_ws(text, i)
        if text[i] != '"':
            return None
        key_end = _string_end(text, i)
        name = text[i + 1 : key_end - 1]
        i = _skip_ws(text, key_end)
        if text[i] != ":":
            raise ValueError("expected :")
        start = _skip_ws(text, i + 1)
        end = _value_end(text, start)
        if name == key:
            return text[start:end]
        i = _skip_ws(text, end)
        if text[i] != ",":
            return None
        i += 1


def minify(text: str) -> str:
    """The JSON text without whitespace outside strings."""
    out: List[str] = []
    in_string = escaped = False
    for c in text:
        if in_string:
            out.append(c)
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif c not in " \t\n\r":
            out.append(c)
    return "".join(out)


class Vector(NamedTuple):
    name: str
    op: str
    input: str
    expected: str


def load_vectors() -> List[Vector]:
    vectors = []
    for path in sorted(VECTORS_DIR.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        op = json.loads(raw_value(text, "op") or "null")
        raw_input = raw_value(text, "input")
        input_text = raw_input if raw_input is not None else json.loads(raw_value(text, "input_text") or "null")
        expected = raw_value(text, "expected")
        assert expected is not None, f"{path.name}: no expected (run the Rust runner with UPDATE_VECTORS=1)"
        vectors.append(Vector(path.name, op, input_text, minify(expected)))
    return vectors
