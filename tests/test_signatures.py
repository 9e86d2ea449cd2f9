"""Every public function of ``ember`` and ``ember.nn.functional`` takes PyTorch's parameters.

PyTorch's signatures come from ``inspect.signature`` for its Python functions, and otherwise
from the docstring, whose first line (and each ``.. function::`` line, one per overload) spells
the signature: ``add(input, other, *, alpha=1, out=None) -> Tensor``. Ember's function must
have the same parameter names, in the same order, of the same kinds (positional-or-keyword,
keyword-only, ``*args``) as one of those signatures, less the parameters listed below that
ember leaves out on purpose. Defaults are not compared; the calls at the end compare values.
"""

import inspect
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF

# Parameters of PyTorch that ember leaves out (it has one layout, strided, and no pinned
# memory), or takes only where programs pass it (memory_format: clone, contiguous).
UNSUPPORTED = {"layout", "pin_memory", "memory_format"}

# Factory functions whose ``out=`` ember leaves out (the common ones take it).
NO_OUT = set()

# Functions whose PyTorch signature cannot be compared name by name, and why. Each is called
# with keywords in ``test_overloads_take_keywords`` below.
EXCEPTIONS = {
    "var": "PyTorch also takes the older (input, dim, unbiased, keepdim) overload, which its "
           "docstring does not list; ember's signature serves both",
    "std": "as var",
    "normal": "the docstring lists the overloads without their factory keywords (generator, "
              "dtype, device, requires_grad), which PyTorch takes",
    "max_pool2d": "PyTorch's is a boolean_dispatch wrapper with (*args, **kwargs)",
    "max_pool1d": "as max_pool2d",
    "adaptive_max_pool1d": "as max_pool2d",
    "adaptive_max_pool2d": "as max_pool2d",
    "is_grad_enabled": "its docstring's first line is not a signature",
    "relu": "torch.relu has no docstring; it takes (input) only",
    "log_softmax": "torch.log_softmax has no docstring; ember's is F.log_softmax, whose "
                   "signature F's check compares",
    "masked_fill": "torch.masked_fill has no docstring; it takes (input, mask, value)",
    "clamp_min": "torch.clamp_min has no docstring; it takes (input, min, *, out)",
    "unique": "PyTorch's is a boolean_dispatch wrapper with (*args, **kwargs); its documented "
              "(input, sorted, return_inverse, return_counts, dim) are ember's",
    "unique_consecutive": "as unique: (input, return_inverse, return_counts, dim)",
    "bernoulli": "the docstring lists (input, *, generator, out); torch.bernoulli also takes "
                 "p second (its other overload), as ember's does",
    "masked_scatter": "torch.masked_scatter has no docstring; it takes (input, mask, source)",
    "index_fill": "torch.index_fill has no docstring; it takes (input, dim, index, value)",
    "scatter": "the docstring lists (input, dim, index, src) only; torch.scatter also takes "
               "value= (the number overload), reduce= and out=, as ember's does",
    "scatter_add": "the docstring leaves out out=, which torch.scatter_add takes",
    "scatter_reduce": "the docstring leaves out out=, which torch.scatter_reduce takes",
    "clamp_max": "torch.clamp_max has no docstring; it takes (input, max, *, out)",
    "true_divide": "the docstring says (dividend, divisor), but torch.true_divide takes "
                   "(input, other, *, out), as ember's does",
    "set_num_threads": "PyTorch names its one parameter after the builtin `int`; ember's is "
                       "`count` (called positionally, as everyone does)",
    "set_num_interop_threads": "as set_num_threads",
}

# Functions defined outside the ops files that this test covers, whose parameters still differ
# from PyTorch's. Strict xfails: when one is fixed, the test says to take it off this list.
NOT_YET = {}


