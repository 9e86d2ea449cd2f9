"""Loss modules against PyTorch's: printed form, value and input gradients, for the losses
beyond the tutorial's and for the options of the tutorial's (cross-entropy's label smoothing,
probability targets and ignore_index; class weights)."""

import warnings

import numpy as np
import pytest
import torch

import ember

RTOL, ATOL = 1e-5, 1e-6


def _randn(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _inputs(rng):
    """Named arrays the cases below draw from."""
    return {
        "x": _randn(rng, 4, 5), "y": _randn(rng, 4, 5), "z": _randn(rng, 4, 5),
        "signs": np.sign(_randn(rng, 4, 5)), "row_signs": np.sign(_randn(rng, 4)),
        "probabilities": torch.softmax(torch.tensor(_randn(rng, 4, 5)), 1).numpy(),
        "classes": rng.integers(0, 5, 4), "labels": (_randn(rng, 4, 5) > 0).astype(np.float32),
        "counts": rng.poisson(2.0, (4, 5)).astype(np.float32),
        "variances": rng.uniform(0.5, 2.0, (4, 5)).astype(np.float32),
        "weights": rng.uniform(0.5, 2.0, 5).astype(np.float32),
        "ignored": np.array([1, -100, 3, 0]), "x1": _randn(rng, 6), "y1": _randn(rng, 6),
        "signs1": np.sign(_randn(rng, 6)),
    }


# name -> (build(nn, weights), the input names; the first one or two get gradients)
CASES = {
    "SmoothL1Loss": (lambda nn, w: nn.SmoothL1Loss(), ("x", "y")),
    "SmoothL1Loss-beta": (lambda nn, w: nn.SmoothL1Loss(reduction="sum", beta=0.3), ("x", "y")),
    "HuberLoss": (lambda nn, w: nn.HuberLoss(delta=0.4), ("x", "y")),
    "HuberLoss-none": (lambda nn, w: nn.HuberLoss(reduction="none"), ("x", "y")),
    "KLDivLoss": (lambda nn, w: nn.KLDivLoss(reduction="batchmean"), ("x", "probabilities")),
    "KLDivLoss-log": (lambda nn, w: nn.KLDivLoss(reduction="sum", log_target=True),
                      ("x", "y")),
    "SoftMarginLoss": (lambda nn, w: nn.SoftMarginLoss(), ("x", "signs")),
    "MarginRankingLoss": (lambda nn, w: nn.MarginRankingLoss(0.2), ("x1", "y1", "signs1")),
    "HingeEmbeddingLoss": (lambda nn, w: nn.HingeEmbeddingLoss(0.5), ("x", "signs")),
    "CosineEmbeddingLoss": (lambda nn, w: nn.CosineEmbeddingLoss(-0.2), ("x", "y",
                                                                          "row_signs")),
    "TripletMarginLoss": (lambda nn, w: nn.TripletMarginLoss(margin=2.0, swap=True),
                          ("x", "y", "z")),
    "PoissonNLLLoss": (lambda nn, w: nn.PoissonNLLLoss(full=True), ("x", "counts")),
    "GaussianNLLLoss": (lambda nn, w: nn.GaussianNLLLoss(full=True), ("x", "y", "variances")),
    "MultiLabelSoftMarginLoss": (lambda nn, w: nn.MultiLabelSoftMarginLoss(weight=w),
                                 ("x", "labels")),
    "MultiMarginLoss": (lambda nn, w: nn.MultiMarginLoss(p=2, margin=0.7, weight=w),
                        ("x", "classes")),
    "CrossEntropyLoss-smoothing": (lambda nn, w: nn.CrossEntropyLoss(label_smoothing=0.1),
                                   ("x", "classes")),
    "CrossEntropyLoss-everything": (
        lambda nn, w: nn.CrossEntropyLoss(weight=w, label_smoothing=0.2), ("x", "ignored")),
    "CrossEntropyLoss-probabilities": (
        lambda nn, w: nn.CrossEntropyLoss(weight=w, label_smoothing=0.3),
        ("x", "probabilities")),
    "NLLLoss-weight-ignore": (lambda nn, w: nn.NLLLoss(weight=w, ignore_index=3),
                              ("x", "classes")),
    "BCELoss-weight": (lambda nn, w: nn.BCELoss(weight=w), ("probabilities", "labels")),
}


def _tensor(lib, array, grad):
    return lib.tensor(array, requires_grad=grad and array.dtype == np.float32)


@pytest.mark.parametrize("name", list(CASES))
def test_loss_matches_torch(name):
    rng = np.random.default_rng(1)
    arrays = _inputs(rng)
    build, names = CASES[name]
    differentiable = 2 if names[1] in ("y", "y1") else 1
    ours = build(ember.nn, ember.tensor(arrays["weights"]))
    theirs = build(torch.nn, torch.tensor(arrays["weights"]))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    inputs = [_tensor(ember, arrays[n], i < differentiable) for i, n in enumerate(names)]
    references = [_tensor(torch, arrays[n], i < differentiable) for i, n in enumerate(names)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss, expected = ours(*inputs), theirs(*references)
    np.testing.assert_allclose(loss.detach().numpy(), expected.detach().numpy(), rtol=RTOL,
                               atol=ATOL)
    loss.sum().backward()
    expected.sum().backward()
    for mine, reference in zip(inputs[:differentiable], references[:differentiable]):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-4,
                                   atol=1e-6)


def test_kl_div_mean_warns_like_torch():
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both"):
            lib.nn.functional.kl_div(lib.zeros(2, 3), lib.full((2, 3), 1 / 3))


def test_loss_construction_errors_like_torch():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="^only p == 1 and p == 2 supported$"):
            lib.nn.MultiMarginLoss(p=3)
        with pytest.raises(ValueError, match="^var has negative entry"):
            lib.nn.GaussianNLLLoss()(lib.zeros(2), lib.zeros(2), lib.tensor([1.0, -1.0]))
        with pytest.raises(RuntimeError, match="^margin_ranking_loss : All input tensors "):
            lib.nn.MarginRankingLoss()(lib.zeros(2), lib.zeros(2, 1), lib.ones(2))
