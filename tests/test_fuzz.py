"""Differential fuzzing: random tensor programs run on ember and on PyTorch must agree.

Each example is a small random program (``fuzz_programs.programs``): leaf tensors, then 3-10
steps of broadcasting arithmetic, comparisons and ``where``, reductions, views and reshapes,
basic and advanced indexing, in-place ops on intermediates and on views of them, matmul,
conv2d and pooling. The same program runs on both libraries; they must agree on

- which step raises, if any, and the exception type;
- every variable's shape, dtype, ``requires_grad`` and values (NaN positions too), after all
  steps, so that an in-place op that does not reach a view's base shows;
- which names are the same object (``v5 = v3.add_(1)`` returns ``v3``);
- after ``loss.backward()`` on a weighted sum of every float result that requires grad: whether
  backward raises, and each leaf's ``.grad`` (None or values).

CI runs a fixed, derandomized set of examples in well under a minute. For a longer hunt::

    EMBER_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q tests/test_fuzz.py

(random seeds then, so every run explores new programs). A failure prints the program as a
script (``import ember as lib`` / ``import torch as lib``) that reproduces it. With
``FUZZ_DUMP=path`` each program is written to ``path`` before it runs, to find one that crashes
the process.
"""

import os
import warnings

import numpy as np
import torch
from fuzz_programs import programs, run_steps, variables
from hypothesis import HealthCheck, given, settings

import ember

EXAMPLES = int(os.environ.get("EMBER_FUZZ_EXAMPLES", "0"))

# Tolerances (rtol; atol is rtol times the largest finite magnitude, at least 1).
VALUE_TOL = {"float32": 1e-5, "float64": 1e-10}
GRAD_TOL = {"float32": 1e-4, "float64": 1e-9}

# Exception types that count as the same (PyTorch's type, ember's type).
EQUIVALENT_ERRORS = set()


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def to_numpy(t):
    return np.asarray(t.detach().cpu().numpy() if hasattr(t, "cpu") else t.detach().numpy())


def assert_close(ours, theirs, what, tol):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != torch {theirs.shape}"
    if theirs.dtype.kind not in "fc":
        mismatch = ours != theirs
    else:
        ours64, theirs64 = ours.astype(np.float64), theirs.astype(np.float64)
        finite = np.isfinite(theirs64)
        scale = max(1.0, float(np.max(np.abs(theirs64[finite]), initial=0.0)))
        with np.errstate(all="ignore"):
            close = np.isclose(ours64, theirs64, rtol=tol, atol=tol * scale, equal_nan=True)
        mismatch = ~close
    if mismatch.any():
        where = tuple(np.argwhere(mismatch)[0]) if mismatch.ndim else ()
        raise AssertionError(
            f"{what}: {int(mismatch.sum())} of {mismatch.size} values differ, first at "
            f"{where}: ember {ours[where]!r}, torch {theirs[where]!r}\n"
            f"ember:\n{ours}\ntorch:\n{theirs}")


def same_error(theirs, ours):
    a, b = type(theirs).__name__, type(ours).__name__
    return a == b or (a, b) in EQUIVALENT_ERRORS


def compare_state(tns, ens, code):
    names = variables(tns)
    assert variables(ens) == names, f"names: ember {variables(ens)}, torch {names}"
    same_t = [next(m for m in names if tns[m] is tns[n]) for n in names]
    same_e = [next(m for m in names if ens[m] is ens[n]) for n in names]
    assert same_e == same_t, f"aliases (name -> first same object): ember {same_e}, torch {same_t}"
    for n in names:
        t, e = tns[n], ens[n]
        assert isinstance(e, ember.Tensor), f"{n}: ember gives {type(e).__name__}"
        assert tuple(e.shape) == tuple(t.shape), f"{n}: shape {tuple(e.shape)} != {t.shape}"
        assert dtype_name(e) == dtype_name(t), f"{n}: dtype {e.dtype} != {t.dtype}"
        assert e.requires_grad == t.requires_grad, \
            f"{n}: requires_grad {e.requires_grad} != {t.requires_grad}"
        tol = VALUE_TOL.get(dtype_name(t), 0)
        if "float32" in code or ".float()" in code:
            tol = max(tol, VALUE_TOL["float32"])  # float64 results computed from float32 ones
        assert_close(to_numpy(e), to_numpy(t), f"value of {n}", tol)


def backward(ns, lib, names, seed):
    rng = np.random.default_rng(seed)
    loss = None
    try:
        for n in names:
            v = ns[n]
            w = lib.tensor(rng.uniform(-1, 1, tuple(v.shape)), dtype=v.dtype)
            term = (v * w).sum()
            loss = term if loss is None else loss + term
        loss.backward()
    except Exception as error:  # noqa: BLE001 - compared with PyTorch's
        return error
    return None


def compare_grads(program, tns, ens):
    names = [n for n in variables(tns)
             if dtype_name(tns[n]) in ("float32", "float64") and tns[n].requires_grad]
    if not names:
        return
    terr = backward(tns, torch, names, program.seed)
    eerr = backward(ens, ember, names, program.seed)
    code = "\n".join(program.steps)
    assert (terr is None) == (eerr is None), f"backward: ember raised {eerr!r}, torch {terr!r}"
    if terr is not None:
        assert same_error(terr, eerr), f"backward: ember raised {eerr!r}, torch {terr!r}"
        return
    mixed = any(leaf.array.dtype == np.float32 for leaf in program.leaves) or ".float()" in code
    for leaf in program.leaves:
        if not leaf.requires_grad:
            continue
        tg, eg = tns[leaf.name].grad, ens[leaf.name].grad
        assert (eg is None) == (tg is None), \
            f"{leaf.name}.grad: ember {'None' if eg is None else 'set'}, " \
            f"torch {'None' if tg is None else 'set'}"
        if tg is None:
            continue
        assert dtype_name(eg) == dtype_name(tg), f"{leaf.name}.grad dtype {eg.dtype} != {tg.dtype}"
        ours, theirs = to_numpy(eg), to_numpy(tg)
        # a float64 leaf whose gradient went through float32 steps has float32 precision
        tol = GRAD_TOL["float32"] if mixed else GRAD_TOL[dtype_name(tg)]
        assert_close(ours, theirs, f"{leaf.name}.grad", tol)


def check_program(program):
    if os.environ.get("FUZZ_DUMP"):
        with open(os.environ["FUZZ_DUMP"], "w") as f:
            f.write(repr(program))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tns, tstep, terr = run_steps(program, torch)
        ens, estep, eerr = run_steps(program, ember)
        assert estep == tstep, (f"ember raised at step {estep} ({eerr!r}), "
                                f"torch at step {tstep} ({terr!r})")
        if terr is not None:
            assert same_error(terr, eerr), f"step {tstep}: ember raised {eerr!r}, torch {terr!r}"
        code = "\n".join(leaf.code() for leaf in program.leaves) + "\n" + "\n".join(
            program.steps)
        compare_state(tns, ens, code)
        if terr is None:
            compare_grads(program, tns, ens)
            compare_state(tns, ens, code)  # backward must not change any value


@settings(max_examples=EXAMPLES or 1500, deadline=None, derandomize=not EXAMPLES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(program=programs())
def test_random_programs_match_pytorch(program):
    try:
        check_program(program)
    except AssertionError as error:
        raise AssertionError(f"{error}\n\nThe program:{program!r}") from None
