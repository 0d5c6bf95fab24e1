#!/usr/bin/env python3
"""The dependency listing of gateway/ and modules/, from the #include lines, and its rules.

The layers come from gateway/README.md: its table lists the folders from the top (the
process) to the bottom (lib), one row each. A file may include headers of its own folder and
of folders below it, never above; no include circle (file to file) anywhere; a module
includes only the public snapgate/*.h headers and its own folder's; no file in gateway/ is
longer than 500 lines; every folder of gateway/ has its row.

Prints one line per folder: what it includes, by folder, with the number of include lines.
Exit status 0 when every rule holds, 1 when one does not (each breach is printed), 2 when
the tree cannot be read. Python 3 standard library only.

    python3 tests/static/layers.py [REPO]
"""

import os
import re
import sys

MAX_LINES = 500
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
ROW = re.compile(r"^\|\s*`?([a-z_]+)/`?\s*\|")


def layers(repo):
    """The folders of gateway/README.md's table, top first."""
    path = os.path.join(repo, "gateway", "README.md")
    with open(path, encoding="utf-8") as f:
        return [m.group(1) for m in map(ROW.match, f) if m]


def sources(root):
    for d, _, files in os.walk(root):
        for name in sorted(files):
            if name.endswith((".c", ".h")):
                yield os.path.join(d, name)


def resolve(repo, src, inc):
    """The repository path an include names: beside the including file, under gateway/,
    under include/; None for a header outside the repository."""
    for base in (os.path.dirname(src), os.path.join(repo, "gateway"),
                 os.path.join(repo, "include")):
        cand = os.path.normpath(os.path.join(base, inc))
        if os.path.isfile(cand):
            return os.path.relpath(cand, repo)
    return None


def folder_of(rel):
    """gateway/<folder>/x -> folder; gateway/main.c -> 'main'; include/... -> 'include';
    modules/<kind>/<name>/x -> 'modules/<kind>/<name>'."""
    parts = rel.split(os.sep)
    if parts[0] == "gateway":
        return parts[1] if len(parts) > 2 else "main"
    if parts[0] == "modules":
        return "/".join(parts[:3])
    return parts[0]


def find_circle(graph):
    """One include circle (a list of files) or None."""
    state = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(sorted(graph.get(nxt, ())))))
    return None


def main():
    repo = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), "..", ".."))
    try:
        order = layers(repo)
    except OSError as e:
        print("cannot read the layers: %s" % e)
        return 2
    rank = {name: i for i, name in enumerate(order)}
    rank["main"] = -1          # gateway/main.c stands above every layer
    graph, edges, breaches = {}, {}, []
    for top in ("gateway", "modules", "include"):
        for src in sources(os.path.join(repo, top)):
            rel = os.path.relpath(src, repo)
            with open(src, encoding="utf-8") as f:
                text = f.read()
            if top == "gateway" and text.count("\n") > MAX_LINES:
                breaches.append("%s: %d lines (at most %d)" % (rel, text.count("\n"), MAX_LINES))
            here = folder_of(rel)
            if top == "gateway" and here not in rank:
                breaches.append("%s: folder %s/ has no row in gateway/README.md" % (rel, here))
            graph.setdefault(rel, set())
            for inc in INCLUDE.findall(text):
                target = resolve(repo, src, inc)
                if target is None:
                    continue
                graph[rel].add(target)
                there = folder_of(target)
                edges.setdefault(here, {}).setdefault(there, 0)
                edges[here][there] += 1
                if top == "modules" and there not in (here, "include"):
                    breaches.append("%s includes %s: a module sees only include/ and its own "
                                    "folder" % (rel, target))
                if top == "include" and there != "include":
                    breaches.append("%s includes %s: a public header includes public headers "
                                    "only" % (rel, target))
                if top == "gateway" and there in rank and here in rank \
                        and rank[there] < rank[here]:
                    breaches.append("%s includes %s: %s/ is above %s/" % (rel, target, there, here))
    circle = find_circle(graph)
    if circle:
        breaches.append("include circle: " + " -> ".join(circle))
    for here in ["main"] + order + sorted(k for k in edges if k.startswith("modules/")):
        outs = edges.get(here, {})
        listing = ", ".join("%s %d" % (k, v) for k, v in sorted(outs.items()) if k != here)
        print("%-24s -> %s" % (here + ("/" if here != "main" else ""), listing or "-"))
    for b in breaches:
        print("BREACH " + b)
    print("%d folders, %d files, %d breaches" % (len(order), len(graph), len(breaches)))
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
