"""ember.functional (torch.functional): broadcast_shapes / broadcast_tensors against PyTorch,
and the module's other names resolving to ember's top-level functions."""

import numpy as np
import pytest
import torch

import ember
import ember.functional as F


@pytest.mark.parametrize("shapes", [
    ((2, 1), (3,)), (), ((5,),), (5, (2, 1)), ((3, 1), (1, 4), 4), ((0,), (1,)),
    ([2, 3], [3]), ((2,), None), ((1, 1), ()),
])
def test_broadcast_shapes_matches_torch(shapes):
    assert tuple(F.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))
    assert isinstance(ember.broadcast_shapes(*shapes), ember.Size)


@pytest.mark.parametrize("shapes", [((2, 3), (4,)), ((2,), (-1,)), ((3, 1), (1, 4), (2, 1, 5)),
                                    ((0,), (3,)), ((-1,),)])
def test_broadcast_shapes_errors_match_torch(shapes):
    with pytest.raises((RuntimeError, ValueError)) as expected:
        torch.broadcast_shapes(*shapes)
    with pytest.raises(expected.type) as got:
        ember.broadcast_shapes(*shapes)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("shapes", [[(2, 1), (3,)], [(4, 1, 1), (1, 3, 1), (2,)], [(2, 3)],
                                    [(0, 1), (3,)], [(), (2,)]])
def test_broadcast_tensors_values_and_gradients(shapes):
    rng = np.random.RandomState(0)
    arrays = [rng.randn(*shape) for shape in shapes]
    ours = [ember.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ember.broadcast_tensors(*ours), torch.broadcast_tensors(*theirs)
    assert len(out) == len(expected)
    weights = [rng.randn(*e.shape) for e in expected]
    for o, e in zip(out, expected):
        assert tuple(o.shape) == tuple(e.shape)
        np.testing.assert_array_equal(o.detach().numpy(), e.detach().numpy())
    sum((o * ember.tensor(w)).sum() for o, w in zip(out, weights)).backward()
    sum((e * torch.tensor(w)).sum() for e, w in zip(expected, weights)).backward()
    for o, e in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), e.grad.numpy())


def test_broadcast_tensors_errors_match_torch():
    assert ember.broadcast_tensors() == ()
    cases = [lambda m: m.broadcast_tensors(m.ones(2, 1), m.ones(3), m.ones(5)),
             lambda m: m.broadcast_tensors(m.ones(2, 1), m.ones(3), m.ones(4, 1, 5))]
    for call in cases:
        with pytest.raises(RuntimeError) as expected:
            call(torch)
        with pytest.raises(RuntimeError) as got:
            call(ember)
        assert str(got.value) == str(expected.value)


@pytest.mark.xfail(strict=True, reason="known gap in ember.ops.shape.broadcast_tensors: one "
                   "tensor comes back as a new view (PyTorch returns it), and a list argument "
                   "raises AttributeError (PyTorch: TypeError)")
def test_broadcast_tensors_one_tensor_is_itself_and_a_list_is_a_type_error():
    x = ember.ones(2, 3)
    assert ember.broadcast_tensors(x)[0] is x
    with pytest.raises(TypeError, match="expected Tensor as element 0 in argument 0, but got "
                       "list"):
        ember.broadcast_tensors([ember.ones(2)])


def test_other_names_are_embers_and_missing_ones_say_so():
    assert F.__all__ == torch.functional.__all__
    for name in F.__all__:
        if hasattr(ember, name):
            assert getattr(F, name) is getattr(ember, name)
            assert name in dir(F)
        else:
            with pytest.raises(AttributeError, match=f"torch.functional.{name}"):
                getattr(F, name)
    assert F.norm is ember.norm and F.split is ember.split
    with pytest.raises(AttributeError, match="no attribute 'relu'"):
        _ = F.relu
