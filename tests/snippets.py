"""Run one snippet of code with ``lib`` as torch and as ember, and compare what comes out."""

import warnings

import numpy as np
import torch

import ember


def run_one(code: str, lib) -> str:
    """``repr(out)`` after running ``code``, or the error it raised, plus any warning."""
    scope = {"lib": lib, "np": np, "F": lib.nn.functional}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(code, scope)
            result = repr(scope.get("out"))
        except Exception as error:  # the error is the outcome being compared
            # The in-place error's hint names PyTorch's anomaly mode, which ember does not have.
            result = f"{type(error).__name__}: {error}".split(" Hint:")[0]
    for warning in caught:  # the first sentence: PyTorch's go on with links and C++ places
        result += f" [{warning.category.__name__}: {str(warning.message).split('. ')[0]}]"
    return result.replace("torch.", "ember.")


def run_both(code: str):
    """The outcomes of ``code`` in torch, then in ember."""
    return run_one(code, torch), run_one(code, ember)


def assert_same(code: str):
    expected, actual = run_both(code)
    assert actual == expected, f"\n{code}\ntorch: {expected}\nember: {actual}"
