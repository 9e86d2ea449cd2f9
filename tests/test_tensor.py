"""Tensor behaviour against PyTorch: creation, dtypes, promotion, repr, indexing, in-place ops.

Most tests run one snippet with ``lib`` bound to torch and then to ember and compare the
outcomes: the repr of the result (with ``torch.`` read as ``ember.``), or the exception type
and message.
"""

import numpy as np
import pytest
import torch

import ember


def outcome(code: str, lib, env=None):
    """What a snippet gives: ``repr(out)`` (or of the expression), or ``Type: message``."""
    scope = {"lib": lib, "np": np, **(env or {})}
    try:
        try:
            compiled, statements = compile(code, "<snippet>", "eval"), False
        except SyntaxError:  # statements; their result is the variable ``out``
            compiled, statements = compile(code, "<snippet>", "exec"), True
        value = eval(compiled, scope)
        if statements:
            value = scope.get("out")
    except Exception as error:  # the error is the outcome being compared
        return f"{type(error).__name__}: {error}".replace("torch.", "ember.")
    return repr(value).replace("torch.", "ember.")


def assert_same(code: str, env=None):
    expected = outcome(code, torch, env)
    actual = outcome(code, ember, env)
    assert actual == expected, f"\n{code}\ntorch: {expected}\nember: {actual}"


def params(text: str):
    return [pytest.param(line.strip(), id=line.strip()[:60])
            for line in text.strip().splitlines() if line.strip()]


# ---- creation and dtype inference -----------------------------------------------------------

CREATION = params("""
    lib.tensor([1, 2])
    lib.tensor([1.0, 2])
    lib.tensor([True, False])
    lib.tensor([True, 2])
    lib.tensor([[1, 2], [3, 4.5]])
    lib.tensor(5)
    lib.tensor(5.0)
    lib.tensor(True)
    lib.tensor([])
    lib.tensor([[]]).shape
    lib.tensor(np.arange(3, dtype=np.int32))
    lib.tensor(np.float64(2.5))
    lib.tensor([1, 2], dtype=lib.float32)
    lib.tensor([1.7, -2.7], dtype=lib.int64)
    lib.tensor([1e-300, 1.0], dtype=lib.float64)
    lib.tensor([[1, 2], [3]])
    lib.tensor([lib.tensor(1.0), lib.tensor(2.0)])
    lib.arange(5)
    lib.arange(5.0)
    lib.arange(1, 4)
    lib.arange(0, 1, 0.25)
    lib.arange(0, 1, 0.1).shape
    lib.arange(1, 2.5, 0.5)
    lib.arange(10, 0, -3)
    lib.arange(5, dtype=lib.float32)
    lib.arange(0.0, 1.0, 0.3, dtype=lib.float64)
    lib.full((2, 2), 7)
    lib.full((2, 2), 7.0)
    lib.full((2,), True)
    lib.full([2, 3], 1.5, dtype=lib.float64)
    lib.linspace(0, 1, 5)
    lib.linspace(0, 10, steps=3)
    lib.linspace(-1, 1, 1)
    lib.linspace(0, 1, 5, dtype=lib.float64)
    lib.zeros(2, 3)
    lib.zeros((2, 3))
    lib.zeros([2])
    lib.zeros(2, dtype=lib.int64)
    lib.ones(3, dtype=lib.bool)
    lib.zeros(())
    lib.empty(2, 3).shape
    lib.eye(3)
    lib.eye(2, 3)
    lib.zeros_like(lib.tensor([1, 2]))
    lib.ones_like(lib.tensor([1.0, 2.0], dtype=lib.float64))
    lib.full_like(lib.tensor([1, 2]), 3.7)
    lib.zeros_like(lib.tensor([1.0]), dtype=lib.int32)
    lib.randn(2, 3).dtype
    lib.rand(2, 3, dtype=lib.float64).dtype
    lib.randint(0, 5, (3,)).dtype
    lib.randint(5, (3,)).shape
    lib.randperm(4).dtype
    lib.randn_like(lib.zeros(2, dtype=lib.float64)).dtype
    lib.zeros(2).new_zeros(3)
    lib.zeros(2).new_ones((2, 2))
    lib.zeros(2, dtype=lib.int64).new_tensor([1.5])
    lib.zeros(2).new_full((2,), 3)
    lib.as_tensor([1, 2])
    lib.as_tensor(np.array([1, 2], dtype=np.int32))
    lib.from_numpy(np.array([1, 2], dtype=np.int16))
    lib.from_numpy(np.arange(6.0)[::-1])
    lib.from_numpy([1, 2])
    lib.tensor([1, 2], requires_grad=True)
    lib.zeros(2, dtype=lib.int64).requires_grad_()
    lib.get_default_dtype()
    lib.Tensor()
    lib.Tensor(2, 3).shape
    lib.Tensor(lib.Size([2])).shape
    lib.Tensor([1, 2])
""")


