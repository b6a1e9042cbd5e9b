"""Build of the compiled DOM walker ``boilerclf._cwalk`` and markup guard
``boilerclf._cguard`` (the rest is in pyproject.toml).

The walker reads lexbor's C structs as laid out in selectolax 1.0.2 (pinned in
pyproject.toml); it needs no lexbor headers and links against nothing.
"""
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("boilerclf._cwalk", ["boilerclf/_cwalk.pyx"], extra_compile_args=["-O2"]),
         Extension("boilerclf._cguard", ["boilerclf/_cguard.pyx"], extra_compile_args=["-O2"])],
        compiler_directives={"language_level": 3},
    ),
)
