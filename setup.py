"""Build of the compiled extensions (the rest is in pyproject.toml).

``boilerclf.parse._cwalk``, the DOM walker, reads lexbor's C structs as laid out in
selectolax 1.0.0-1.0.2 (other releases are checked at import, see
``boilerclf.parse.html.load_fast_walker``); it needs no lexbor headers and
links against nothing.  ``boilerclf.model._ctrees`` is the tree-ensemble predictor
behind :mod:`boilerclf.model.trees` (plain C over typed memoryviews, no headers);
``boilerclf.parse._cguard`` is the markup guard behind :mod:`boilerclf.parse.guard`;
``boilerclf.features._cfeat`` the per-character pass of :mod:`boilerclf.features.table` (and the
stage-2 input of :mod:`boilerclf.model.classifier`).  ``boilerclf.model._cmodels`` holds the
shipped models' trees as C code: ``boilerclf/model/codegen.py`` (standard library
only, loaded from its file) writes ``boilerclf/model/_cmodels_gen.h`` from
``models/*.npz`` first; rebuild after retraining the shipped models (until
then they predict through the node table, the same scores, slower).
"""
import importlib.util
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

_here = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_bcf_codegen", _here / "boilerclf" / "model" / "codegen.py")
_codegen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_codegen)
_codegen.write_header(sorted((_here / "models").glob("boilerclf-*.npz")),
                      _here / "boilerclf" / "model" / "_cmodels_gen.h")

setup(
    ext_modules=cythonize(
        [Extension("boilerclf.parse._cwalk", ["boilerclf/parse/_cwalk.pyx"], extra_compile_args=["-O2"]),
         Extension("boilerclf.parse._cguard", ["boilerclf/parse/_cguard.pyx"], extra_compile_args=["-O2"]),
         Extension("boilerclf.model._ctrees", ["boilerclf/model/_ctrees.pyx"], extra_compile_args=["-O2"]),
         Extension("boilerclf.features._cfeat", ["boilerclf/features/_cfeat.pyx"],
                   # float32 arithmetic must round like numpy's: no fused multiply-add
                   extra_compile_args=["-O2", "-ffp-contract=off"]),
         Extension("boilerclf.model._cmodels", ["boilerclf/model/_cmodels.pyx"],
                   depends=["boilerclf/model/_cmodels_gen.h"], extra_compile_args=["-O2"])],
        compiler_directives={"language_level": 3},
    ),
)