@pytest.mark.parametrize("code", CREATION)
def test_creation_matches_torch(code):
    assert_same(code)


def test_set_default_dtype_changes_inference():
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1.5]).dtype is ember.float64
        assert ember.zeros(2).dtype is ember.float64
        assert repr(ember.tensor([1.5])) == "tensor([1.5000])"
        assert repr(ember.tensor([1.5], dtype=ember.float32)) == \
            "tensor([1.5000], dtype=ember.float32)"
    finally:
        ember.set_default_dtype(ember.float32)


def test_from_numpy_shares_memory_both_ways():
    array = np.zeros(3)
    tensor = ember.from_numpy(array)
    array[0] = 1
    tensor[1] = 2
    assert tensor.tolist() == [1.0, 2.0, 0.0]
    assert array.tolist() == [1.0, 2.0, 0.0]
    assert tensor.dtype is ember.float64


def test_numpy_shares_memory_and_tensor_copies():
    tensor = ember.zeros(3)
    array = tensor.numpy()
    array[0] = 1
    tensor[1] = 2
    assert array.tolist() == [1.0, 2.0, 0.0]
    source = np.zeros(2, dtype=np.float32)
    copied, shared = ember.tensor(source), ember.as_tensor(source)
    source[0] = 5
    assert copied.tolist() == [0.0, 0.0]
    assert shared.tolist() == [5.0, 0.0]


def test_numpy_of_tensor_requiring_grad():
    assert_same("lib.ones(3, requires_grad=True).numpy()")
    assert_same("lib.ones(3, requires_grad=True).detach().numpy()")


def test_non_contiguous_arrays_keep_their_layout():
    array = np.arange(12.0).reshape(3, 4).T
    for make in (lambda lib: lib.tensor(array), lambda lib: lib.from_numpy(array)):
        ours, theirs = make(ember), make(torch)
        assert ours.stride() == theirs.stride()
        assert ours.is_contiguous() == theirs.is_contiguous()


# ---- type promotion -------------------------------------------------------------------------

PROMOTION = [
    ("int64 tensor", "float32 tensor"), ("int32 tensor", "float32 tensor"),
    ("int64 tensor", "python float"), ("int32 tensor", "python int"),
    ("bool tensor", "python int"), ("bool tensor", "int64 tensor"),
    ("bool tensor", "python float"), ("uint8 tensor", "int8 tensor"),
    ("uint8 tensor", "0-d int64"), ("int32 tensor", "0-d int64"),
    ("float16 tensor", "0-d float64"), ("float16 tensor", "float32 tensor"),
    ("float32 tensor", "0-d float64"), ("0-d float32", "0-d float64"),
    ("int32 tensor", "0-d float64"), ("0-d int32", "python float"),
    ("float64 tensor", "python float"), ("bool tensor", "bool tensor"),
    ("int16 tensor", "int32 tensor"), ("uint8 tensor", "python int"),
]
OPERANDS = {
    "int64 tensor": "lib.tensor([1, 2])", "int32 tensor": "lib.tensor([1], dtype=lib.int32)",
    "int16 tensor": "lib.tensor([1], dtype=lib.int16)",
    "int8 tensor": "lib.tensor([1], dtype=lib.int8)",
    "uint8 tensor": "lib.tensor([1], dtype=lib.uint8)",
    "bool tensor": "lib.tensor([True])", "float32 tensor": "lib.tensor([1.5])",
    "float16 tensor": "lib.tensor([1.5], dtype=lib.float16)",
    "float64 tensor": "lib.tensor([1.5], dtype=lib.float64)",
    "0-d int64": "lib.tensor(3)", "0-d int32": "lib.tensor(3, dtype=lib.int32)",
    "0-d float32": "lib.tensor(2.5)", "0-d float64": "lib.tensor(2.5, dtype=lib.float64)",
    "python int": "3", "python float": "2.5",
}


