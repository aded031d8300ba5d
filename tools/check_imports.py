#!/usr/bin/env python3
"""Import graph checks for src/ (Rust) and python/mojo_tls/ (Python).

Builds the file-level import graph of each and fails (exit 1) on:
  - any cycle between files;
  - a Rust file importing a top-level module of a higher layer (LAYERS).

Rust edges: `use crate::…`, `use super::…`, `use self::…` (use trees with
braces expanded) and `crate::…` / `super::…` paths anywhere in the code
(comments and strings stripped). A path resolves to the deepest module
file it names; when it then names an item that the module re-exports
(`pub use child::Item`), the edge goes to the file that defines it, so a
facade `mod.rs` that only declares and re-exports its children is not part
of a cycle with them. `mod x;` declarations are containment, not imports.
Items defined in a `mod.rs` that its children use do make edges (child ->
mod.rs), so such a mod.rs must not import those children.

Python edges: every `import` / `from … import` of the package's own modules,
also inside functions (a function-local import is still a dependency), but
not those under `if TYPE_CHECKING:` (never executed).

usage: tools/check_imports.py [--graph]   (--graph prints the edges)
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PY = ROOT / "python" / "mojo_tls"

# Top-level modules of src/, lowest layer first. A file may import modules of
# its own layer or lower ones, never higher. Each line is one layer.
LAYERS: List[Set[str]] = [
    {"error"},
    {"backend"},
    {"net", "certs", "registry", "certgen", "crypto"},
    {"transport"},
    {"record"},
    {"config"},
    {"conn", "listener"},
    {"ffi"},
    {"", "testing"},  # the crate root (lib.rs) and the tests' surface
]


# --------------------------------------------------------------------- Rust

def module_of(path: Path) -> Tuple[str, ...]:
    rel = path.relative_to(SRC).with_suffix("")
    parts = rel.parts
    if parts == ("lib",):
        return ()
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def strip_rust(text: str) -> str:
    """Remove comments, string and char literals (keeps line structure)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            i = n if j < 0 else j + len(end)
            out.append('""')
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 12]):
            m = re.match(r"'(\\[^']*|[^\\'])'", text[i:])
            i += len(m.group(0)) if m else 1
            out.append("' '")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_top(s: str) -> List[str]:
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def expand_use(tree: str) -> List[List[str]]:
    """`a::{b, c::{d, e}}` -> [[a,b], [a,c,d], [a,c,e]] (aliases dropped)."""
    tree = re.sub(r"\s+", "", tree)
    tree = re.sub(r"\bas\b\w+", "", tree)
    m = re.match(r"^(.*?)(?:::)?\{(.*)\}$", tree)
    if m:
        prefix = [p for p in m.group(1).split("::") if p]
        res = []
        for sub in split_top(m.group(2)):
            for tail in expand_use(sub):
                res.append(prefix + tail)
        return res
    tree = re.sub(r"as[A-Za-z_]\w*$", "", tree) if "::" in tree else tree
    return [[p for p in tree.split("::") if p]]


class RustCrate:
    def __init__(self) -> None:
        self.files: Dict[Tuple[str, ...], Path] = {}
        for p in sorted(SRC.rglob("*.rs")):
            self.files.setdefault(module_of(p), p)
        # `pub(in crate::x)` is a visibility, not a use of `x`.
        self.text = {m: re.sub(r"\bpub\(in [^)]*\)", "pub", strip_rust(p.read_text()))
                     for m, p in self.files.items()}
        # re-exports: module -> {name: absolute path list}
        self.reexports: Dict[Tuple[str, ...], Dict[str, List[str]]] = {}
        for m, t in self.text.items():
            rx: Dict[str, List[str]] = {}
            for um in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", t):
                for path in expand_use(um.group(1)):
                    ab = self.absolute(m, path)
                    if ab and path[-1] not in ("*", "self"):
                        rx[path[-1]] = ab
            self.reexports[m] = rx

    def is_mod_rs(self, m: Tuple[str, ...]) -> bool:
        p = self.files[m]
        return p.name in ("mod.rs", "lib.rs")

    def absolute(self, m: Tuple[str, ...], path: List[str]) -> Optional[List[str]]:
        """A use path as seen from module `m`, made absolute (from the crate
        root); None for external crates."""
        if not path:
            return None
        head = path[0]
        if head == "crate":
            return path[1:]
        base = list(m)
        rest = path
        if head == "self":
            rest = path[1:]
        elif head == "super":
            while rest and rest[0] == "super":
                base = base[:-1]
                rest = rest[1:]
        else:
            # a child module named directly (`use child::X` in a mod.rs)
            if tuple(base + [head]) in self.files:
                return base + path
            return None
        return base + rest

    def resolve(self, path: List[str], seen: Optional[Set[Tuple[str, ...]]] = None) -> Optional[Tuple[str, ...]]:
        """The file module defining what `path` (absolute) names."""
        seen = seen or set()
        k = len(path)
        while k >= 0 and tuple(path[:k]) not in self.files:
            k -= 1
        if k < 0:
            return None
        mod = tuple(path[:k])
        rest = path[k:]
        if rest and rest[0] not in ("*", "self") and mod not in seen:
            target = self.reexports.get(mod, {}).get(rest[0])
            if target is not None:
                seen.add(mod)
                r = self.resolve(target + rest[1:], seen)
                if r is not None:
                    return r
        return mod

    def edges(self) -> Dict[Tuple[str, ...], Set[Tuple[str, ...]]]:
        g: Dict[Tuple[str, ...], Set[Tuple[str, ...]]] = {m: set() for m in self.files}
        for m, t in self.text.items():
            paths: List[List[str]] = []
            for um in re.finditer(r"\buse\s+([^;]+);", t):
                paths.extend(expand_use(um.group(1)))
            for pm in re.finditer(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)", t):
                paths.append(pm.group(1).split("::"))
            for path in paths:
                ab = self.absolute(m, path)
                if ab is None:
                    continue
                target = self.resolve(ab)
                if target is not None and target != m:
                    g[m].add(target)
        return g