def _split_top_level(text: str):
    """``text`` split at the commas outside brackets."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def _parse_signature(line: str, name: str):
    """``[(parameter, kind), ...]`` from a docstring line ``name(a, b=1, *, c=None) -> T``."""
    start = line.index(name + "(") + len(name) + 1
    depth, end = 1, start
    while depth:
        depth += {"(": 1, ")": -1}.get(line[end], 0)
        end += 1
    parameters, kind = [], "POSITIONAL_OR_KEYWORD"
    for part in _split_top_level(line[start:end - 1].replace("\\*", "*")):
        if part == "*":
            kind = "KEYWORD_ONLY"
        elif part == "/":
            parameters = [(p, "POSITIONAL_ONLY") for p, _ in parameters]
        elif part.startswith("*"):
            parameters.append((part.lstrip("*"), "VAR_POSITIONAL"))
            kind = "KEYWORD_ONLY"
        else:
            parameters.append((re.split(r"[:=]", part)[0].strip(), kind))
    return parameters


def torch_signatures(function, name: str):
    """Every signature PyTorch gives for ``function``: one, or one per documented overload."""
    try:
        return [[(p.name, p.kind.name) for p in inspect.signature(function).parameters.values()]]
    except (TypeError, ValueError):
        pass
    lines = (function.__doc__ or "").strip().splitlines()
    overloads = [line.strip() for line in lines[:1]]
    for line in lines[1:]:  # a long first signature wraps (scaled_dot_product_attention's)
        if overloads[0].count("(") <= overloads[0].count(")"):
            break
        overloads[0] += " " + line.strip()
    overloads += [line.strip() for line in lines if line.strip().startswith(f".. function:: "
                                                                             f"{name}(")]
    return [_parse_signature(line, name) for line in overloads if f"{name}(" in line]


def ember_signature(function):
    return [(p.name, p.kind.name) for p in inspect.signature(function).parameters.values()
            if p.name not in UNSUPPORTED]


def _public_functions(ember_module, torch_module):
    for name in sorted(dir(ember_module)):
        ours = getattr(ember_module, name)
        if name.startswith("_") or not hasattr(torch_module, name):
            continue
        if inspect.isclass(ours) or inspect.ismodule(ours) or not callable(ours):
            continue
        if name in getattr(ember_module, "_INPLACE_FUNCTIONS", ()):
            continue  # torch.sin_(t) is t.sin_(): PyTorch documents no signature for them
        yield name, ours, getattr(torch_module, name)


CASES = [pytest.param(name, ours, theirs, id=f"{label}{name}",
                      marks=[pytest.mark.xfail(reason=NOT_YET[f"{label}{name}"], strict=True)]
                      if f"{label}{name}" in NOT_YET else [])
         for label, module, torch_module in (("", ember, torch), ("F.", EF, TF))
         for name, ours, theirs in _public_functions(module, torch_module)]


@pytest.mark.parametrize("name, ours, theirs", CASES)
def test_parameters_match_pytorch(name, ours, theirs):
    if name in EXCEPTIONS:
        pytest.skip(EXCEPTIONS[name])
    left_out = UNSUPPORTED | ({"out"} if name in NO_OUT else set())
    candidates = [[p for p in signature if p[0] not in left_out]
                  for signature in torch_signatures(theirs, name)]
    assert candidates, f"no signature found for torch.{name}"
    assert ember_signature(ours) in candidates, (
        f"{name}: ember has {ember_signature(ours)}, PyTorch has one of {candidates}")


def test_exceptions_are_still_needed():
    """Every exception names a public function that exists in both libraries."""
    names = {name for _, module, torch_module in (("", ember, torch), ("F.", EF, TF))
             for name, _, _ in _public_functions(module, torch_module)}
    assert set(EXCEPTIONS) <= names
    assert set(NOT_YET) <= names  # (all of them torch names, none F. ones)


# ---- calls with keywords give PyTorch's values ----------------------------------------------

def _tensors(lib, arrays):
    return [lib.tensor(a) for a in arrays]


A = np.array([[1.5, -2.0, 0.25], [3.0, 0.5, -1.0]], dtype=np.float32)
B = np.array([[0.5, 2.0, -1.5], [1.0, -0.5, 2.0]], dtype=np.float32)
V = np.array([1.0, -2.0, 0.5], dtype=np.float32)

KEYWORD_CALLS = {
    "add": lambda lib, a, b, v: lib.add(input=a, other=b, alpha=2),
    "sub": lambda lib, a, b, v: lib.sub(a, other=b, alpha=0.5),
    "mul": lambda lib, a, b, v: lib.mul(a, other=2),
    "div": lambda lib, a, b, v: lib.div(input=a, other=b, rounding_mode="floor"),
    "true_divide": lambda lib, a, b, v: lib.true_divide(input=a, other=b),
    "exp": lambda lib, a, b, v: lib.exp(input=a),
    "pow": lambda lib, a, b, v: lib.pow(input=a, exponent=2),
    "pow_scalar_base": lambda lib, a, b, v: lib.pow(2, exponent=a),
    "clamp": lambda lib, a, b, v: lib.clamp(input=a, min=-1, max=1),
    "round": lambda lib, a, b, v: lib.round(input=a, decimals=1),
    "maximum": lambda lib, a, b, v: lib.maximum(input=a, other=b),
    "where": lambda lib, a, b, v: lib.where(condition=a > 0, input=a, other=b),
    "lerp": lambda lib, a, b, v: lib.lerp(input=a, end=b, weight=0.25),
    "sum": lambda lib, a, b, v: lib.sum(input=a, dim=1, keepdim=True, dtype=lib.float64),
    "mean": lambda lib, a, b, v: lib.mean(a, dim=0, keepdim=False),
    "prod": lambda lib, a, b, v: lib.prod(a, dim=1, dtype=lib.float64),
    "var": lambda lib, a, b, v: lib.var(a, dim=1, correction=0, keepdim=True),
    "var_unbiased": lambda lib, a, b, v: lib.var(a, 1, False, True),
    "std": lambda lib, a, b, v: lib.std(input=a, dim=1, correction=2),
    "max_dim": lambda lib, a, b, v: lib.max(input=a, dim=1, keepdim=True).values,
    "max_other": lambda lib, a, b, v: lib.max(a, b),
    "amax": lambda lib, a, b, v: lib.amax(input=a, dim=0, keepdim=True),
    "argmax": lambda lib, a, b, v: lib.argmax(input=a, dim=1, keepdim=False),
    "logsumexp": lambda lib, a, b, v: lib.logsumexp(input=a, dim=1),
    "norm": lambda lib, a, b, v: lib.norm(input=a, p=1, dim=1, dtype=lib.float64),
    "all": lambda lib, a, b, v: lib.all(input=a > 0, dim=1),
    "cumsum": lambda lib, a, b, v: lib.cumsum(input=a, dim=1, dtype=lib.float64),
    "sort": lambda lib, a, b, v: lib.sort(input=a, dim=0, descending=True, stable=True).values,
    "topk": lambda lib, a, b, v: lib.topk(input=a, k=2, dim=1, largest=False).indices,
    "mm": lambda lib, a, b, v: lib.mm(input=a, mat2=b.t()),
    "mv": lambda lib, a, b, v: lib.mv(input=a, vec=v),
    "dot": lambda lib, a, b, v: lib.dot(input=v, tensor=v),
    "matmul": lambda lib, a, b, v: lib.matmul(input=a, other=v),
    "bmm": lambda lib, a, b, v: lib.bmm(input=a[None], mat2=b.t()[None]),
    "addmm": lambda lib, a, b, v: lib.addmm(input=v, mat1=b.t(), mat2=a, beta=2, alpha=0.5),
    "allclose": lambda lib, a, b, v: lib.tensor(lib.allclose(input=a, other=a + 1e-9)),
    "square": lambda lib, a, b, v: lib.square(input=a),
    "concatenate": lambda lib, a, b, v: lib.concatenate((a, b), axis=1),
    "full_like": lambda lib, a, b, v: lib.full_like(input=a, fill_value=7, dtype=lib.int64),
    "arange": lambda lib, a, b, v: lib.arange(start=1, end=7, step=2, dtype=lib.float32),
    "tensor": lambda lib, a, b, v: lib.tensor(data=[1, 2], dtype=lib.float64),
    "linear": lambda lib, a, b, v: lib.nn.functional.linear(input=a, weight=b, bias=None),
}


@pytest.mark.parametrize("name", sorted(KEYWORD_CALLS))
def test_keyword_calls_match_pytorch(name):
    call = KEYWORD_CALLS[name]
    expected = call(torch, *_tensors(torch, (A, B, V)))
    result = call(ember, *_tensors(ember, (A, B, V)))
    assert str(result.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_out_keyword_writes_the_result(lib):
    out = lib.empty(2, 3)
    returned = lib.exp(lib.tensor(A), out=out)
    assert returned is out
    np.testing.assert_allclose(out.numpy(), np.exp(A), rtol=1e-6)
    values, indices = lib.empty(0), lib.empty(0, dtype=lib.int64)
    lib.max(lib.tensor(A), dim=1, out=(values, indices))
    assert indices.tolist() == [0, 0] and values.tolist() == [1.5, 3.0]


def test_overloads_take_keywords():
    """The exceptions above, called as PyTorch's documentation calls them."""
    for lib in (torch, ember):
        lib.manual_seed(0)
        assert lib.normal(0.0, 1.0, size=(2, 3), generator=None).shape == (2, 3)
        assert lib.normal(mean=2.0, std=0.5, size=(4,), requires_grad=True).requires_grad
        x = lib.tensor(A)
        assert lib.var(x, dim=1, unbiased=False).shape == (2,)
        assert lib.std(x, 0, True, True).shape == (1, 3)
        assert lib.relu(input=x).shape == (2, 3)
        assert lib.masked_fill(input=x, mask=x > 0, value=0.0).shape == (2, 3)
        assert lib.nn.functional.max_pool2d(input=x[None, None], kernel_size=2).shape \
            == (1, 1, 1, 1)
        assert lib.nn.functional.max_pool1d(input=x, kernel_size=2, stride=1,
                                            return_indices=True)[1].shape == (2, 2)
        assert lib.nn.functional.adaptive_max_pool1d(input=x[None], output_size=1,
                                                     return_indices=False).shape == (1, 2, 1)
        assert lib.nn.functional.adaptive_max_pool2d(input=x[None], output_size=(1, 2)).shape \
            == (1, 1, 2)


