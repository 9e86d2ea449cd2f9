"""Vision models: ``LeNet``, the network of PyTorch's "Neural Networks" tutorial."""

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
