"""Build lx's native parts: the cffi platform module and the Cython decoder.

Metadata lives in pyproject.toml; this file only declares the extensions,
which pip builds with the build requirements pyproject.toml lists.
"""
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    cffi_modules=["native/build_lxfast.py:ffibuilder"],
    ext_modules=cythonize(
        [Extension("lx.native._decode", ["native/decode.pyx"])],
        compiler_directives={"language_level": "3"},
    ),
)