# Public callables outside ``ember``/``ember.nn.functional`` whose parameters are compared the
# same way: nn.utils.rnn, and the constructors and forwards of the embedding and recurrent
# layers (RNN, LSTM and GRU take ``*args, **kwargs`` in both, checked through RNNBase).
LAYER_CALLABLES = [
    "nn.utils.rnn.pad_sequence", "nn.utils.rnn.pack_padded_sequence",
    "nn.utils.rnn.pad_packed_sequence", "nn.utils.rnn.pack_sequence",
    "nn.utils.rnn.unpad_sequence", "nn.utils.rnn.unpack_sequence",
    "nn.utils.rnn.invert_permutation", "nn.Embedding.__init__", "nn.Embedding.from_pretrained",
    "nn.Embedding.forward", "nn.RNNBase.__init__", "nn.RNN.forward", "nn.LSTM.forward",
    "nn.GRU.forward", "nn.RNNCell.__init__", "nn.LSTMCell.__init__", "nn.GRUCell.__init__",
    "nn.RNNCell.forward", "nn.LSTMCell.forward", "nn.GRUCell.forward",
]


def _attribute(module, dotted: str):
    for name in dotted.split("."):
        module = getattr(module, name)
    return module


@pytest.mark.parametrize("name", LAYER_CALLABLES)
def test_layer_parameters_match_pytorch(name):
    assert (ember_signature(_attribute(ember, name))
            == torch_signatures(_attribute(torch, name), name.rsplit(".", 1)[-1])[0])
