"""ember.vision.models: torchvision's architectures, checked against what torchvision documents
(parameter counts, layer names) and, for the forward pass, against the same network computed
with torch.nn.functional from the same weights (torchvision itself is not installed)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
from ember import nn
from ember.vision import models

# The parameter counts torchvision's model documentation lists.
DOCUMENTED_PARAMETERS = {"resnet18": 11_689_512, "resnet34": 21_797_672,
                         "resnet50": 25_557_032, "alexnet": 61_100_840,
                         "vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg16": 138_357_544}


@pytest.fixture
def no_init(monkeypatch):
    """Skip random initialization: the VGGs' 100 million weights take most of a minute to
    draw here, and their layout doesn't depend on them."""
    monkeypatch.setattr(nn.Linear, "reset_parameters", lambda self: None)
    monkeypatch.setattr(nn.Conv2d, "reset_parameters", lambda self: None)
    for name in ("normal_", "kaiming_normal_", "constant_"):
        monkeypatch.setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)


@pytest.mark.parametrize("name", list(DOCUMENTED_PARAMETERS))
def test_parameter_counts_are_torchvisions(name, no_init):
    model = getattr(models, name)()
    assert sum(p.numel() for p in model.parameters()) == DOCUMENTED_PARAMETERS[name]
    ten = getattr(models, name)(num_classes=10)
    last = ten.fc if name.startswith("resnet") else ten.classifier[-1]
    assert last.out_features == 10


def batch_norm_keys(prefix: str) -> list:
    return [f"{prefix}.{key}" for key in ("weight", "bias", "running_mean", "running_var",
                                          "num_batches_tracked")]


def test_resnet18_state_dict_keys_and_shapes():
    """The keys torchvision's resnet18 has, in its order, derived from its layout."""
    expected = ["conv1.weight", *batch_norm_keys("bn1")]
    for stage in range(1, 5):
        for block in range(2):
            prefix = f"layer{stage}.{block}"
            expected += [f"{prefix}.conv1.weight", *batch_norm_keys(f"{prefix}.bn1"),
                         f"{prefix}.conv2.weight", *batch_norm_keys(f"{prefix}.bn2")]
            if stage > 1 and block == 0:
                expected += [f"{prefix}.downsample.0.weight",
                             *batch_norm_keys(f"{prefix}.downsample.1")]
    expected += ["fc.weight", "fc.bias"]
    state = models.resnet18(num_classes=7).state_dict()
    assert list(state) == expected
    shapes = {"conv1.weight": (64, 3, 7, 7), "layer1.0.conv1.weight": (64, 64, 3, 3),
              "layer2.0.conv1.weight": (128, 64, 3, 3), "layer3.0.downsample.0.weight": (
                  256, 128, 1, 1), "layer4.1.bn2.running_var": (512,), "fc.weight": (7, 512),
              "fc.bias": (7,)}
    for key, shape in shapes.items():
        assert tuple(state[key].shape) == shape, key


def test_resnet50_blocks_are_bottlenecks():
    model = models.resnet50()
    block = model.layer2[0]
    assert isinstance(block, models.Bottleneck) and block.conv2.stride == (2, 2)
    assert block.conv1.stride == (1, 1)  # V1.5: the stride is on the 3x3 convolution
    assert tuple(block.conv3.weight.shape) == (512, 128, 1, 1)
    assert tuple(model.fc.weight.shape) == (1000, 2048)


def test_resnet_printout():
    text = repr(models.resnet18())
    assert text.startswith(
        "ResNet(\n"
        "  (conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), "
        "bias=False)\n"
        f"  (bn1): {torch.nn.BatchNorm2d(64)!r}\n"
        "  (relu): ReLU(inplace=True)\n"
        "  (maxpool): MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, "
        "ceil_mode=False)\n"
        "  (layer1): Sequential(\n"
        "    (0): BasicBlock(\n")
    assert ("      (downsample): Sequential(\n"
            "        (0): Conv2d(256, 512, kernel_size=(1, 1), stride=(2, 2), bias=False)\n"
            ) in text
    assert text.endswith("  (avgpool): AdaptiveAvgPool2d(output_size=(1, 1))\n"
                         "  (fc): Linear(in_features=512, out_features=1000, bias=True)\n)")


def test_resnet_initialization():
    model = models.resnet18(zero_init_residual=True)
    # Kaiming normal, fan_out: std sqrt(2 / (64 * 7 * 7)) for the stem's 9408 weights.
    std = float(model.conv1.weight.std())
    assert abs(std - np.sqrt(2 / (64 * 49))) < 0.05 * np.sqrt(2 / (64 * 49))
    assert float(model.bn1.weight.min()) == 1 and float(model.bn1.bias.abs().max()) == 0
    assert float(model.layer1[0].bn2.weight.abs().max()) == 0  # zero_init_residual
    assert float(model.layer1[0].bn1.weight.min()) == 1


