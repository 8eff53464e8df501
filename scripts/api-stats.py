#!/usr/bin/env python3
"""Maintainer figures for the library's shape: public items, `where` clauses with more than
5 bounds (all of them, and those of public functions and trait methods), and the largest
source files. A heuristic over the text, not a compiler: a public item is a line that starts
`pub struct|enum|trait|type|union|fn` (not `pub(crate)`, and not one whose previous line is
`#[doc(hidden)]`, counted apart); it does not know whether the module is reachable.

Usage: scripts/api-stats.py [DIR ...]   (default: src macros/src); run `cargo doc --no-deps
--all-features -p grant` first for the rustdoc count.
"""
import os
import re
import sys

dirs = sys.argv[1:] or ["src", "macros/src"]
files = []
for d in dirs:
    for root, _, names in os.walk(d):
        files += [os.path.join(root, n) for n in names if n.endswith(".rs")]

types = traits = fns = hidden = 0
type_re = re.compile(r"^\s*pub (struct|enum|trait|type|union) ")
fn_re = re.compile(r"^\s*pub (const |async |unsafe )?fn ")
where_bounds = []
sizes = []


def split_depth0(text):
    depth, cur, out = 0, [], []
    for ch in text:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur))
    return [p for p in out if p.strip()]


for path in sorted(files):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    sizes.append((len(lines) - 1, path))
    for i, line in enumerate(lines):
        prev = lines[i - 1].strip() if i else ""
        m = type_re.match(line)
        if m or fn_re.match(line):
            if prev == "#[doc(hidden)]":
                hidden += 1
                continue
            if m:
                types += 1
                traits += m.group(1) == "trait"
            else:
                fns += 1
    text = "\n".join(l for l in lines if not l.strip().startswith("//"))
    for m in re.finditer(r"\bwhere\b", text):
        rest = text[m.end():]
        depth, end = 0, len(rest)
        for j, ch in enumerate(rest):
            if ch in "<([":
                depth += 1
            elif ch in ">)]":
                # `->` is not a closing bracket
                if ch == ">" and j and rest[j - 1] == "-":
                    continue
                depth -= 1
            elif ch in "{;" and depth <= 0:
                end = j
                break
        clause = rest[:end].replace("->", "=>")
        before = text[: m.start()]
        cut = max(before.rfind("{"), before.rfind("}"), before.rfind(";"))
        owner = before[cut + 1 :]
        is_fn = re.search(r"\bfn\b", owner) is not None
        in_pub_fn = is_fn and re.search(r"\bpub(?!\()\s", owner) is not None
        # Trait methods are public when the trait is; count every fn in a `pub trait`.
        if is_fn and not in_pub_fn:
            trait_at = before.rfind("pub trait ")
            impl_at = max(before.rfind("\nimpl"), before.rfind("\n    impl"), before.rfind("pub(crate) trait"))
            in_pub_fn = trait_at > impl_at
        where_bounds.append((len(split_depth0(clause)), path, in_pub_fn))

over = [w for w in where_bounds if w[0] > 5]
print(f"public types: {types} (traits: {traits}); public functions: {fns}; doc(hidden): {hidden}")
pub_fns = [w for w in where_bounds if w[2]]
pub_over = [w for w in pub_fns if w[0] > 4]
print(f"where clauses: {len(where_bounds)}, with more than 5 bounds: {len(over)}")
print(f"where clauses of public functions: {len(pub_fns)}, with more than 4 bounds: {len(pub_over)}")
for n, p, _ in sorted(pub_over, reverse=True)[:12]:
    print(f"  {n:3} bounds  {p}")
print("largest files:")
for n, p in sorted(sizes, reverse=True)[:5]:
    print(f"  {n:5} lines  {p}")

# The public surface as rustdoc documents it (reachable, not hidden), when the docs are built
# (`cargo doc --no-deps --all-features -p grant`); the re-exported diesel prelude left out.
doc = os.path.join("target", "doc", "grant", "all.html")
if os.path.exists(doc):
    page = open(doc, encoding="utf-8").read()
    sections = re.findall(r'<h3 id="([a-z-]+)">.*?</h3><ul class="all-items">(.*?)</ul>', page, re.S)
    counts = {
        kind: len([h for h in re.findall(r'href="([^"]+)"', items) if not h.startswith("prelude/")])
        for kind, items in sections
    }
    total = sum(counts.values())
    print(f"documented public items (rustdoc): {total} " + str(counts))
