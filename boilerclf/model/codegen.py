"""The shipped models' trees as C code, compiled when boilerclf is built.

:class:`boilerclf.model.trees.FlatTrees` predicts by walking a table of nodes, one
loop for every node of every tree, so the CPU's branch predictor sees a single
branch for all of them.  Written out as C, each node is its own ``if`` with its
threshold and feature as constants, and the predictor learns each node's
habits: the same trees predict about twice as fast (``benchmarks/SPEED.md``).

At build time ``setup.py`` runs :func:`write_header` on ``models/*.npz``: it
writes ``boilerclf/model/_cmodels_gen.h`` (one C function per tree, and a table of
forests keyed by :func:`digest`), which ``boilerclf/model/_cmodels.pyx`` compiles.
At run time a :class:`~boilerclf.model.trees.FlatTrees` whose arrays have the digest
of a compiled forest predicts through it; any other forest (a retrained or
site model, a model file changed after the build) walks the node table as
before.  The two give the same raw scores to the bit: the same float64
comparisons (``x <= threshold`` goes left; NaN follows the node's
missing-value side), the same leaf values, summed in the same tree order.

This module uses the standard library only (``setup.py`` imports it from its
file before numpy is installed) and reads the model file's ``.npy`` members
itself.
"""
from __future__ import annotations

import ast
import hashlib
import math
import struct
import zipfile
from pathlib import Path

#: The node arrays of a forest, with the byte layout :func:`digest` hashes.
LAYOUT = {
    "feature": "<i4",
    "threshold": "<f8",
    "missing_left": "|u1",
    "left": "<i4",
    "right": "<i4",
    "value": "<f8",
    "roots": "<i4",
}
#: struct codes of the dtypes a model file's arrays have.
_STRUCT = {"<i4": "i", "<f8": "d", "|u1": "B"}
#: Stages of a model file (the prefixes of its members).
STAGES = ("s1", "s2", "site")


def digest(arrays: dict[str, bytes], n_features: int) -> str:
    """SHA-256 (hex) of a forest: its node arrays as little-endian bytes in
    :data:`LAYOUT` order, then the number of features."""
    h = hashlib.sha256()
    for name in LAYOUT:
        h.update(name.encode())
        h.update(arrays[name])
    h.update(str(int(n_features)).encode())
    return h.hexdigest()


def _read_npy(data: bytes) -> tuple[str, tuple[int, ...], bytes]:
    """dtype string, shape and raw bytes of an ``.npy`` file (C order only)."""
    if data[:6] != b"\x93NUMPY":
        raise ValueError("not an .npy file")
    major = data[6]
    if major == 1:
        (hlen,), start = struct.unpack("<H", data[8:10]), 10
    else:
        (hlen,), start = struct.unpack("<I", data[8:12]), 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    if header.get("fortran_order"):
        raise ValueError("Fortran-ordered array")
    return header["descr"], tuple(header["shape"]), data[start + hlen:]


def _values(descr: str, raw: bytes, count: int) -> list:
    code = _STRUCT.get(descr)
    if code is None:
        raise ValueError(f"unexpected dtype {descr}")
    return list(struct.unpack(f"<{count}{code}", raw[:count * struct.calcsize(code)]))


def read_forests(path: str | Path) -> list[dict]:
    """The forests (stages) of a model file: per stage ``{"name", "digest",
    "n_features", and the node arrays as lists}``."""
    out = []
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for st in STAGES:
            if f"{st}_feature.npy" not in names:
                continue
            arrays = {}
            for name in (*LAYOUT, "meta"):
                descr, shape, raw = _read_npy(z.read(f"{st}_{name}.npy"))
                if len(shape) != 1:
                    raise ValueError(f"{st}_{name} is not 1-D")
                arrays[name] = _values(descr, raw, shape[0])
            n_features = int(arrays["meta"][1])
            packed = {name: struct.pack(f"<{len(arrays[name])}{_STRUCT[fmt]}", *arrays[name])
                      for name, fmt in LAYOUT.items()}
            out.append({"name": f"{Path(path).stem}:{st}", "digest": digest(packed, n_features),
                        "n_features": n_features, **{k: arrays[k] for k in LAYOUT}})
    return out


