"""``ember run SCRIPT.py``: an unmodified PyTorch program, with ember in PyTorch's place.

``run_script`` puts an import hook in front of Python's own finders that answers every
``torch...`` import with ember's module of the same path and every ``torchvision...`` import
with ``ember.vision``'s: ``torch.nn.functional`` is ``ember.nn.functional``, and
``torchvision.transforms`` is ``ember.vision.transforms``. The hook hands back ember's module
object itself, so ``torch.nn is ember.nn`` and a program sees one module under both names. It
then runs the script as ``python SCRIPT.py`` would: as ``__main__``, with its folder first on
``sys.path`` and ``sys.argv`` set to the script and its arguments. Processes the program starts
with multiprocessing's spawn method (DataLoader workers, ``Process``) get ember too, through
the stand-in packages of ``_run_aliases``.

Example:
    >>> from ember import _run
    >>> _run.ember_name("torchvision.transforms")
    'ember.vision.transforms'
"""

import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys
import traceback

# The top-level package each aliased name stands for, and ember's package in its place.
ALIASES = {"torch": "ember", "torchvision": "ember.vision"}

# The folder of stand-in torch and torchvision packages for spawned processes.
SPAWNED_ALIASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_run_aliases")


def ember_name(name: str) -> "str | None":
    """The ember module that ``ember run`` imports for module ``name`` (None: not aliased)."""
    top, dot, rest = name.partition(".")
    if top not in ALIASES:
        return None
    return ALIASES[top] + dot + rest


class TorchAliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The import hook: ``torch.X`` imports (and is) ``ember.X``, ``torchvision.X`` is
    ``ember.vision.X``."""

    def find_spec(self, fullname, path=None, target=None):
        if ember_name(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        target = ember_name(spec.name)
        try:
            return importlib.import_module(target)
        except ModuleNotFoundError as error:
            if error.name != target:  # a module that ember's own module imports is missing
                raise
            raise ModuleNotFoundError(f"No module named '{spec.name}': ember has no "
                                      f"'{target}' to run in its place (ember run)",
                                      name=spec.name) from None

    def exec_module(self, module) -> None:
        # ember's module ran when create_module imported it; the alias adds nothing.
        pass


def install() -> None:
    """Put the alias hook first in ``sys.meta_path`` (once).

    PyTorch must not be imported in the process yet: a program would then get PyTorch's
    modules for the names already imported and ember's for the rest.
    """
    if any(isinstance(finder, TorchAliases) for finder in sys.meta_path):
        return
    imported = sorted(name for name in sys.modules if ember_name(name) is not None)
    if imported:
        raise RuntimeError(f"{imported[0]} is already imported in this process; ember run "
                           "needs a process where no torch module has been imported")
    sys.meta_path.insert(0, TorchAliases())


def alias_in_place(name: str) -> None:
    """Called by the ``torch`` and ``torchvision`` packages in ``_run_aliases`` while a spawned
    process imports them: install the hook, and make module ``name`` ember's module. Imported
    by their path inside ember (``ember._run_aliases.torch``, as walking ember's packages
    does), they stand for nothing and change nothing."""
    if ember_name(name) is None:
        return
    if not any(isinstance(finder, TorchAliases) for finder in sys.meta_path):
        sys.meta_path.insert(0, TorchAliases())
    # The import statement that is running returns what sys.modules holds once it finishes.
    sys.modules[name] = importlib.import_module(ember_name(name))


def _script_frames(tb, script: str):
    """The traceback ``tb`` from the first frame in ``script`` on (without ember run's own)."""
    start = tb
    while start is not None and start.tb_frame.f_code.co_filename != script:
        start = start.tb_next
    return start or tb


def run_script(script: str, args=()) -> None:
    """Run the PyTorch program ``script`` with ``args`` on ember, as ``python script args``.

    Every ``torch...`` and ``torchvision...`` import in it (and in the modules it imports)
    gets ember's module, also in the processes it spawns. The script runs as ``__main__``
    with ``__file__`` its absolute path (as Python gives a main script), its folder first on
    ``sys.path`` (then ``SPAWNED_ALIASES``) and ``sys.argv`` the script's absolute path and
    ``args`` (``runpy`` sets ``argv[0]`` to the path it runs). An exception the script does
    not catch prints its traceback (from the script's frame on) and exits with status 1;
    ``sys.exit`` in the script exits with its status, as under ``python``.

    Example:
        >>> from ember import _run
        >>> _run.run_script("train.py", ["--epochs", "1"])  # doctest: +SKIP
    """
    path = os.path.abspath(script)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"can't open file '{path}': [Errno 2] No such file or "
                                "directory")
    install()
    # As ``python script``: the folder of the script (symlinks resolved) replaces the folder
    # Python put first (the current one for -m, the console script's for ``ember``). The
    # aliases' folder follows it, for the processes the program spawns (_run_aliases).
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    sys.path.insert(1, SPAWNED_ALIASES)
    sys.argv = [path, *args]
    try:
        runpy.run_path(path, run_name="__main__")
    except Exception as error:
        traceback.print_exception(type(error), error, _script_frames(error.__traceback__,
                                                                      path))
        from .distributed import distributed_c10d
        distributed_c10d.stop_other_ranks(type(error))  # in a job, don't leave them waiting
        sys.exit(1)
