"""``import ember`` defers some subpackages to their first use (``_LAZY`` in ember/__init__.py,
``__getattr__`` in ember.utils and ember.optim): each must still be reachable every way a
PyTorch program reaches it. Each check runs in a fresh interpreter, where nothing has loaded
the deferred modules yet (in this process other tests have)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Deferred by ``import ember``: module -> how a program reaches it after ``import ember``.
DEFERRED = {
    "ember.serialization": "ember.serialization",
    "ember.multiprocessing": "ember.multiprocessing",
    "ember.vision": "ember.vision",
    "ember.profiler": "ember.profiler",
    "ember.utils.data": "ember.utils.data",
    "ember.utils.checkpoint": "ember.utils.checkpoint",
    "ember.optim.lr_scheduler": "ember.optim.lr_scheduler",
}


def run_fresh(code: str) -> str:
    """Run ``code`` in a new interpreter with this checkout's ember; return its output."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_ember_loads_none_of_the_deferred_modules():
    code = ("import sys, ember\n"
            f"print([name for name in {sorted(DEFERRED)!r} if name in sys.modules])\n")
    assert run_fresh(code).splitlines() == ["[]"]


@pytest.mark.parametrize("module", sorted(DEFERRED))
def test_deferred_module_is_an_attribute_and_the_imported_module(module):
    # First by attribute, then by import statement: both give the one module object.
    code = ("import importlib, sys, ember\n"
            f"by_attribute = {DEFERRED[module]}\n"
            f"import {module}\n"
            f"print(by_attribute is {module} is sys.modules[{module!r}], by_attribute.__name__)\n")
    assert run_fresh(code).split() == ["True", module]


@pytest.mark.parametrize("module", sorted(DEFERRED))
def test_deferred_module_imported_first_is_the_attribute_after(module):
    parent, _, name = module.rpartition(".")
    code = (f"import {module}\n"
            f"from {parent} import {name}\n"
            f"import sys\n"
            f"print({module} is {name} is sys.modules[{module!r}])\n")
    assert run_fresh(code).split() == ["True"]


def test_names_of_deferred_modules_behave_as_pytorchs():
    code = (
        "import ember\n"
        "from ember import load, nn, save\n"
        "import ember.nn.functional as F\n"
        "from ember.utils.data import DataLoader, TensorDataset\n"
        "import ember.serialization\n"
        "print(save is ember.save is ember.serialization.save,\n"
        "      load is ember.load is ember.serialization.load)\n"
        "print(ember.utils.data.DataLoader is DataLoader, F is ember.nn.functional,\n"
        "      nn.Linear is ember.nn.Linear)\n"
        "print(ember.optim.lr_scheduler.StepLR.__module__, ember.vision.transforms.__name__)\n"
        "print(all(name in dir(ember) for name in\n"
        "          ('save', 'load', 'serialization', 'vision', 'profiler', 'multiprocessing')),\n"
        "      'data' in dir(ember.utils) and 'checkpoint' in dir(ember.utils),\n"
        "      'lr_scheduler' in dir(ember.optim))\n"
        "print(hasattr(ember, 'no_such_name'), hasattr(ember.utils, 'no_such_name'),\n"
        "      hasattr(ember.optim, 'no_such_name'))\n"
        "import io\n"
        "buffer = io.BytesIO()\n"
        "save(ember.arange(3.0), buffer)\n"
        "buffer.seek(0)\n"
        "print(load(buffer).tolist())\n")
    assert run_fresh(code).splitlines() == [
        "True True", "True True True", "ember.optim.lr_scheduler ember.vision.transforms",
        "True True True", "False False False", "[0.0, 1.0, 2.0]"]


def test_show_config_after_a_bare_import():
    assert "compiled kernels" in run_fresh("import ember; ember.show_config()")


def test_star_import_gives_the_deferred_names_import_ember_once_loaded():
    code = ("from ember import *\n"
            "print(save is serialization.save, load is serialization.load,\n"
            "      multiprocessing.__name__, Tensor.__name__, nn.__name__, callable(sin_))\n")
    assert run_fresh(code).split() == ["True", "True", "ember.multiprocessing", "Tensor",
                                       "ember.nn", "True"]
