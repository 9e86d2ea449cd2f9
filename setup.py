"""Builds ember's compiled CPU kernels (ember/_C); the rest of the package is in pyproject.toml.

The extension is optional: where it cannot be built (no C compiler), pip still installs ember,
which then runs its NumPy code everywhere (``ember.show_config()`` says which is in use).
"""

import glob

from setuptools import Extension, setup

kernels = Extension(
    "ember._C._kernels",
    sources=sorted(glob.glob("ember/_C/*.c")),
    depends=sorted(glob.glob("ember/_C/*.h") + glob.glob("ember/_C/*.inc")),
    # No -march=native: the build must run on any x86-64 (or ARM) the folder is copied to.
    # No floating-point contraction: a*b+c stays two roundings, as in NumPy.
    # No errno from sqrt and no floating-point traps (neither changes a value): loops with a
    # sqrt or a choice between two results can then run on vectors of elements.
    extra_compile_args=["-O3", "-std=c99", "-ffp-contract=off", "-fno-math-errno",
                        "-fno-trapping-math", "-Wall"],
    optional=True,
)

setup(ext_modules=[kernels])
