"""Computer vision, as in torchvision: datasets (MNIST, Fashion-MNIST, CIFAR-10), image
transforms, models (LeNet, ResNet, VGG, AlexNet) and utils (make_grid, save_image).

Example:
    >>> from ember.vision import datasets, transforms
    >>> datasets.FashionMNIST.classes[0]
    'T-shirt/top'
"""

from . import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils"]
