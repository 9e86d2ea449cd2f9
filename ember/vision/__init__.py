"""Computer vision, as in torchvision: datasets (MNIST, Fashion-MNIST) and image transforms.

Example:
    >>> from ember.vision import datasets, transforms
    >>> datasets.FashionMNIST.classes[0]
    'T-shirt/top'
"""

from . import datasets, transforms

__all__ = ["datasets", "transforms"]
