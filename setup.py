"""Build lx's native parts: the cffi platform module, the Cython decoder and
the loader stub.

Metadata lives in pyproject.toml; this file only declares the extensions,
which pip builds with the build requirements pyproject.toml lists.  The stub
(native/stub/lxstub.c) is a freestanding static program, not an extension:
build_ext compiles it with the C compiler next to the extensions.
"""
import os
import subprocess
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

STUB_SRC = Path("native/stub/lxstub.c")
STUB_FLAGS = ["-nostdlib", "-static", "-fno-pie", "-no-pie", "-mcmodel=large", "-O2",
              "-fno-stack-protector", "-ffreestanding", "-fno-builtin", "-Wall", "-Wextra",
              # far from ET_EXEC (0x400000), PIEs (0x5555...), mmaps and stacks (0x7f...)
              "-Wl,-Ttext-segment=0x3f0000000000", "-Wl,--build-id=none"]


class BuildExtWithStub(build_ext):
    def run(self) -> None:
        super().run()
        out_dir = Path("lx/native") if self.inplace else Path(self.build_lib) / "lx" / "native"
        out_dir.mkdir(parents=True, exist_ok=True)
        cc = os.environ.get("CC", "gcc")
        subprocess.run([cc, *STUB_FLAGS, "-o", str(out_dir / "lx-stub"), str(STUB_SRC)], check=True)


setup(
    cffi_modules=["native/build_lxfast.py:ffibuilder"],
    ext_modules=cythonize(
        [Extension("lx.native._decode", ["native/decode.pyx"])],
        compiler_directives={"language_level": "3"},
    ),
    cmdclass={"build_ext": BuildExtWithStub},
)
