"""ember.vision.utils: make_grid and save_image, against grids and pixels worked out by hand
from torchvision's documented rules (torchvision itself is not installed)."""

import io
import sys

import numpy as np
import pytest
from PIL import Image

import ember
from ember.vision.utils import make_grid, save_image


def hand_grid(images: np.ndarray, nrow: int, padding: int, pad_value: float) -> np.ndarray:
    """The grid by the rule: image k at row k // nrow, column k % nrow, ``padding`` pixels
    before each image and after the last row and column."""
    count, channels, height, width = images.shape
    columns = min(nrow, count)
    rows = -(-count // columns)
    grid = np.full((channels, rows * (height + padding) + padding,
                    columns * (width + padding) + padding), pad_value, images.dtype)
    for k, image in enumerate(images):
        top = padding + (k // columns) * (height + padding)
        left = padding + (k % columns) * (width + padding)
        grid[:, top:top + height, left:left + width] = image
    return grid


@pytest.mark.parametrize("count, nrow, padding, pad_value", [
    (7, 3, 3, 0.5), (10, 5, 2, 0.0), (4, 8, 0, 1.0), (2, 1, 1, -1.0)])
def test_grid_layout(count, nrow, padding, pad_value):
    images = np.random.default_rng(count).random((count, 3, 4, 5), dtype=np.float32)
    grid = make_grid(ember.tensor(images), nrow=nrow, padding=padding, pad_value=pad_value)
    np.testing.assert_array_equal(grid.numpy(), hand_grid(images, nrow, padding, pad_value))


def test_grid_sizes_and_gray_images():
    # 10 images of 28 x 28 in rows of 5 with 2 pixels of padding: 2 rows, 5 columns.
    assert make_grid(ember.zeros(10, 1, 28, 28), nrow=5).shape == (3, 62, 152)
    gray = ember.rand(3, 1, 2, 2)
    grid = make_grid(gray, nrow=3, padding=1)
    for channel in range(3):  # one channel becomes three equal ones
        np.testing.assert_array_equal(grid[channel].numpy(), grid[0].numpy())
    # One image comes back unpadded (gray as RGB); so does a list of one.
    assert make_grid(ember.ones(4, 6)).shape == (3, 4, 6)
    assert make_grid(ember.ones(1, 4, 6)).shape == (3, 4, 6)
    assert make_grid(ember.ones(1, 3, 4, 6)).shape == (3, 4, 6)
    assert make_grid([ember.ones(3, 4, 6)] * 2, padding=0).shape == (3, 4, 12)


def test_grid_normalize():
    images = np.array([[[[0.0, 2.0]]], [[[4.0, 6.0]]]], np.float32)  # 2 x 1 x 1 x 2
    tensor = ember.tensor(images)
    grid = make_grid(tensor, normalize=True, padding=0)
    np.testing.assert_allclose(grid[0].numpy(), [[0, 1 / 3, 2 / 3, 1]], rtol=1e-6)
    each = make_grid(tensor, normalize=True, scale_each=True, padding=0)
    np.testing.assert_allclose(each[0].numpy(), [[0, 1, 0, 1]])
    ranged = make_grid(tensor, normalize=True, value_range=(1.0, 5.0), padding=0)
    np.testing.assert_allclose(ranged[0].numpy(), [[0, 0.25, 0.75, 1]])
    np.testing.assert_array_equal(tensor.numpy(), images)  # the input is left as it was
    constant = make_grid(ember.full((2, 1, 1, 1), 3.0), normalize=True, padding=0)
    np.testing.assert_array_equal(constant.numpy(), np.zeros((3, 1, 2)))  # divides by 1e-5


def test_grid_errors_and_gradient():
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(TypeError, match="a list containing"):
        make_grid([ember.zeros(3, 4, 4), np.zeros((3, 4, 4))])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(ember.zeros(2, 3, 4, 4), normalize=True, value_range=[0, 1])
    images = ember.rand(3, 3, 2, 2, requires_grad=True)
    (make_grid(images, nrow=2) * 2).sum().backward()
    np.testing.assert_array_equal(images.grad.numpy(), np.full((3, 3, 2, 2), 2.0))


def expected_pixels(images: np.ndarray, **grid_args) -> np.ndarray:
    """The bytes save_image writes: value * 255 + 0.5, clamped to [0, 255], truncated."""
    grid = make_grid(ember.tensor(images), **grid_args).numpy()
    return np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)


@pytest.mark.parametrize("pillow", [True, False])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_save_image_pixels(tmp_path, monkeypatch, pillow, channels):
    """With Pillow and with ember's own PNG writer, the file holds the same pixels."""
    if not pillow:
        monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    rng = np.random.default_rng(channels)
    images = (rng.random((5, channels, 3, 4)) * 1.2 - 0.1).astype(np.float32)  # some clamp
    save_image(ember.tensor(images), tmp_path / "grid.png", nrow=2, padding=1)
    buffer = io.BytesIO()
    save_image(ember.tensor(images), buffer, format="png", nrow=2, padding=1)
    monkeypatch.undo()
    expected = expected_pixels(images, nrow=2, padding=1)
    for source in (tmp_path / "grid.png", buffer):
        with Image.open(source) as image:
            assert image.mode == ("RGBA" if channels == 4 else "RGB")
            np.testing.assert_array_equal(np.asarray(image), expected)


def test_save_image_without_pillow_writes_png_only(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ValueError, match="PNG files only"):
        save_image(ember.rand(3, 4, 4), tmp_path / "x.jpg")
    with pytest.raises(ValueError, match="PNG files only"):
        save_image(ember.rand(3, 4, 4), io.BytesIO())
    assert list(tmp_path.iterdir()) == []
