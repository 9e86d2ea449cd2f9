"""ember.vision.io (torchvision.io): images the test writes with Pillow, read back as uint8
C x H x W tensors equal to Pillow's own decoding; PNG writing; errors."""

import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.vision import io as vio
from ember.vision.io import ImageReadMode

Image = pytest.importorskip("PIL.Image")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pixels(seed: int, shape) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 256, shape).astype(np.uint8)


def chw(array: np.ndarray) -> np.ndarray:
    return (array[:, :, None] if array.ndim == 2 else array).transpose(2, 0, 1)


@pytest.mark.parametrize("pil_mode, shape, channels", [
    ("L", (5, 7), 1), ("LA", (5, 7, 2), 2), ("RGB", (5, 7, 3), 3), ("RGBA", (5, 7, 4), 4),
])
def test_read_png_unchanged_keeps_channels(tmp_path, pil_mode, shape, channels):
    path = str(tmp_path / "image.png")
    array = pixels(0, shape)
    Image.fromarray(array, pil_mode).save(path)
    image = vio.read_image(path)
    assert image.dtype == ember.uint8 and tuple(image.shape) == (channels, 5, 7)
    np.testing.assert_array_equal(image.numpy(), chw(array))


@pytest.mark.parametrize("mode, pil_mode", [
    (ImageReadMode.GRAY, "L"), (ImageReadMode.GRAY_ALPHA, "LA"), (ImageReadMode.RGB, "RGB"),
    (ImageReadMode.RGB_ALPHA, "RGBA"), ("rgb", "RGB"), ("GRAY", "L"),
])
def test_read_modes_convert_as_pillow(tmp_path, mode, pil_mode):
    path = str(tmp_path / "image.png")
    Image.fromarray(pixels(1, (4, 6, 3)), "RGB").save(path)
    expected = np.asarray(Image.open(path).convert(pil_mode))
    np.testing.assert_array_equal(vio.read_image(path, mode).numpy(), chw(expected))


def test_palette_png_decodes_to_rgb(tmp_path):
    path = str(tmp_path / "palette.png")
    rgb = Image.fromarray(pixels(2, (6, 6, 3)), "RGB").convert("P", palette=Image.ADAPTIVE)
    rgb.save(path)
    image = vio.read_image(path)
    assert tuple(image.shape) == (3, 6, 6)
    np.testing.assert_array_equal(image.numpy(), chw(np.asarray(Image.open(path)
                                                                .convert("RGB"))))


def test_jpeg_decodes_as_pillow(tmp_path):
    path = str(tmp_path / "photo.jpg")
    Image.fromarray(pixels(3, (16, 16, 3)), "RGB").save(path, quality=90)
    data = vio.read_file(path)
    assert data.dtype == ember.uint8 and data.dim() == 1
    assert data.numpy().tobytes() == open(path, "rb").read()
    expected = chw(np.asarray(Image.open(path)))
    np.testing.assert_array_equal(vio.decode_image(data).numpy(), expected)
    np.testing.assert_array_equal(vio.decode_jpeg(data).numpy(), expected)
    np.testing.assert_array_equal(vio.decode_image(path).numpy(), expected)


@pytest.mark.parametrize("channels", [1, 3])
def test_write_png_round_trip(tmp_path, channels):
    array = pixels(4, (channels, 9, 5))
    path = str(tmp_path / "out.png")
    vio.write_png(ember.from_numpy(array), path, compression_level=9)
    np.testing.assert_array_equal(chw(np.asarray(Image.open(path))), array)
    encoded = vio.encode_png(ember.from_numpy(array)[:, ::2])  # a non-contiguous view
    np.testing.assert_array_equal(vio.decode_png(encoded).numpy(), array[:, ::2])


def test_errors(tmp_path):
    image = ember.zeros(3, 2, 2, dtype=ember.uint8)
    with pytest.raises(RuntimeError, match="dtype should be uint8"):
        vio.encode_png(ember.zeros(3, 2, 2))
    with pytest.raises(RuntimeError, match="dimension should be 3"):
        vio.encode_png(ember.zeros(2, 2, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="channels should be 1 or 3, got: 4"):
        vio.encode_png(ember.zeros(4, 2, 2, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="between 0 and 9"):
        vio.encode_png(image, compression_level=10)
    missing = str(tmp_path / "missing.png")
    with pytest.raises(RuntimeError, match=r"\[Errno 2\] No such file or directory"):
        vio.read_image(missing)
    with pytest.raises(RuntimeError, match="Unsupported image file"):
        vio.decode_image(ember.tensor([1, 2, 3], dtype=ember.uint8))
    with pytest.raises(ValueError, match="Unknown image read mode 'CMYK'"):
        vio.decode_image(vio.encode_png(image), mode="CMYK")


def test_torchvision_io_import_under_ember_run(tmp_path):
    # tutorials do ``from torchvision.io import read_image``; ember run's alias finds the module.
    script = tmp_path / "script.py"
    script.write_text("from torchvision.io import read_image, ImageReadMode\n"
                      "import torchvision.io, ember\n"
                      "print(torchvision.io is ember.vision.io, ImageReadMode.RGB.value)\n")
    result = subprocess.run([sys.executable, "-m", "ember", "run", str(script)],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "3"]