def _c_double(v: float) -> str:
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return repr(float(v))  # shortest repr: reads back to the same double


def _forest_c(f: dict, k: int) -> list[str]:
    """C functions of forest number ``k`` (one per tree) and its table."""
    feat, thr, ml = f["feature"], f["threshold"], f["missing_left"]
    left, right, val, roots = f["left"], f["right"], f["value"], f["roots"]
    n, nf = len(feat), f["n_features"]
    out: list[str] = []
    for t, root in enumerate(roots):
        end = roots[t + 1] if t + 1 < len(roots) else n
        out.append(f"static double f{k}_t{t}(const float* x) {{")
        # iterative pre-order walk: "if (...) {" left "} else {" right "}"
        todo: list = [("node", root, 1)]
        while todo:
            kind, i, d = todo.pop()
            sp = "  " * d
            if kind == "text":
                out.append(sp + i)
                continue
            if not (root <= i < end):
                raise ValueError(f"forest {f['name']}: node {i} outside tree {t}")
            if feat[i] < 0:
                out.append(f"{sp}return {_c_double(val[i])};")
                continue
            if not 0 <= feat[i] < nf or not (i < left[i] < end and i < right[i] < end):
                raise ValueError(f"forest {f['name']}: malformed node {i}")
            x, c = f"(double)x[{feat[i]}]", _c_double(thr[i])
            # NaN: "<=" is false (goes right); "!(>)" is true (goes left)
            cond = f"!({x} > {c})" if ml[i] else f"{x} <= {c}"
            todo += [("text", "}", d), ("node", right[i], d + 1), ("text", "} else {", d),
                     ("node", left[i], d + 1)]
            out.append(f"{sp}if ({cond}) {{")
        out.append("}")
    out.append(f"static const treefn f{k}_trees[{len(roots)}] = {{"
               + ", ".join(f"f{k}_t{t}" for t in range(len(roots))) + "};")
    return out


def header(forests: list[dict]) -> str:
    """The C header ``_cmodels.pyx`` compiles: the trees of ``forests`` and the
    table ``BCF_FORESTS`` (digest, trees, number of trees and of features)."""
    out = ["/* Generated by boilerclf/model/codegen.py at build time from the model files; do not edit. */",
           "#include <math.h>",
           "typedef double (*treefn)(const float*);",
           "typedef struct { const char* digest; const treefn* trees; int n_trees; int n_features; } bcf_forest;"]
    for k, f in enumerate(forests):
        out.append(f"/* forest {k}: {f['name']} */")
        out += _forest_c(f, k)
    rows = [f'  {{"{f["digest"]}", f{k}_trees, {len(f["roots"])}, {f["n_features"]}}},'
            for k, f in enumerate(forests)]
    out.append(f"static const int BCF_N_FORESTS = {len(forests)};")
    out.append("static const bcf_forest BCF_FORESTS[] = {")
    out += rows or ['  {"", 0, 0, 0},']
    out.append("};")
    return "\n".join(out) + "\n"


def write_header(model_files: list[str | Path], dest: str | Path) -> list[str]:
    """Write the header for the forests of ``model_files`` (missing files are
    skipped; an unreadable one too, with its error's type in a comment, so a
    bad model file never breaks the build) to ``dest``, unless it already has
    that content.  Returns the names of the forests compiled."""
    forests, notes = [], []
    for p in model_files:
        if not Path(p).is_file():
            continue
        try:
            forests += read_forests(p)
        except Exception as exc:  # noqa: BLE001 - a bad file means no compiled trees, not no build
            notes.append(f"/* skipped {Path(p).name}: {type(exc).__name__} */")
    text = "\n".join(notes) + ("\n" if notes else "") + header(forests)
    dest = Path(dest)
    if not dest.is_file() or dest.read_text() != text:
        dest.write_text(text)
    return [f["name"] for f in forests]
