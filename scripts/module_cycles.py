#!/usr/bin/env python3
"""Fails when a crate's top-level modules import each other in a cycle.

Each module may lean on the ones below it, never on one that leans back on it (the
structure the README's Architecture describes). Reads `crate::…` paths, grouped `use
crate::{…}` trees included, in each crate's sources; a file's `#[cfg(test)] mod tests`
and comments are left out, since tests may reach anywhere.

Usage: scripts/module_cycles.py [crate folder …]   (every crate but the entry points by default)
"""
import os
import re
import sys


def sources(crate):
    """Each module's path (as a tuple of names) and its text, tests and comments left out."""
    root = os.path.join(crate, "src")
    modules = {}
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.relpath(os.path.join(folder, name), root)[:-3].split(os.sep)
            if path[-1] in ("mod", "lib", "main"):
                path = path[:-1]
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                text = f.read()
            tests = text.find("#[cfg(test)]\nmod tests")
            if tests >= 0:
                text = text[:tests]
            text = "\n".join(line for line in text.split("\n") if not line.strip().startswith("//"))
            modules[tuple(path)] = text
    return modules


def use_tree(text, i, prefix, out):
    """Reads the use tree starting at text[i]; appends each path to `out`; returns where it ends."""
    segments = list(prefix)
    while True:
        name = re.match(r"\s*(\w+)\s*", text[i:])
        if name:
            segments.append(name.group(1))
            i += name.end()
            if text.startswith("::", i):
                i += 2
                continue
            out.append(tuple(segments))
            return i
        if text.startswith("{", i):
            i += 1
            while i < len(text):
                i = use_tree(text, i, segments, out)
                alias = re.match(r"\s*as\s+\w+", text[i:])
                if alias:
                    i += alias.end()
                i += len(text[i:]) - len(text[i:].lstrip())
                if text.startswith(",", i):
                    i += 1
                    i += len(text[i:]) - len(text[i:].lstrip())
                if text.startswith("}", i):
                    return i + 1
            return i
        out.append(tuple(segments))
        return i + 1 if text.startswith("*", i) else i


def imports(text):
    """Every `crate::…` path the text names."""
    paths = []
    for found in re.finditer(r"\bcrate::", text):
        use_tree(text, found.end(), (), paths)
    return paths


def cycles(crate):
    modules = sources(crate)
    edges = {}
    for module, text in modules.items():
        if not module:
            continue
        for path in imports(text):
            if path and path[0] != module[0] and (path[0],) in modules:
                edges.setdefault(module[0], {}).setdefault(path[0], "::".join(module))
    found, index, low, stack, on_stack = [], {}, {}, [], set()

    def connect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found, edges


def main():
    failed = False
    for crate in sys.argv[1:] or ["vocabulary", "backend", "app", "server"]:
        found, edges = cycles(crate)
        for component in found:
            failed = True
            print(f"{crate}: modules import each other in a cycle: {', '.join(component)}")
            for a in component:
                for b, where in sorted(edges.get(a, {}).items()):
                    if b in component:
                        print(f"  {a} -> {b} (in {where})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    main()
