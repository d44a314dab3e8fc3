"""Build loadtool's compiled core (loadtool/speedups.py names its modules) with Cython.

Everything else is in setup.cfg. The core is optional, as aiohttp's and yarl's are: with no
C compiler (or LOADTOOL_NO_EXTENSIONS=1 at install), the build says why and goes on, and
the same modules run as Python.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# (the package's __init__ imports nothing)
from loadtool.speedups import COMPILED, ENVIRONMENT, ONLY_COMPILED, disabled  # noqa: E402

#: Cython reads the .py as Python (annotations are not C types: ``int`` there means any
#: Python int); the C types are in each module's .pxd.
DIRECTIVES = {"language_level": 3, "annotation_typing": False, "embedsignature": True}


def _say(text: str) -> None:
    print(f"loadtool: {text}; the pure-Python modules will run instead", file=sys.stderr)


def extensions() -> list:
    if disabled():
        _say(f"{ENVIRONMENT} is set: not building the compiled core")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _say("Cython is not installed: not building the compiled core")
        return []
    sources = [f"loadtool/{name.replace('.', '/')}.py" for name in COMPILED]
    sources += [f"loadtool/{name.replace('.', '/')}.pyx" for name in ONLY_COMPILED]
    extensions = cythonize(sources, compiler_directives=DIRECTIVES, quiet=True)
    if sys.platform != "win32":  # no debug symbols: a third of the compile time, and most of the wheel
        for extension in extensions:
            extension.extra_compile_args.append("-g0")
    return extensions


class OptionalBuildExt(build_ext):
    """build_ext that leaves out what fails to compile, saying so, instead of failing; the
    modules compile side by side, one per core (pip gives no -j)."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no compiler at all (distutils' CCompilerError, PlatformError...)
            _say(f"the compiled core could not be built ({error})")

    def build_extension(self, extension) -> None:
        try:
            super().build_extension(extension)
        except Exception as error:
            _say(f"{extension.name} could not be compiled ({error})")


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