def layer_of(mod: Tuple[str, ...]) -> int:
    top = mod[0] if mod else ""
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise SystemExit(f"check_imports: src/{'/'.join(mod)}: top-level module {top!r} "
                     "is in no layer: add it to LAYERS in tools/check_imports.py")


# ------------------------------------------------------------------- Python

def py_edges() -> Dict[str, Set[str]]:
    mods = {p.stem: p for p in sorted(PY.glob("*.py"))}
    g: Dict[str, Set[str]] = {m: set() for m in mods}

    def own(name: Optional[str], level: int, names: List[str]) -> List[str]:
        if level == 0:
            if name is None or not (name == "mojo_tls" or name.startswith("mojo_tls.")):
                return []
            name = name[len("mojo_tls"):].lstrip(".") or None
        if name:
            return [name.split(".")[0]]
        return [n for n in names if n in mods]

    for m, p in mods.items():
        tree = ast.parse(p.read_text(), str(p))
        skip: Set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
                for sub in node.body:
                    for s in ast.walk(sub):
                        skip.add(id(s))
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: List[str] = []
            if isinstance(node, ast.ImportFrom):
                targets = own(node.module, node.level, [a.name for a in node.names])
            elif isinstance(node, ast.Import):
                for a in node.names:
                    targets += own(a.name, 0, [])
            for t in targets:
                if t in mods and t != m:
                    g[m].add(t)
    return g


# ------------------------------------------------------------------- common

def find_cycle(g: Dict) -> Optional[List]:
    """One cycle as a list of nodes, or None (iterative DFS)."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {n: WHITE for n in g}
    for root in sorted(g):
        if color[root] != WHITE:
            continue
        stack = [(root, iter(sorted(g[root])))]
        color[root] = GREY
        path = [root]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                color[node] = BLACK
                stack.pop()
                path.pop()
                continue
            if color.get(nxt, BLACK) == GREY:
                return path[path.index(nxt):] + [nxt]
            if color.get(nxt) == WHITE:
                color[nxt] = GREY
                stack.append((nxt, iter(sorted(g[nxt]))))
                path.append(nxt)
    return None


def main() -> int:
    show = "--graph" in sys.argv[1:]
    crate = RustCrate()
    rg = crate.edges()
    fname = lambda m: str(crate.files[m].relative_to(ROOT))  # noqa: E731
    problems = []
    for m, deps in sorted(rg.items()):
        for d in sorted(deps):
            if show:
                print(f"{fname(m)} -> {fname(d)}")
            if layer_of(d) > layer_of(m):
                top = lambda x: x[0] if x else "lib.rs"  # noqa: E731
                problems.append(f"layering: {fname(m)} imports {fname(d)} "
                                f"(`{top(d)}` is above `{top(m)}` in LAYERS)")
    # Cycles: remove one found cycle's edge and look again, to list them all.
    g = {m: set(d) for m, d in rg.items()}
    while (c := find_cycle(g)) is not None:
        problems.append("cycle in src/: " + " -> ".join(fname(x) for x in c))
        g[c[0]].discard(c[1])
    pg = py_edges()
    if show:
        for m, deps in sorted(pg.items()):
            for d in sorted(deps):
                print(f"python/mojo_tls/{m}.py -> python/mojo_tls/{d}.py")
    g2 = {m: set(d) for m, d in pg.items()}
    while (c := find_cycle(g2)) is not None:
        problems.append("cycle in python/mojo_tls/: " + " -> ".join(f"{x}.py" for x in c))
        g2[c[0]].discard(c[1])
    for p in problems:
        print(p)
    n_rs = sum(len(d) for d in rg.values())
    n_py = sum(len(d) for d in pg.values())
    if problems:
        print(f"check_imports: {len(problems)} problem(s)")
        return 1
    print(f"check_imports: no cycles, layers respected ({len(rg)} Rust files, {n_rs} edges; "
          f"{len(pg)} Python modules, {n_py} edges)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