@pytest.mark.parametrize("make", [models.resnet18, models.alexnet, models.vgg11])
def test_pretrained_weights_are_refused(make, no_init):
    for kwargs in ({"weights": "IMAGENET1K_V1"}, {"weights": "DEFAULT"}, {"pretrained": True}):
        with pytest.raises(ValueError, match="no pretrained weights.*load_state_dict"):
            make(**kwargs)
    make(pretrained=False, progress=False)


def torch_params(model) -> dict:
    return {key: torch.tensor(value.numpy()) for key, value in model.state_dict().items()}


def torch_batch_norm(x, p: dict, prefix: str):
    return TF.batch_norm(x, p[f"{prefix}.running_mean"], p[f"{prefix}.running_var"],
                         p[f"{prefix}.weight"], p[f"{prefix}.bias"], training=False)


def torch_resnet18(x, p: dict):
    """resnet18's forward pass as torchvision's documentation describes it, in eval mode."""
    x = TF.conv2d(x, p["conv1.weight"], stride=2, padding=3)
    x = TF.max_pool2d(TF.relu(torch_batch_norm(x, p, "bn1")), 3, stride=2, padding=1)
    for stage in range(1, 5):
        for block in range(2):
            prefix = f"layer{stage}.{block}"
            stride = 2 if stage > 1 and block == 0 else 1
            out = TF.conv2d(x, p[f"{prefix}.conv1.weight"], stride=stride, padding=1)
            out = TF.relu(torch_batch_norm(out, p, f"{prefix}.bn1"))
            out = TF.conv2d(out, p[f"{prefix}.conv2.weight"], padding=1)
            out = torch_batch_norm(out, p, f"{prefix}.bn2")
            if f"{prefix}.downsample.0.weight" in p:
                x = TF.conv2d(x, p[f"{prefix}.downsample.0.weight"], stride=stride)
                x = torch_batch_norm(x, p, f"{prefix}.downsample.1")
            x = TF.relu(out + x)
    x = TF.adaptive_avg_pool2d(x, 1).flatten(1)
    return TF.linear(x, p["fc.weight"], p["fc.bias"])


def test_resnet18_forward_and_backward_match_torch():
    ember.manual_seed(0)
    model = models.resnet18(num_classes=5)
    for module in model.modules():  # statistics other than 0 and 1, so that they matter
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
    model.eval()
    images = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    x = ember.tensor(images, requires_grad=True)
    out = model(x)
    theirs_x = torch.tensor(images, requires_grad=True)
    theirs = torch_resnet18(theirs_x, torch_params(model))
    np.testing.assert_allclose(out.detach().numpy(), theirs.detach().numpy(), rtol=1e-4,
                               atol=1e-4)
    weights = np.linspace(-1, 1, 10, dtype=np.float32).reshape(2, 5)
    (out * ember.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-3, atol=1e-5)


def test_alexnet_forward_matches_torch():
    ember.manual_seed(1)
    model = models.alexnet(num_classes=3).eval()
    images = np.random.default_rng(1).standard_normal((1, 3, 127, 127)).astype(np.float32)
    p = torch_params(model)
    x = torch.tensor(images)
    # (index in features, stride, padding) of each convolution; the kernel sizes are the
    # weights' own.
    for i, stride, padding in ((0, 4, 2), (3, 1, 2), (6, 1, 1), (8, 1, 1), (10, 1, 1)):
        x = TF.relu(TF.conv2d(x, p[f"features.{i}.weight"], p[f"features.{i}.bias"], stride,
                              padding))
        if i in (0, 3, 10):
            x = TF.max_pool2d(x, 3, stride=2)
    x = TF.adaptive_avg_pool2d(x, 6).flatten(1)
    x = TF.relu(TF.linear(x, p["classifier.1.weight"], p["classifier.1.bias"]))
    x = TF.relu(TF.linear(x, p["classifier.4.weight"], p["classifier.4.bias"]))
    x = TF.linear(x, p["classifier.6.weight"], p["classifier.6.bias"])
    np.testing.assert_allclose(model(ember.tensor(images)).detach().numpy(), x.numpy(),
                               rtol=1e-4, atol=1e-5)


def test_vgg_layout(no_init):
    model = models.vgg11_bn(num_classes=10)
    convolutions = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convolutions] == [64, 128, 256, 256, 512, 512, 512, 512]
    assert [type(m).__name__ for m in model.features[:4]] == ["Conv2d", "BatchNorm2d", "ReLU",
                                                             "MaxPool2d"]
    assert list(model.state_dict())[:2] == ["features.0.weight", "features.0.bias"]
    assert [type(m).__name__ for m in model.classifier] == [
        "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert repr(model.avgpool) == "AdaptiveAvgPool2d(output_size=(7, 7))"
