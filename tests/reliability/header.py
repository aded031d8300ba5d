"""Parse the function declarations of mojo_tls.h and mojo_tls_compat.h (the
ones in dist/include, i.e. the headers the tested library was built with;
<repo>/include otherwise).

Each function: name, return type, parameters (type text + name) and its doc
comment; `compat` is true for the functions of mojo_tls_compat.h (whose doc
comments also start with "Compat:", see docs/compat.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

from rtlib import DIST, ROOT


@dataclass
class Param:
    type: str
    name: str

    @property
    def is_pointer(self) -> bool:
        return "*" in self.type

    @property
    def is_const_pointer(self) -> bool:
        return self.is_pointer and self.type.startswith("const")

    @property
    def is_handle(self) -> bool:
        return bool(re.search(r"\bmojo_tls_(config|conn|gencert|dtls_listener)\s*\*$", self.type)) and "*const" not in self.type


@dataclass
class Func:
    name: str
    ret: str
    params: List[Param] = field(default_factory=list)
    doc: str = ""

    @property
    def compat(self) -> bool:
        return self.doc.lstrip().startswith("Compat:")


def header_path(name: str = "mojo_tls.h") -> Path:
    for p in (DIST / "include" / name, ROOT / "include" / name):
        if p.exists():
            return p
    raise SystemExit(f"error: {name} not found")


def header_paths() -> List[Path]:
    """The native header, then the compat header."""
    return [header_path("mojo_tls.h"), header_path("mojo_tls_compat.h")]


_DECL = re.compile(r"/\*\*(?P<doc>(?:(?!\*/).)*?)\*/\s*(?P<decl>[^;{}#]*?\bmojo_tls_\w+\s*\([^;{}]*\))\s*;", re.S)


def _param(text: str) -> Param:
    text = " ".join(text.split())
    m = re.match(r"^(?P<type>.*?[\s*])(?P<name>\w+)$", text)
    if not m:
        raise ValueError(f"cannot parse parameter {text!r}")
    t = re.sub(r"\s*\*\s*", "*", m.group("type").strip()).replace("*const*", "*const *")
    t = re.sub(r"\s*\*", " *", t).replace("* *", "**").strip()
    return Param(t, m.group("name"))


def parse(path: Path | None = None) -> Dict[str, Func]:
    """The functions of `path`, or of both headers when it is None."""
    if path is None:
        out: Dict[str, Func] = {}
        for p in header_paths():
            out.update(parse(p))
        return out
    text = path.read_text()
    compat_header = path.name == "mojo_tls_compat.h"
    out = {}
    for m in _DECL.finditer(text):
        decl = " ".join(m.group("decl").split())
        dm = re.match(r"^(?P<ret>.*?)\b(?P<name>mojo_tls_\w+)\s*\((?P<params>.*)\)$", decl)
        if not dm:
            continue
        doc = " ".join(line.strip().lstrip("*").strip() for line in m.group("doc").splitlines()).strip()
        params_text = dm.group("params").strip()
        params = [] if params_text in ("", "void") else [_param(p) for p in params_text.split(",")]
        f = Func(dm.group("name"), dm.group("ret").strip(), params, doc)
        if compat_header and not f.compat:
            f.doc = "Compat: " + f.doc
        out[dm.group("name")] = f
    return out


def declared_names(path: Path | None = None) -> List[str]:
    """Every identifier called like a function (comments removed) — the
    independent cross-check that parse() missed nothing."""
    if path is None:
        return sorted(set(n for p in header_paths() for n in declared_names(p)))
    text = path.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return sorted(set(re.findall(r"\b(mojo_tls_\w+)\s*\(", text)))


if __name__ == "__main__":
    fs = parse()
    for f in fs.values():
        print(("C " if f.compat else "  ") + f.ret, f.name, [(p.type, p.name, p.is_handle) for p in f.params])
    print(len(fs), len(declared_names()), set(declared_names()) - set(fs))
