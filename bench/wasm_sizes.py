#!/usr/bin/env python3
"""Where a WASM module's bytes go: code size per crate (from the `name` section), plus the
largest functions and data. Needs a module that still has its names (a build before
`wasm-opt --strip`, or `wasm-bindgen --keep-debug`).

    bench/wasm_sizes.py target/front/wasm32-unknown-unknown/release/frontend.wasm [top]

Crate names come from the mangled symbols (legacy `_ZN...` and v0 `_R...`); generic code is
counted under the crate that defines the generic, as twiggy's "monos" view does.
"""
import re
import sys
from collections import Counter


def leb(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return r, i


def sections(b):
    i = 8
    while i < len(b):
        sid = b[i]
        size, j = leb(b, i + 1)
        yield sid, b[j : j + size]
        i = j + size


def parse(path):
    b = open(path, "rb").read()
    imported = 0
    bodies = []
    names = {}
    data = 0
    custom = Counter()
    for sid, body in sections(b):
        if sid == 2:  # imports: functions count first in the index space
            n, i = leb(body, 0)
            for _ in range(n):
                for _ in range(2):
                    ln, i = leb(body, i)
                    i += ln
                kind = body[i]
                i += 1
                if kind == 0:
                    _, i = leb(body, i)
                    imported += 1
                elif kind == 1:
                    i += 1
                    flags, i = leb(body, i)
                    _, i = leb(body, i)
                    if flags & 1:
                        _, i = leb(body, i)
                elif kind == 2:
                    flags, i = leb(body, i)
                    _, i = leb(body, i)
                    if flags & 1:
                        _, i = leb(body, i)
                elif kind == 3:
                    i += 2
        elif sid == 10:
            n, i = leb(body, 0)
            for _ in range(n):
                size, j = leb(body, i)
                bodies.append(size + (j - i))
                i = j + size
        elif sid == 11:
            data = len(body)
        elif sid == 0:
            ln, i = leb(body, 0)
            name = body[i : i + ln].decode("utf-8", "replace")
            custom[name] += len(body)
            if name == "name":
                i += ln
                while i < len(body):
                    kind = body[i]
                    size, j = leb(body, i + 1)
                    if kind == 1:
                        n, k = leb(body, j)
                        for _ in range(n):
                            idx, k = leb(body, k)
                            ln2, k = leb(body, k)
                            names[idx] = body[k : k + ln2].decode("utf-8", "replace")
                            k += ln2
                    i = j + size
    return b, imported, bodies, names, data, custom


def crate_of(sym):
    m = re.match(r"_ZN(\d+)(\S+)", sym)
    if m:
        n = int(m.group(1))
        return m.group(2)[:n]
    if sym.startswith("_R"):
        # v0: the first crate root, `C` + optional `s<hash>_` + <len><name>
        m = re.search(r"C(?:s[0-9A-Za-z]*_)?(\d+)([A-Za-z_][A-Za-z0-9_]*)", sym)
        if m:
            n = int(m.group(1))
            return m.group(2)[:n]
    if sym.startswith("<"):
        inner = re.match(r"<(?:&(?:mut )?)?([A-Za-z_][A-Za-z0-9_]*)", sym)
        return inner.group(1) if inner else "?"
    head = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", sym)
    return head.group(1) if head else "(unnamed)"


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    b, imported, bodies, names, data, custom = parse(path)
    code = sum(bodies)
    print(f"{path}: {len(b):,} bytes; code {code:,} in {len(bodies):,} functions; data {data:,}")
    for k, v in custom.most_common():
        print(f"  custom section {k!r}: {v:,}")
    if not names:
        print("no name section: build with names kept to see crates")
        return
    per_crate = Counter()
    per_fn = []
    for n, size in enumerate(bodies):
        sym = names.get(imported + n, "(unnamed)")
        per_crate[crate_of(sym)] += size
        per_fn.append((size, sym))
    print(f"\ncode by crate (top {top}):")
    for c, v in per_crate.most_common(top):
        print(f"  {v:>10,}  {100 * v / code:5.1f}%  {c}")
    print(f"\nlargest functions (top {top}):")
    for size, sym in sorted(per_fn, reverse=True)[:top]:
        print(f"  {size:>10,}  {sym[:150]}")


if __name__ == "__main__":
    main()