@pytest.mark.parametrize("left,right", PROMOTION, ids=[f"{a}+{b}" for a, b in PROMOTION])
def test_result_type_and_add_promote_like_torch(left, right):
    a, b = OPERANDS[left], OPERANDS[right]
    assert_same(f"lib.result_type({a}, {b})")
    assert_same(f"({a} + {b}).dtype")
    assert_same(f"({b} * {a}).dtype")


@pytest.mark.parametrize("pair", [
    ("int32", "float32"), ("int64", "float16"),
    ("uint8", "int8"), ("bool", "int8"), ("float16", "float64"), ("bool", "float32")])
def test_promote_types(pair):
    assert_same(f"lib.promote_types(lib.{pair[0]}, lib.{pair[1]})")


PROMOTION_OPS = params("""
    lib.tensor([1, 2]) / 2
    lib.tensor([1, 2]) // 2
    lib.tensor([5, -3]) % 3
    lib.tensor([5.5, -3.0]) % 2
    lib.tensor([True]) * 2.5
    lib.tensor([1, 2]) ** 2
    lib.tensor([1, 2]) ** 2.0
    lib.tensor([2, 3]) ** lib.tensor([2, 1])
    2 ** lib.tensor([1, 2])
    2.0 ** lib.tensor([1, 2])
    lib.tensor([4.0]) ** lib.tensor(2)
    lib.tensor([1.0]) * np.float64(2)
    np.float32(2) * lib.tensor([1.0])
    lib.tensor([1, 2]) * np.int64(2)
    lib.tensor([1, 2]).exp()
    lib.tensor([1, 4]).sqrt()
    lib.tensor([1, 4]).sigmoid()
    lib.tensor([-1, 4]).abs()
    lib.tensor([-1, 4]).relu()
    lib.tensor([0, 4]).reciprocal()
    lib.tensor([1, 5]).clamp(2, 3)
    lib.tensor([1, 5]).clamp(2.5, 3)
    lib.where(lib.tensor([True, False]), lib.tensor([1, 2]), lib.tensor([1.5, 2.5]))
    lib.where(lib.tensor([True, False]), lib.tensor([1, 2]), 0)
    lib.where(lib.tensor([True, False]), lib.tensor([1, 2]), 0.5)
    lib.cat([lib.tensor([1]), lib.tensor([2.5])])
    lib.tensor([1, 2]).sum()
    lib.tensor([True, True]).sum()
    lib.tensor([1, 2], dtype=lib.int32).sum().dtype
    lib.tensor([1.0, 4.0]) == lib.tensor([1, 4])
    lib.tensor([1, 2]) & lib.tensor([3, 2])
    ~lib.tensor([True, False])
    lib.tensor([True]) - lib.tensor([True])
    lib.tensor([True]) - 1
    lib.tensor([1.0]) - True
    -lib.tensor([True])
    2 ** lib.tensor([-1, 2])
    lib.tensor([1, 2], dtype=lib.uint8).prod()
    lib.tensor([1, 2]).logsumexp(0)
    lib.tensor(1.5).sum(0)
    lib.tensor(1.5).max(0)
    lib.tensor(1.5).logsumexp(-1)
    lib.tensor(1.5).mean(0, keepdim=True)
    lib.div(lib.tensor([5.0, -5.0]), 2, rounding_mode='floor')
    lib.tensor([5.0, -5.0]).div(2, rounding_mode='trunc')
    lib.tensor([5, -5]).div(2, rounding_mode='trunc')
    lib.tensor([5, -5]).div(2, rounding_mode='floor')
    lib.where(lib.tensor([[1.0, -1.0], [2.0, 0.0]]) > 0)
    lib.tensor([[1.0, 2.0], [0.0, 4.0]]).norm(0)
""")


