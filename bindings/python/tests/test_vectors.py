"""Every conformance vector through the Python binding: byte-identical envelopes."""

from __future__ import annotations

import tmbridge

from vector_text import load_vectors, minify, raw_value


def test_every_vector_gives_its_expected_bytes() -> None:
    vectors = load_vectors()
    assert vectors, "no vectors found"
    failures = []
    for v in vectors:
        # bytes in, as every other runner passes them; str must give the same.
        actual = tmbridge.call_json(v.op, v.input.encode("utf-8"))
        if actual != v.expected:
            failures.append(v.name)
        assert tmbridge.call_json(v.op, v.input) == actual, v.name
    assert not failures, f"{len(failures)} of {len(vectors)} vectors differ: {failures}"
    print(f"python: {len(vectors)} of {len(vectors)} vectors byte-identical")


def test_vector_text_keeps_key_order_and_strings() -> None:
    text = '{\n  "op": "x",\n  "expected": {"2": [1, {}], "10": "s p\\"}"}\n}'
    assert raw_value(text, "op") == '"x"'
    assert minify(raw_value(text, "expected") or "") == '{"2":[1,{}],"10":"s p\\"}"}'
    assert raw_value(text, "nope") is None
