"""Build of the compiled extensions (the rest is in pyproject.toml).

``boilerclf._cwalk``, the DOM walker, reads lexbor's C structs as laid out in
selectolax 1.0.2 (pinned in pyproject.toml); it needs no lexbor headers and
links against nothing.  ``boilerclf._ctrees`` is the tree-ensemble predictor
behind :mod:`boilerclf.trees` (plain C over typed memoryviews, no headers);
``boilerclf._cguard`` is the markup guard behind :mod:`boilerclf.guard`;
``boilerclf._cfeat`` the per-character pass of :mod:`boilerclf.features` (and the
stage-2 input of :mod:`boilerclf.model`).  ``boilerclf._cmodels`` holds the
shipped models' trees as C code: ``boilerclf/codegen.py`` (standard library
only, loaded from its file) writes ``boilerclf/_cmodels_gen.h`` from
``models/*.npz`` first; rebuild after retraining the shipped models (until
then they predict through the node table, the same scores, slower).
"""
import importlib.util
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

_here = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_bcf_codegen", _here / "boilerclf" / "codegen.py")
_codegen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_codegen)
_codegen.write_header(sorted((_here / "models").glob("boilerclf-*.npz")),
                      _here / "boilerclf" / "_cmodels_gen.h")

setup(
    ext_modules=cythonize(
        [Extension("boilerclf._cwalk", ["boilerclf/_cwalk.pyx"], extra_compile_args=["-O2"]),
         Extension("boilerclf._cguard", ["boilerclf/_cguard.pyx"], extra_compile_args=["-O2"]),
         Extension("boilerclf._ctrees", ["boilerclf/_ctrees.pyx"], extra_compile_args=["-O2"]),
         Extension("boilerclf._cfeat", ["boilerclf/_cfeat.pyx"],
                   # float32 arithmetic must round like numpy's: no fused multiply-add
                   extra_compile_args=["-O2", "-ffp-contract=off"]),
         Extension("boilerclf._cmodels", ["boilerclf/_cmodels.pyx"],
                   depends=["boilerclf/_cmodels_gen.h"], extra_compile_args=["-O2"])],
        compiler_directives={"language_level": 3},
    ),
)