@pytest.mark.parametrize("code", PROMOTION_OPS)
def test_op_dtypes_match_torch(code):
    assert_same(code)


# ---- repr ----------------------------------------------------------------------------------

_rng = np.random.default_rng(0)
REPR_ENV = {
    "A": _rng.standard_normal((6, 20)).astype(np.float32),
    "B": (_rng.standard_normal((40, 40)) * 1000).astype(np.float32),
    "C": _rng.standard_normal((3, 4, 5)),
    "D": (_rng.standard_normal(30) * 1e-6).astype(np.float32),
    "E": _rng.integers(-1000, 1000, (50, 30)),
}
REPRS = params("""
    lib.tensor([1.0, 2.0, 3.0])
    lib.tensor([0.1234567, -1.5, 100.25])
    lib.tensor([1e-5, 1.0])
    lib.tensor([1e10, 1.0])
    lib.tensor([1e8, 1.0])
    lib.tensor([123456789.0])
    lib.tensor([1.0, 1000.0])
    lib.tensor([1.0, 1001.0])
    lib.tensor([0.0001, 0.1])
    lib.tensor([-0.0, 0.0])
    lib.tensor([float('nan'), 1.0, float('inf'), -float('inf')])
    lib.tensor([float('nan'), 1.5])
    lib.tensor([float('inf'), 1.5e-7])
    lib.tensor([[1.5, float('nan')], [float('-inf'), 2.25]])
    lib.tensor([[1.0, -2.0], [3.0, 4.5]])
    lib.tensor([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]])
    lib.arange(2000).float()
    lib.arange(2000)
    lib.arange(1001.0)
    lib.arange(3000.0).reshape(30, 100)
    lib.arange(24000.0).reshape(20, 30, 40)
    lib.arange(100).reshape(10, 10)
    lib.arange(40.0) / 7
    lib.arange(12.0).reshape(3, 4) / 3
    lib.arange(2000).reshape(2, 1000)
    lib.arange(1100.0).reshape(1100, 1)
    lib.tensor([1, -2, 3])
    lib.tensor([10**12, -3])
    lib.tensor([True, False])
    lib.tensor([[True, False], [False, True]])
    lib.tensor([1.0, 2.0], dtype=lib.float64)
    lib.tensor([1/3, 2/3], dtype=lib.float64)
    lib.tensor([1, 2], dtype=lib.int32)
    lib.tensor([1, 2], dtype=lib.uint8)
    lib.tensor([1.5, 2.0], dtype=lib.float16)
    lib.tensor([])
    lib.zeros(0, 3)
    lib.zeros(2, 0)
    lib.zeros(0, dtype=lib.int64)
    lib.zeros(0, dtype=lib.float64)
    lib.zeros(0, 2, dtype=lib.bool)
    lib.tensor([[[]]])
    lib.tensor(3.5)
    lib.tensor(3)
    lib.tensor(True)
    lib.tensor(1e-10)
    lib.tensor(-0.5, dtype=lib.float64)
    lib.tensor([1.0, 2.0], requires_grad=True)
    lib.tensor([1.0, 2.0], requires_grad=True) * 2
    lib.tensor(2.0, requires_grad=True).exp()
    lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True).sum()
    lib.zeros(0, requires_grad=True)
    y = lib.ones(2, requires_grad=True) * 1; y[0] = 5; out = y
    z = lib.zeros(2); z.copy_(lib.ones(2, requires_grad=True)); out = z
    lib.zeros(1, 0, requires_grad=True)
    lib.tensor([12345.678, 0.001])
    lib.tensor([[1e-8, 1.0], [2.0, 3.0]])
    lib.tensor([-1e-5, -1e5])
    lib.tensor([1e-300, 1.0], dtype=lib.float64)
    lib.linspace(0, 1, 25)
    lib.linspace(-1000, 1000, 9)
    lib.ones(2, 1, 3, 2)
    lib.tensor(A)
    lib.tensor(B)
    lib.tensor(C)
    lib.tensor(D)
    lib.tensor(E)
    lib.tensor(A) * 1e6
    lib.tensor(A) > 0
    lib.tensor(B).T
    lib.tensor(C, requires_grad=True)
    lib.tensor(C, requires_grad=True) + 1
    lib.tensor(E).reshape(3, 10, 50)
    lib.arange(10000).reshape(100, 100)
    lib.tensor(A).max(dim=1)
    lib.tensor(A).min(1, keepdim=True)
    str(lib.tensor(A[:2, :3]))
    f'{lib.tensor(2.5):.3f}'
    lib.Size([2, 3])
    lib.Size([])
    lib.zeros(2, 3).shape
    lib.zeros(4).size()
    lib.float32
    lib.tensor([1]).dtype
    lib.device('cpu')
    lib.tensor([1.0]).device
""")


