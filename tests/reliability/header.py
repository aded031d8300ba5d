"""Parse the function declarations of mojo_tls.h (the one in dist/include,
i.e. the header the tested library was built with; <repo>/include otherwise).

Each function: name, return type, parameters (type text + name) and its doc
comment; `compat` is true when the doc comment starts with "Compat:" (the
header's marker for the compat layer, see docs/compat.md).
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
        return bool(re.search(r"\bmojo_tls_(config|conn|gencert)\s*\*$", self.type)) and "*const" not in self.type


@dataclass
class Func:
    name: str
    ret: str
    params: List[Param] = field(default_factory=list)
    doc: str = ""

    @property
    def compat(self) -> bool:
        return self.doc.lstrip().startswith("Compat:")


def header_path() -> Path:
    for p in (DIST / "include" / "mojo_tls.h", ROOT / "include" / "mojo_tls.h"):
        if p.exists():
            return p
    raise SystemExit("error: mojo_tls.h not found")


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
    text = (path or header_path()).read_text()
    out: Dict[str, Func] = {}
    for m in _DECL.finditer(text):
        decl = " ".join(m.group("decl").split())
        dm = re.match(r"^(?P<ret>.*?)\b(?P<name>mojo_tls_\w+)\s*\((?P<params>.*)\)$", decl)
        if not dm:
            continue
        doc = " ".join(line.strip().lstrip("*").strip() for line in m.group("doc").splitlines()).strip()
        params_text = dm.group("params").strip()
        params = [] if params_text in ("", "void") else [_param(p) for p in params_text.split(",")]
        out[dm.group("name")] = Func(dm.group("name"), dm.group("ret").strip(), params, doc)
    return out


def declared_names(path: Path | None = None) -> List[str]:
    """Every identifier called like a function (comments removed) — the
    independent cross-check that parse() missed nothing."""
    text = (path or header_path()).read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return sorted(set(re.findall(r"\b(mojo_tls_\w+)\s*\(", text)))


if __name__ == "__main__":
    fs = parse()
    for f in fs.values():
        print(("C " if f.compat else "  ") + f.ret, f.name, [(p.type, p.name, p.is_handle) for p in f.params])
    print(len(fs), len(declared_names()), set(declared_names()) - set(fs))
