#!/usr/bin/env python3
"""Fails when a module of a crate depends on another that depends back on it.

Dependencies are read from the source: every `crate::a::b` path and every
`super::...` path outside tests, at each depth of the module tree (top-level
modules, their children, ...). A cycle at any depth is printed with its edges.

Usage: check-module-cycles.py SRC_DIR [SRC_DIR...]
"""
import collections
import os
import re
import sys

MAX_DEPTH = 4


def module_of(root, path):
    parts = os.path.relpath(path, root)[:-3].split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    return parts


def sources(root):
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".rs") or name in ("tests.rs", "testkit.rs"):
                continue
            path = os.path.join(folder, name)
            parts = module_of(root, path)
            if not parts or parts in (["lib"], ["main"]):
                continue
            text = open(path, encoding="utf-8").read()
            text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
            text = re.sub(r"//.*", "", text)
            yield path, parts, text


def edges_at(root, depth):
    edges = collections.defaultdict(set)
    for path, parts, text in sources(root):
        me = parts[:depth]
        is_mod = path.endswith("mod.rs")
        parent = parts if is_mod else parts[:-1]
        targets = [p.split("::") for p in re.findall(r"\bcrate::((?:\w+::)*\w+)", text)]
        for p in re.findall(r"\bsuper::((?:\w+::)*\w+)", text):
            base = parent[:-1] if is_mod else parent
            targets.append(base + p.split("::"))
        for t in targets:
            t = t[:depth]
            shorter = min(len(t), len(me))
            if t[:shorter] == me[:shorter]:
                continue  # itself, an ancestor or a descendant
            edges["::".join(me)].add("::".join(t))
    return edges


def cycles(edges):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return found


def main():
    failed = False
    for root in sys.argv[1:]:
        for depth in range(1, MAX_DEPTH + 1):
            edges = edges_at(root, depth)
            for comp in cycles(edges):
                failed = True
                print(f"{root}: modules depend on each other: {', '.join(comp)}")
                for a in comp:
                    for b in sorted(edges[a]):
                        if b in comp:
                            print(f"    {a} -> {b}")
    if failed:
        sys.exit(1)
    print("no module cycles in", ", ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