@pytest.mark.parametrize("code", REPRS)
def test_repr_matches_torch(code):
    assert_same(code, REPR_ENV)


def test_grad_fn_repr_names_the_node():
    node = (ember.ones(2, requires_grad=True) * 2).grad_fn
    assert repr(node).startswith("<MulBackward0 object at 0x")
    leaf = node.next_functions[0][0]
    assert repr(leaf).startswith("<AccumulateGrad object at 0x")
    assert leaf.name() == "torch::autograd::AccumulateGrad"


# ---- Size, item, tolist, Python protocols ----------------------------------------------------

SIZE_AND_CONVERSIONS = params("""
    lib.Size([2, 3])[0]
    lib.Size([2, 3])[-1:]
    lib.Size([2, 3]) + (4,)
    lib.Size([2, 3]) + lib.Size([4])
    lib.Size([2, 3]).numel()
    lib.Size([2, 3]) == (2, 3)
    lib.zeros(2, 3).size(1)
    lib.zeros(2, 3).size(-1)
    lib.zeros(2, 3).size(2)
    lib.zeros(2, 3).shape[1:]
    str(lib.Size([2, 3]))
    lib.tensor([[1, 2], [3, 4]]).tolist()
    lib.tensor([1.5]).tolist()
    lib.tensor(1.5).tolist()
    lib.tensor([True]).tolist()
    type(lib.tensor([[1, 2]]).tolist()[0][0])
    lib.tensor([1.5]).item()
    lib.tensor([[3]]).item()
    lib.tensor(True).item()
    lib.tensor(2, dtype=lib.int32).item()
    lib.tensor([1, 2]).item()
    lib.tensor([]).item()
    bool(lib.tensor([1, 2]))
    bool(lib.tensor([0]))
    bool(lib.tensor([]))
    int(lib.tensor([2.7]))
    float(lib.tensor(2))
    len(lib.tensor([1, 2, 3]))
    len(lib.tensor(1))
    list(lib.tensor([1, 2]))
    [1, 2, 3][lib.tensor(1)]
    [1, 2, 3][lib.tensor(1.0)]
    lib.tensor([1.0, 4.0]) == None
    lib.tensor([1.0, 4.0]) != 'a'
    2 in lib.tensor([1, 2])
    max(lib.tensor([1, 5, 3]))
    sum(lib.tensor([1.0, 2.0]))
    np.array(lib.tensor([1.0, 2.0]))
    lib.zeros(2, 3).stride()
    lib.zeros(2, 3, 4).permute(2, 0, 1).stride()
    lib.zeros(2, 3).t().is_contiguous()
    lib.zeros(2, 3, 4).element_size()
    lib.zeros(2, 3, 4).nelement()
    lib.zeros(2, 3).is_floating_point()
    lib.tensor([1.0, 2.0]).type()
    lib.tensor([1, 2]).type()
    lib.tensor([1.5, -2.7]).int()
    lib.tensor([0.0, 2.7]).bool()
    lib.tensor([1, 2]).to(lib.float64)
    lib.tensor([1, 2]).to('cpu', lib.float32)
    lib.tensor([1.0, 2.0]).to(lib.tensor([1], dtype=lib.int32))
""")


@pytest.mark.parametrize("code", SIZE_AND_CONVERSIONS)
def test_size_and_conversions_match_torch(code):
    assert_same(code)


def test_tuple_plus_size_is_a_size():
    assert_same("(1,) + lib.Size([2])")


def test_operator_with_unsupported_type_is_a_type_error():
    with pytest.raises(TypeError, match="unsupported operand type"):
        ember.tensor([1.0]) + "a"


