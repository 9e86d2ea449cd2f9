"""Vision models: ``LeNet``, the network of PyTorch's "Neural Networks" tutorial, and
torchvision's ResNet, VGG and AlexNet (``resnet18``, ``vgg11``, ``alexnet`` …), built as
torchvision builds them (the same state_dict keys, shapes and printout), without pretrained
weights.
"""

from .. import nn
from ..nn import functional as F
from ..ops.shape import flatten


class LeNet(nn.Module):
    """The tutorial's LeNet-style network for 1x32x32 images (Fashion-MNIST padded by 2).

    conv(1->6, 3x3) -> relu -> maxpool 2 -> conv(6->16, 3x3) -> relu -> maxpool 2 ->
    linear(576->120) -> relu -> linear(120->84) -> relu -> linear(84->num_classes)

    The layers carry the tutorial's names (conv1, conv2, fc1, fc2, fc3), so a state_dict moves
    between this model and the same net written in PyTorch, either way.

    Example:
        >>> import ember
        >>> from ember.vision.models import LeNet
        >>> LeNet()(ember.zeros(2, 1, 32, 32)).shape
        ember.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 6 * 6, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


# ---- torchvision's architectures, without their pretrained weights ---------------------------


def _no_pretrained_weights(name: str, weights, kwargs: dict) -> None:
    """Refuse ``weights=`` (and the older ``pretrained=True``): ember downloads no weights.

    The models have torchvision's state_dict keys, so weights fetched by hand load with
    ``model.load_state_dict(ember.load(path))``.
    """
    pretrained = kwargs.pop("pretrained", False)
    if weights is None and not pretrained:
        return
    asked = f"weights={weights!r}" if weights is not None else "pretrained=True"
    raise ValueError(
        f"ember.vision.models.{name} has no pretrained weights to download ({asked}): pass "
        f"weights=None for a randomly initialized model. To start from torchvision's "
        f"weights, download their .pth file yourself and load it: "
        f"model.load_state_dict(ember.load(path)), the state_dict keys are torchvision's")


def _conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1,
             dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def _conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """ResNet-18/34's block: two 3x3 convolutions with batch norm, plus the input (shortcut).

    Example:
        >>> import ember
        >>> from ember.vision.models import BasicBlock
        >>> BasicBlock(8, 8)(ember.zeros(1, 8, 5, 5)).shape
        ember.Size([1, 8, 5, 5])
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: "nn.Module | None" = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer=None) -> None:
        super().__init__()
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """ResNet-50/101/152's block: 1x1 (narrow), 3x3 (strided), 1x1 (widen by 4), plus the
    shortcut, as in torchvision (the stride on the 3x3 convolution: "ResNet V1.5").

    Example:
        >>> import ember
        >>> from ember.vision.models import Bottleneck
        >>> Bottleneck(32, 8)(ember.zeros(1, 32, 5, 5)).shape
        ember.Size([1, 32, 5, 5])
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: "nn.Module | None" = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer=None) -> None:
        super().__init__()
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = _conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = _conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = _conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """torchvision's ResNet: a 7x7 stem, four stages of blocks, global average pool, linear.

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: the number of blocks in each of the four stages.
        num_classes: outputs of the final linear layer.
        zero_init_residual: start each block's last batch norm at weight 0, so that blocks
            start as the identity.
        groups, width_per_group: the grouped convolutions of ResNeXt and wide ResNets.
        replace_stride_with_dilation: for stages 2-4, dilate instead of striding.
        norm_layer: the normalization layer (``nn.BatchNorm2d``).

    Example:
        >>> import ember
        >>> from ember.vision.models import ResNet, BasicBlock
        >>> ResNet(BasicBlock, [1, 1, 1, 1], num_classes=3)(ember.zeros(2, 3, 32, 32)).shape
        ember.Size([2, 3])
    """

    def __init__(self, block: type, layers: "list[int]", num_classes: int = 1000,
                 zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64,
                 replace_stride_with_dilation: "list[bool] | None" = None,
                 norm_layer=None) -> None:
        super().__init__()
        self._norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, "
                             f"got {replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
        if zero_init_residual:
            for module in self.modules():
                if isinstance(module, Bottleneck):
                    nn.init.constant_(module.bn3.weight, 0)
                elif isinstance(module, BasicBlock):
                    nn.init.constant_(module.bn2.weight, 0)

    def _make_layer(self, block: type, planes: int, blocks: int, stride: int = 1,
                    dilate: bool = False) -> nn.Sequential:
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(_conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(flatten(self.avgpool(x), 1))


def _resnet(name: str, block: type, layers: "list[int]", weights, kwargs: dict) -> ResNet:
    _no_pretrained_weights(name, weights, kwargs)
    kwargs.pop("progress", None)
    return ResNet(block, layers, **kwargs)


def resnet18(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-18 (He et al., 2015) as torchvision builds it: 11,689,512 parameters.

    Args:
        weights: must be None: ember downloads no pretrained weights.
        progress: accepted for torchvision's signature; nothing is downloaded.
        kwargs: ``ResNet``'s arguments, e.g. ``num_classes=10``.

    Raises:
        ValueError: ``weights`` (or ``pretrained=True``) asks for pretrained weights.

    Example:
        >>> from ember.vision.models import resnet18
        >>> model = resnet18(num_classes=10)
        >>> model.fc
        Linear(in_features=512, out_features=10, bias=True)
    """
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], weights, kwargs)