def test_to_returns_self_when_nothing_changes():
    x = ember.tensor([1.5])
    assert x.to(ember.float32) is x
    assert x.float() is x
    assert x.cpu() is x
    assert x.contiguous() is x
    assert x.to(ember.float32, copy=True) is not x


# ---- indexing and assignment -----------------------------------------------------------------

INDEXING = params("""
    lib.arange(6).reshape(2, 3)[:, [0, 2]]
    lib.arange(6).reshape(2, 3)[[1, 0]]
    lib.arange(6).reshape(2, 3)[[1, 0], [2, 2]]
    lib.arange(6).reshape(2, 3)[lib.tensor([[0, 1], [1, 1]])]
    lib.arange(6).reshape(2, 3)[lib.tensor(1)]
    lib.arange(6).reshape(2, 3)[lib.tensor([True, False])]
    lib.arange(6).reshape(2, 3)[lib.arange(6).reshape(2, 3) > 2]
    lib.arange(6).reshape(2, 3)[None, ..., None].shape
    lib.arange(6).reshape(2, 3)[1][2]
    lib.arange(6).reshape(2, 3)[True]
    lib.arange(24).reshape(2, 3, 4)[:, [0, 2], 1]
    lib.arange(24).reshape(2, 3, 4)[[0, 1], :, [1, 2]]
    lib.arange(24).reshape(2, 3, 4)[0, [0, 2], [1, 3]]
    lib.zeros(5)[1:10]
    lib.zeros(5)[10:]
    lib.zeros(5)[::-1]
    lib.zeros(5)[::0]
    lib.zeros(3)[3]
    lib.zeros(3)[-4]
    lib.zeros(2, 3)[1, 3]
    lib.zeros(2, 3)[:, 5]
    lib.zeros(2, 3)[lib.tensor([0, 2])]
    lib.zeros(2, 3)[lib.tensor([0, 1]), lib.tensor([1, 3])]
    lib.zeros(2, 3)[0, 0, 0]
    lib.zeros(2, 3)[lib.tensor([True, False, True])]
    lib.zeros(2, 3)[lib.tensor([0.0])]
""")


@pytest.mark.parametrize("code", INDEXING)
def test_indexing_matches_torch(code):
    assert_same(code)


ASSIGNMENT = params("""
    x = lib.zeros(3); v = x[1:]; v[0] = 5; out = x
    x = lib.zeros(2, 3); v = x.view(6); v[0] = 5; out = x
    x = lib.zeros(2, 3); v = x.t(); v[0, 1] = 5; out = x
    x = lib.zeros(2, 3); v = x[0]; v.add_(1); out = x
    x = lib.zeros(2, 3); v = x[[0]]; v.add_(1); out = x
    x = lib.ones(3, 1); e = x.expand(3, 2); x[0, 0] = 5; out = e
    x = lib.arange(6.0); x[x > 2] = 0; out = x
    x = lib.arange(6.0).view(2, 3); x[:, 1] = lib.tensor([7.0, 8.0]); out = x
    x = lib.arange(6.0).view(2, 3); x[0] = 1; out = x
    x = lib.arange(6.0).view(2, 3); x[[0, 1], [2, 0]] = -1; out = x
    x = lib.arange(6.0).view(2, 3); x[..., 0] = lib.tensor(9.0); out = x
    x = lib.arange(6).view(2, 3); x[0, 0] = 2.7; out = x
    x = lib.arange(6.0).view(2, 3); x[0] = lib.tensor([1.0, 2.0]); out = x
    x = lib.arange(6.0); x[1:3] += 10; out = x
    x = lib.arange(4.0); x[1] = lib.tensor([5.0]); out = x
    x = lib.arange(4.0); x[10] = 5.0
    x = lib.arange(4.0).view(2, 2); x[:, 0] = lib.arange(2.0).view(2, 1)
    x = lib.arange(4.0).view(2, 2); x[...] = 3; out = x
    x = lib.arange(4.0).view(2, 2); x[:] = lib.tensor([5.0, 6.0]); out = x
    x = lib.arange(4); x[0] = lib.tensor(7.9); out = x
    x = lib.zeros(5); x[lib.tensor([0, 0, 1])] += 1; out = x
    x = lib.arange(4.0); x[lib.tensor([True, False, True, False])] = lib.tensor([8., 9.]); out = x
    x = lib.arange(6.0); y = x; y += 1; out = (x, y is x)
""")


@pytest.mark.parametrize("code", ASSIGNMENT)
def test_assignment_matches_torch(code):
    assert_same(code)


# ---- in-place operations, version counters, .data ---------------------------------------------

INPLACE = params("""
    x = lib.tensor([1.0]); out = (x.add_(1) is x, x.mul_(2) is x, x.zero_() is x, x.fill_(3) is x)
    x = lib.tensor([1.0]); x.copy_(lib.tensor([5])); out = x
    x = lib.zeros(2, 3); x.copy_(lib.tensor([1.0, 2.0, 3.0])); out = x
    x = lib.zeros(3); x.copy_(lib.zeros(2, 3))
    x = lib.zeros(3); x.copy_(lib.tensor([1, 2]))
    x = lib.zeros(3); x.copy_([1, 2, 3])
    x = lib.zeros(2, dtype=lib.int64); x.add_(1.5)
    x = lib.ones(2, dtype=lib.int64); x.div_(2)
    x = lib.zeros(2, dtype=lib.int64).fill_(2.7); out = x
    x = lib.zeros(3, dtype=lib.int64); x *= 2; out = x
    x = lib.zeros(3, dtype=lib.float32); x += lib.ones(3, dtype=lib.float64); out = x
    x = lib.zeros(3); x.add_(lib.zeros(2, 3))
    x = lib.zeros(2, 3); x.add_(lib.arange(3.0)); out = x
    x = lib.tensor([4.0]); x.sqrt_(); x.pow_(3); x.neg_(); x.abs_(); x.clamp_(max=5); out = x
    x = lib.tensor([1.0, -1.0]); x.relu_(); x.exp_(); out = x
    x = lib.tensor([1.0, 2.0]); x.addcmul_(lib.tensor([2.0]), lib.tensor([3.0]), value=0.5); out = x
    x = lib.tensor([1.0, 2.0]); x.addcdiv_(lib.tensor([2.0]), lib.tensor([4.0]), value=2); out = x
    x = lib.tensor([1.0, 2.0]); x.lerp_(lib.tensor([3.0, 3.0]), 0.5); out = x
    x = lib.tensor([1.0, 2.0]); x.masked_fill_(lib.tensor([True, False]), 0.0); out = x
    x = lib.ones(3, requires_grad=True); out = x.add_(1)
    x = lib.ones(3, requires_grad=True); x[0] = 2
    x = lib.ones(3, requires_grad=True); x[0:2].add_(1)
    x = lib.ones(3, requires_grad=True); x.detach().zero_(); out = x
    x = lib.ones(3, requires_grad=True); x.data.mul_(2); out = x
    x = lib.ones(3); d = x.data; d[0] = 5; out = x
    x = lib.ones(3, requires_grad=True); d = x.data; out = (d.requires_grad, d.is_leaf, d.grad_fn)
    x = lib.ones(3, requires_grad=True); y = x.detach(); y[0] = 7; out = (x, y.requires_grad)
    x = lib.ones(3, requires_grad=True); z = (x * 2).detach(); out = (z.requires_grad, z.is_leaf)
    x = lib.ones(3, requires_grad=True); x.data = lib.zeros(2); out = x
""")


@pytest.mark.parametrize("code", INPLACE)
def test_inplace_matches_torch(code):
    assert_same(code)


def test_inplace_on_leaf_allowed_under_no_grad():
    for lib in (torch, ember):
        x = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            x.add_(1)
            x[0] = 5
        assert x.tolist() == [5.0, 2.0, 2.0]
        assert x.is_leaf and x.requires_grad


def test_version_counter_counts_inplace_ops_and_is_shared_by_views():
    x = ember.arange(3.0)
    versions = [x._version[0]]
    x.add_(1)
    versions.append(x._version[0])
    x[0] = 2
    versions.append(x._version[0])
    view = x[1:]
    view.mul_(2)
    versions.append(x._version[0])
    assert versions == [0, 1, 2, 3]
    assert view._version is x._version
    detached = x.detach()
    assert detached._version is x._version  # detach() shares it, so autograd sees changes
    data = x.data
    data.add_(1)
    assert x._version[0] == 3  # .data has its own: changes through it are hidden