def resnet34(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-34 as torchvision builds it: 21,797,672 parameters. Arguments as ``resnet18``.

    Example:
        >>> from ember.vision.models import resnet34
        >>> model = resnet34()
        >>> [len(stage) for stage in (model.layer1, model.layer2, model.layer3, model.layer4)]
        [3, 4, 6, 3]
    """
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], weights, kwargs)


def resnet50(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-50 as torchvision builds it (bottleneck blocks): 25,557,032 parameters.
    Arguments as ``resnet18``.

    Example:
        >>> from ember.vision.models import resnet50
        >>> resnet50(num_classes=10).fc
        Linear(in_features=2048, out_features=10, bias=True)
    """
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], weights, kwargs)


class VGG(nn.Module):
    """torchvision's VGG: ``features`` (convolutions), a 7x7 average pool and three linear
    layers with dropout. (The examples are skipped in doctest runs: initializing the 100 million
    weights of the linear layers takes seconds.)

    Args:
        features: the convolutional part, e.g. from a VGG configuration.
        num_classes: outputs of the last linear layer.
        init_weights: torchvision's initialization (Kaiming for convolutions, N(0, 0.01) for
            the linear layers, zero biases); otherwise the layers' own.
        dropout: the dropout probability of the classifier.

    Example:
        >>> import ember
        >>> from ember import nn
        >>> from ember.vision.models import VGG
        >>> model = VGG(nn.Sequential(nn.Conv2d(3, 512, 1)), num_classes=2)  # doctest: +SKIP
        >>> model.classifier[-1]  # doctest: +SKIP
        Linear(in_features=4096, out_features=2, bias=True)
    """

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                    if module.bias is not None:
                        nn.init.constant_(module.bias, 0)
                elif isinstance(module, nn.BatchNorm2d):
                    nn.init.constant_(module.weight, 1)
                    nn.init.constant_(module.bias, 0)
                elif isinstance(module, nn.Linear):
                    nn.init.normal_(module.weight, 0, 0.01)
                    nn.init.constant_(module.bias, 0)

    def forward(self, x):
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


# VGG's configurations: output channels of each 3x3 convolution, "M" for a 2x2 max pool.
_VGG_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
}


def _vgg_features(config: list, batch_norm: bool) -> nn.Sequential:
    layers: list = []
    in_channels = 3
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


def _vgg(name: str, config: str, batch_norm: bool, weights, kwargs: dict) -> VGG:
    _no_pretrained_weights(name, weights, kwargs)
    kwargs.pop("progress", None)
    return VGG(_vgg_features(_VGG_CONFIGS[config], batch_norm), **kwargs)


def vgg11(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 (configuration "A") as torchvision builds it: 132,863,336 parameters.

    Args:
        weights: must be None: ember downloads no pretrained weights.
        progress: accepted for torchvision's signature; nothing is downloaded.
        kwargs: ``VGG``'s arguments, e.g. ``num_classes=10``.

    Raises:
        ValueError: ``weights`` (or ``pretrained=True``) asks for pretrained weights.

    Example:
        >>> from ember.vision.models import vgg11
        >>> len(vgg11(num_classes=10).features)  # doctest: +SKIP
        21
    """
    return _vgg("vgg11", "A", False, weights, kwargs)


def vgg11_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 with batch normalization after each convolution. Arguments as ``vgg11``.

    Example:
        >>> from ember.vision.models import vgg11_bn
        >>> vgg11_bn().features[1]  # doctest: +SKIP
        BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """
    return _vgg("vgg11_bn", "A", True, weights, kwargs)


def vgg16(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 (configuration "D") as torchvision builds it: 138,357,544 parameters.
    Arguments as ``vgg11``.

    Example:
        >>> from ember.vision.models import vgg16
        >>> len(vgg16().features)  # doctest: +SKIP
        31
    """
    return _vgg("vgg16", "D", False, weights, kwargs)


class AlexNet(nn.Module):
    """torchvision's AlexNet (the one-GPU variant of Krizhevsky's "one weird trick" paper).

    Args:
        num_classes: outputs of the last linear layer.
        dropout: the dropout probability of the classifier.

    Example:
        >>> import ember
        >>> from ember.vision.models import AlexNet
        >>> AlexNet(num_classes=4)(ember.zeros(1, 3, 63, 63)).shape
        ember.Size([1, 4])
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


def alexnet(*, weights=None, progress: bool = True, **kwargs) -> AlexNet:
    """AlexNet as torchvision builds it: 61,100,840 parameters.

    Args:
        weights: must be None: ember downloads no pretrained weights.
        progress: accepted for torchvision's signature; nothing is downloaded.
        kwargs: ``AlexNet``'s arguments, e.g. ``num_classes=10``.

    Raises:
        ValueError: ``weights`` (or ``pretrained=True``) asks for pretrained weights.

    Example:
        >>> from ember.vision.models import alexnet
        >>> alexnet(num_classes=10).classifier[-1]
        Linear(in_features=4096, out_features=10, bias=True)
    """
    _no_pretrained_weights("alexnet", weights, kwargs)
    return AlexNet(**kwargs)