def test_out_of_place_ops_do_not_bump_versions():
    x = ember.ones(3)
    (x + 1, x.view(3), x[0], x.exp())
    assert x._version[0] == 0


# ---- errors ---------------------------------------------------------------------------------

ERRORS = params("""
    lib.zeros(2, 5).view(-1, 7)
    lib.zeros(2, 5).view(3, 4)
    lib.zeros(2, 5).view(-1, -1)
    lib.zeros(2).view(-2)
    lib.zeros(0, 3).view(0, -1)
    lib.zeros(2, 3).t().view(6)
    lib.zeros(2, 3).t().view(3, 2)
    lib.zeros(2, 3).expand(3, 3)
    lib.zeros(2, 3).expand(3)
    lib.zeros(2, 1).expand(-1, 2, 4)
    lib.zeros(2, 3) + lib.zeros(4)
    lib.zeros(2, 3) * lib.zeros(3, 2)
    lib.zeros(2, 3) @ lib.zeros(2, 3)
    lib.zeros(3) @ lib.zeros(4)
    lib.zeros(2, 3) @ lib.zeros(4)
    lib.zeros(2, 2, 3) @ lib.zeros(2, 3)
    lib.zeros(2, 2, 3) @ lib.zeros(2, 2, 3)
    lib.mm(lib.zeros(2, 3), lib.zeros(2, 3))
    lib.zeros(2, 3, dtype=lib.float64) @ lib.zeros(3, 2)
    lib.dot(lib.ones(2), lib.ones(2, dtype=lib.int64))
    lib.dot(lib.ones(2), lib.ones(3))
    lib.mv(lib.ones(2, 3), lib.ones(2))
    lib.bmm(lib.ones(2, 2, 3), lib.ones(3, 3, 4))
    lib.cat([lib.zeros(2, 3), lib.zeros(2, 4)])
    lib.cat([lib.zeros(2, 3, 4), lib.zeros(2, 4, 5)], 1)
    lib.cat([lib.tensor([[1.0]]), lib.tensor([2.5])])
    lib.cat([lib.zeros(0), lib.zeros(2, 4)]).shape
    lib.stack([lib.zeros(2), lib.zeros(3)])
    lib.ones(2, 3).sum(2)
    lib.ones(2, 3).mean(-3)
    lib.ones(2, 3).squeeze(2)
    lib.ones(2, 3).unsqueeze(3)
    lib.ones(2, 3).transpose(0, 2)
    lib.ones(2, 3).permute(0, 0)
    lib.ones(2, 3).permute(0)
    lib.zeros(2, 3, 4).t()
    lib.ones(4, 4).split([1, 2])
    lib.ones(4, 4).chunk(0)
    lib.arange(6).reshape(2, 3).mean()
    lib.tensor([3, 4]).norm()
    lib.ones(0).max()
    lib.ones(0, 3).max(1)
    lib.tensor([1.0]).clamp()
    lib.tensor([1.0, 2.0]).masked_fill(lib.tensor([1, 0]), 5)
    lib.tensor([[1, 2], [3]])
    lib.tensor([1, 2]).var()
    lib.tensor([1, 2]).std(0)
    lib.tensor(1.5)[0]
    lib.cat([lib.tensor(1.0)])
    lib.tensor(1.0).split(1)
    lib.tensor(1.0).chunk(1)
    lib.tensor(1.5).sum(1)
""")


@pytest.mark.parametrize("code", ERRORS)
def test_errors_match_torch(code):
    assert_same(code)


def test_view_error_message_names_the_shape():
    with pytest.raises(RuntimeError, match=r"shape '\[-1, 7\]' is invalid for input of size 10"):
        ember.zeros(10).view(-1, 7)


def test_index_out_of_range_is_an_index_error():
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        ember.zeros(3)[3]
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        ember.zeros(3)[ember.tensor([5])]


def test_bool_of_multi_element_tensor():
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is "
                                           "ambiguous"):
        if ember.ones(2):
            pass
