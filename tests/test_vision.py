"""ember.vision: IDX files, MNIST / Fashion-MNIST (found, downloaded, or missing), transforms."""

import contextlib
import functools
import gzip
import hashlib
import http.server
import os
import pickle
import struct
import tarfile
import threading
import time

import numpy as np
import pytest
import torch

import ember
from ember.utils.data import DataLoader, default_collate
from ember.vision import datasets, transforms

DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """``array`` in the IDX format: magic number, big-endian sizes, big-endian elements."""
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    header = struct.pack(">HBB", 0, type_code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(dtype[type_code]).tobytes()


def write(path, content: bytes, compress: bool) -> str:
    path = str(path) + (".gz" if compress else "")
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(content)
    return path


def fake_mnist(folder, compress=True, train_count=6, test_count=4, seed=0):
    """Write the four MNIST files with random content; return {"train"/"test": (images,
    labels)}."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    arrays = {}
    for split, names, count in (("train", TRAIN_FILES, train_count),
                                ("test", TEST_FILES, test_count)):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        write(os.path.join(folder, names[0]), idx_bytes(images), compress)
        write(os.path.join(folder, names[1]), idx_bytes(labels), compress)
        arrays[split] = (images, labels)
    return arrays


def trust_checksums(monkeypatch, folder):
    """Make the gzip files in ``folder`` MNIST's ``resources``, with their MD5 sums, so that
    files in ``MNIST/raw/`` (checked as downloads) pass."""
    resources = []
    for name in TRAIN_FILES + TEST_FILES:
        content = (folder / f"{name}.gz").read_bytes()
        resources.append((f"{name}.gz", hashlib.md5(content).hexdigest()))
    monkeypatch.setattr(datasets.MNIST, "resources", resources)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No dataset anywhere by default: empty EMBER_DATA and cache, no system folder."""
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "ember_data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets.FashionMNIST, "system_folders", [str(tmp_path / "system")])
    return tmp_path


# ---- IDX files ---------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("type_code, dtype", [(0x08, np.uint8), (0x09, np.int8),
                                              (0x0B, np.int16), (0x0C, np.int32),
                                              (0x0D, np.float32), (0x0E, np.float64)])
def test_read_idx_round_trip(tmp_path, compress, type_code, dtype):
    array = (np.arange(24) - 5).reshape(2, 3, 4).astype(dtype)
    path = write(tmp_path / "array", idx_bytes(array, type_code), compress)
    read = datasets.read_idx(path)
    assert read.dtype == dtype and read.dtype.isnative and read.flags.writeable
    np.testing.assert_array_equal(read, array)


def test_read_idx_checks_the_magic_number(tmp_path):
    path = write(tmp_path / "labels", idx_bytes(np.zeros(3, np.uint8)), compress=True)
    assert datasets.read_idx(path, expected_magic=2049).shape == (3,)
    with pytest.raises(RuntimeError, match=f"{path}: magic number 2049, expected 2051"):
        datasets.read_idx(path, expected_magic=2051)


@pytest.mark.parametrize("content, problem", [
    (b"\x01\x02\x08\x03" + bytes(20), "not an IDX file"),
    (b"\x00\x00\x42\x01" + bytes(8), "not an IDX file"),
    (b"\x00\x00", "too short"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated header"),
    (idx_bytes(np.zeros((2, 3, 3), np.uint8))[:-1], "truncated"),
    (idx_bytes(np.zeros((2, 3, 3), np.uint8)) + b"\x00", "corrupt"),
])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_names_the_file_and_the_problem(tmp_path, content, problem, compress):
    path = write(tmp_path / "bad", content, compress)
    with pytest.raises(RuntimeError, match=problem) as info:
        datasets.read_idx(path)
    assert str(info.value).startswith(path)


def test_read_idx_reports_a_truncated_gzip_file(tmp_path):
    whole = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8) % 7))
    path = tmp_path / "cut.gz"
    path.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(RuntimeError, match="corrupt or truncated gzip file") as info:
        datasets.read_idx(str(path))
    assert str(path) in str(info.value)


# ---- MNIST and Fashion-MNIST from local files --------------------------------------------

@pytest.mark.parametrize("layout", ["flat", "torchvision"])
@pytest.mark.parametrize("compress", [True, False])
def test_mnist_reads_both_layouts(tmp_path, monkeypatch, layout, compress):
    folder = tmp_path if layout == "flat" else tmp_path / "MNIST" / "raw"
    arrays = fake_mnist(folder, compress=compress)
    if compress:
        trust_checksums(monkeypatch, folder)
    for train, split in ((True, "train"), (False, "test")):
        dataset = datasets.MNIST(root=str(tmp_path), train=train)
        images, labels = arrays[split]
        assert len(dataset) == len(labels)
        assert dataset.data.dtype == ember.uint8 and dataset.data.shape == images.shape
        assert dataset.targets.dtype == ember.int64
        np.testing.assert_array_equal(dataset.data.numpy(), images)
        np.testing.assert_array_equal(dataset.targets.numpy(), labels)
        image, label = dataset[1]
        # An array standing for torchvision's PIL image (mode "L").
        assert isinstance(image, np.ndarray) and image.dtype == np.uint8
        assert image.shape == (28, 28) and isinstance(label, int) and label == labels[1]
        np.testing.assert_array_equal(image, images[1])


def test_items_are_copies_and_transforms_apply(tmp_path):
    arrays = fake_mnist(tmp_path)
    dataset = datasets.MNIST(root=str(tmp_path), transform=transforms.ToTensor(),
                             target_transform=lambda label: label + 100)
    image, label = dataset[0]
    assert image.shape == (1, 28, 28) and image.dtype == ember.float32
    np.testing.assert_allclose(image.numpy()[0], arrays["train"][0][0] / 255, rtol=1e-6)
    assert label == arrays["train"][1][0] + 100
    plain = datasets.MNIST(root=str(tmp_path))
    plain[0][0][...] = 0
    assert plain.data[0].numpy().any()  # writing to an item leaves the dataset alone


def test_mnist_items_take_the_transforms_of_pil_images(tmp_path):
    """torchvision's MNIST items are PIL images: Grayscale(3) makes them RGB, Resize is
    Pillow's, and the per-item path gives what the batched fast path gives."""
    from PIL import Image
    arrays = fake_mnist(tmp_path)
    pixels = arrays["train"][0][0]
    dataset = datasets.MNIST(root=str(tmp_path), transform=transforms.Compose([
        transforms.Grayscale(num_output_channels=3), transforms.Resize(14)]))
    image, _ = dataset[0]
    expected = np.asarray(Image.fromarray(pixels).convert("RGB").resize((14, 14),
                                                                       Image.BILINEAR))
    np.testing.assert_array_equal(image, expected)
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Pad(2),
                                   transforms.Normalize((0.5,), (0.25,))])
    dataset = datasets.MNIST(root=str(tmp_path), transform=pipeline)
    batch = dataset._get_batch([0, 1])[0]
    np.testing.assert_array_equal(batch.numpy(), np.stack([dataset[0][0].numpy(),
                                                           dataset[1][0].numpy()]))


def test_dataset_attributes_and_repr(tmp_path):
    fake_mnist(tmp_path)
    dataset = datasets.FashionMNIST(root=str(tmp_path), train=False,
                                    transform=transforms.ToTensor())
    assert dataset.classes == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                               "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert dataset.class_to_idx["Ankle boot"] == 9
    assert datasets.MNIST.classes[3] == "3 - three"
    assert repr(dataset) == (f"Dataset FashionMNIST\n    Number of datapoints: 4\n"
                             f"    Root location: {tmp_path}\n    Split: Test\n"
                             f"    Transform: ToTensor()")


def test_image_and_label_counts_must_agree(tmp_path):
    fake_mnist(tmp_path)
    write(tmp_path / TRAIN_FILES[1], idx_bytes(np.zeros(5, np.uint8)), compress=True)
    with pytest.raises(RuntimeError, match="holds 6 images but .* holds 5 labels"):
        datasets.MNIST(root=str(tmp_path))


def test_a_corrupt_dataset_file_is_named(tmp_path):
    fake_mnist(tmp_path)
    images = tmp_path / (TRAIN_FILES[0] + ".gz")
    images.write_bytes(gzip.compress(idx_bytes(np.zeros((6, 28, 28), np.uint8))[:-100]))
    with pytest.raises(RuntimeError, match="truncated") as info:
        datasets.FashionMNIST(root=str(tmp_path))
    assert str(images) in str(info.value)


def test_root_from_ember_data(isolated):
    arrays = fake_mnist(isolated / "ember_data")
    dataset = datasets.FashionMNIST()
    assert dataset.root == str(isolated / "ember_data")
    np.testing.assert_array_equal(dataset.targets.numpy(), arrays["train"][1])


def test_root_from_the_cache_folder(isolated, monkeypatch):
    raw = isolated / "cache" / "ember" / "datasets" / "MNIST" / "raw"
    arrays = fake_mnist(raw, seed=1)
    trust_checksums(monkeypatch, raw)
    dataset = datasets.MNIST(train=False)
    np.testing.assert_array_equal(dataset.targets.numpy(), arrays["test"][1])


def test_root_from_the_system_folder(isolated):
    arrays = fake_mnist(isolated / "system", seed=2)
    dataset = datasets.FashionMNIST()
    np.testing.assert_array_equal(dataset.targets.numpy(), arrays["train"][1])
    with pytest.raises(RuntimeError):
        datasets.MNIST()  # the Fashion-MNIST package's folder is not MNIST's


def test_missing_data_says_the_three_ways_to_get_it(isolated):
    with pytest.raises(RuntimeError) as info:
        datasets.FashionMNIST()
    message = str(info.value)
    assert "FashionMNIST dataset not found" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "EMBER_DATA" in message and "root=" in message
    assert "download=True" in message
    assert str(isolated / "ember_data") in message and str(isolated / "system") in message
    with pytest.raises(RuntimeError, match="download=True") as info:
        datasets.MNIST(root=str(isolated / "nowhere"))
    assert "apt-get" not in str(info.value)  # no package ships MNIST


# ---- download ------------------------------------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def local_server(handler):
    """An HTTP server on 127.0.0.1 with ``handler``, in a thread; yields its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "www"``; yields its base URL."""
    www = tmp_path / "www"
    www.mkdir()
    with local_server(functools.partial(QuietHandler, directory=str(www))) as url:
        yield url


def serve_fake_mnist(tmp_path, monkeypatch, mirrors):
    """Put fake gzip MNIST files at www/good/, and point MNIST at them."""
    arrays = fake_mnist(tmp_path / "www" / "good")
    trust_checksums(monkeypatch, tmp_path / "www" / "good")
    monkeypatch.setattr(datasets.MNIST, "mirrors", mirrors)
    return arrays


def test_download_falls_back_to_the_next_mirror(tmp_path, monkeypatch, server, capsys):
    arrays = serve_fake_mnist(tmp_path, monkeypatch, [server + "missing/", server + "good/"])
    root = tmp_path / "data"
    dataset = datasets.MNIST(root=str(root), train=False, download=True)
    np.testing.assert_array_equal(dataset.data.numpy(), arrays["test"][0])
    raw = root / "MNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(f"{name}.gz" for name in TRAIN_FILES + TEST_FILES)
    assert "Downloading" in capsys.readouterr().out
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/unreachable/"])
    datasets.MNIST(root=str(root), download=True)  # present already: nothing to fetch


def test_download_into_the_default_root(isolated, monkeypatch, server):
    serve_fake_mnist(isolated, monkeypatch, [server + "good/"])
    monkeypatch.delenv("EMBER_DATA")
    datasets.MNIST(download=True)
    assert os.path.isdir(isolated / "cache" / "ember" / "datasets" / "MNIST" / "raw")


def test_download_rejects_a_bad_checksum(tmp_path, monkeypatch, server):
    serve_fake_mnist(tmp_path, monkeypatch, [server + "good/"])
    resources = list(datasets.MNIST.resources)
    resources[0] = (resources[0][0], "0" * 32)
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match="MD5 checksum mismatch") as info:
        datasets.MNIST(root=str(root), download=True)
    assert resources[0][0] in str(info.value)
    assert os.listdir(root / "MNIST" / "raw") == []  # nothing half-written is left behind


def test_download_reports_every_failed_mirror(tmp_path, monkeypatch, server):
    serve_fake_mnist(tmp_path, monkeypatch, [server + "missing/", server + "also-missing/"])
    with pytest.raises(RuntimeError, match="could not download") as info:
        datasets.MNIST(root=str(tmp_path / "data"), download=True)
    assert "missing/" in str(info.value) and "also-missing/" in str(info.value)


def damage(path) -> None:
    """Replace a gzip file with another well-formed one: only its MD5 sum tells."""
    path.write_bytes(gzip.compress(idx_bytes(np.full((6, 28, 28), 9, np.uint8))))


def test_a_damaged_download_is_fetched_again(tmp_path, monkeypatch, server, capsys):
    arrays = serve_fake_mnist(tmp_path, monkeypatch, [server + "good/"])
    root = tmp_path / "data"
    datasets.MNIST(root=str(root), download=True)
    images = root / "MNIST" / "raw" / f"{TRAIN_FILES[0]}.gz"
    damage(images)
    capsys.readouterr()
    dataset = datasets.MNIST(root=str(root), download=True)
    np.testing.assert_array_equal(dataset.data.numpy(), arrays["train"][0])
    assert f"{images} is damaged" in capsys.readouterr().out
    # The download() method checks what it keeps too.
    damage(images)
    dataset.download()
    assert images.read_bytes() == (tmp_path / "www" / "good" / images.name).read_bytes()


def test_a_damaged_download_is_an_error_without_download(tmp_path, monkeypatch, server):
    serve_fake_mnist(tmp_path, monkeypatch, [server + "good/"])
    root = tmp_path / "data"
    datasets.MNIST(root=str(root), train=False, download=True)
    labels = root / "MNIST" / "raw" / f"{TEST_FILES[1]}.gz"
    damage(labels)
    with pytest.raises(RuntimeError, match="download=True") as info:
        datasets.MNIST(root=str(root), train=False)
    assert f"{labels} is damaged: its MD5 sum is" in str(info.value)


class TricklingHandler(QuietHandler):
    """Announces a 1000-byte file and sends it one byte every 50 ms (50 s in all)."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client gave up
            pass


@pytest.fixture
def trickling_server():
    """An HTTP server on 127.0.0.1 that trickles every file; yields its base URL."""
    with local_server(TricklingHandler) as url:
        yield url


def test_a_download_has_a_deadline(tmp_path, monkeypatch, trickling_server):
    monkeypatch.setattr(datasets.MNIST, "mirrors", [trickling_server + "slow/"])
    root = tmp_path / "data"
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="could not download") as info:
        datasets.MNIST(root=str(root), download=True, download_deadline=0.5)
    assert time.monotonic() - started < 5
    url = trickling_server + "slow/" + datasets.MNIST.resources[0][0]
    assert f"{url}: not finished within the deadline of 0.5 seconds" in str(info.value)
    assert os.listdir(root / "MNIST" / "raw") == []  # the partial file is gone


# ---- transforms ----------------------------------------------------------------------------

def test_to_tensor_matches_manual_numpy():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    color = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    to_tensor = transforms.ToTensor()
    for image, expected in ((gray, gray[None]), (color, color.transpose(2, 0, 1)),
                            (ember.from_numpy(gray), gray[None])):
        result = to_tensor(image)
        assert result.dtype == ember.float32
        np.testing.assert_array_equal(result.numpy(), expected.astype(np.float32) / 255)
    floats = rng.random((4, 4))
    result = to_tensor(floats)  # not uint8: values and dtype kept
    assert result.dtype == ember.float64
    np.testing.assert_array_equal(result.numpy(), floats[None])


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        transforms.ToTensor()([[1, 2]])
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions."):
        transforms.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


def test_normalize_matches_manual_numpy():
    rng = np.random.default_rng(1)
    image = rng.random((3, 4, 5), dtype=np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    expected = (image - np.array(mean, np.float32)[:, None, None]) \
        / np.array(std, np.float32)[:, None, None]
    tensor = ember.from_numpy(image.copy())
    result = transforms.Normalize(mean, std)(tensor)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)
    np.testing.assert_array_equal(tensor.numpy(), image)  # not in place
    in_place = transforms.Normalize(mean, std, inplace=True)(tensor)
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=1e-6)
    assert in_place is tensor


def test_normalize_errors():
    normalize = transforms.Normalize((0.5,), (0.5,))
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        normalize(ember.zeros(1, 2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size"):
        normalize(ember.zeros(2, 2))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        transforms.Normalize((0.5,), (0.0,))(ember.zeros(1, 2, 2))


@pytest.mark.parametrize("padding, torch_pad", [(2, (2, 2, 2, 2)), ((1, 3), (1, 1, 3, 3)),
                                                ((1, 2, 3, 0), (1, 3, 2, 0)), ([2], (2,) * 4)])
@pytest.mark.parametrize("mode, torch_mode", [("constant", "constant"), ("edge", "replicate"),
                                              ("reflect", "reflect")])
def test_pad_matches_torch(padding, torch_pad, mode, torch_mode):
    image = np.arange(2 * 5 * 6, dtype=np.float32).reshape(2, 5, 6)
    ours = transforms.Pad(padding, fill=0, padding_mode=mode)(ember.from_numpy(image))
    theirs = torch.nn.functional.pad(torch.from_numpy(image)[None], torch_pad, torch_mode)[0]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_pad_fill_symmetric_and_numpy_images():
    image = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    filled = transforms.Pad(1, fill=9)(image)
    assert isinstance(filled, np.ndarray)
    np.testing.assert_array_equal(filled, [[9, 9, 9, 9], [9, 1, 2, 9], [9, 3, 4, 9],
                                           [9, 9, 9, 9]])
    np.testing.assert_array_equal(transforms.Pad((1, 0), padding_mode="symmetric")(image),
                                  [[1, 1, 2, 2], [3, 3, 4, 4]])
    color = np.zeros((28, 28, 3), np.uint8)  # an H x W x C array: pad H and W, not C
    assert transforms.Pad(2)(color).shape == (32, 32, 3)
    assert transforms.Pad(2)(ember.zeros(28, 28, dtype=ember.uint8)).shape == (32, 32)


@pytest.mark.parametrize("args, error, message", [
    (("2",), TypeError, "Got inappropriate padding arg"),
    ((2, "white"), TypeError, "Got inappropriate fill arg"),
    ((2, 0, "wrap"), ValueError, "Padding mode should be either"),
    (((1, 2, 3),), ValueError, "not a 3 element tuple"),
    ((-1,), ValueError, "non-negative"),
])
def test_pad_errors(args, error, message):
    with pytest.raises(error, match=message):
        transforms.Pad(*args)


def test_lambda_and_compose():
    pipeline = transforms.Compose([transforms.Lambda(lambda x: x + 1),
                                   transforms.Lambda(lambda x: x * 10)])
    assert pipeline(1) == 20
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        transforms.Lambda(3)


def test_reprs_match_torchvision():
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    assert repr(pipeline) == "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n)"
    assert repr(transforms.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    assert repr(transforms.Lambda(abs)) == "Lambda()"


SIZES = [((32, 48), (16, 24)), ((7, 5), (13, 11)), ((100, 37), (9, 8)), ((10, 10), (10, 10)),
         ((5, 9), (3, 20))]


@pytest.mark.parametrize("size, new_size", SIZES)
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_bilinear_matches_torch_interpolate(size, new_size, antialias):
    """torchvision resizes a tensor with interpolate(bilinear, align_corners=False)."""
    images = np.random.default_rng(0).random((2, 3, *size), dtype=np.float32)
    ours = transforms.Resize(new_size, antialias=antialias)(ember.tensor(images))
    theirs = torch.nn.functional.interpolate(torch.tensor(images), size=new_size,
                                             mode="bilinear", align_corners=False,
                                             antialias=antialias)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)
    # uint8 is computed in float32 and rounded: a value a rounding error from .5 may round the
    # other way than PyTorch's float path (or its fixed-point uint8 kernel).
    pixels = (images * 255).astype(np.uint8)
    ours = transforms.Resize(new_size, antialias=antialias)(ember.tensor(pixels))
    theirs = torch.nn.functional.interpolate(torch.tensor(pixels).float(), size=new_size,
                                             mode="bilinear", align_corners=False,
                                             antialias=antialias).round().clamp(0, 255)
    assert ours.dtype == ember.uint8
    np.testing.assert_allclose(ours.numpy(), theirs.to(torch.uint8).numpy(), rtol=0, atol=1)
    # A float NumPy image H x W x C is resized in its first two dimensions, and stays NumPy.
    array = transforms.Resize(new_size, antialias=antialias)(images[0].transpose(1, 2, 0))
    np.testing.assert_allclose(array.transpose(2, 0, 1), theirs_float(images, new_size,
                                                                      antialias)[0], atol=1e-5)


def theirs_float(images, new_size, antialias):
    return torch.nn.functional.interpolate(torch.tensor(images), size=new_size, mode="bilinear",
                                           align_corners=False, antialias=antialias).numpy()


# Sizes where Pillow's order of passes is known: one side only, or one side grows.
PILLOW_SIZES = [((32, 48), (32, 24)), ((32, 48), (16, 48)), ((7, 5), (13, 11)),
                ((100, 37), (9, 37)), ((5, 9), (3, 20)), ((10, 10), (10, 10)),
                ((40, 10), (20, 30)), ((9, 5), (20, 3)), ((64, 64), (20, 20))]


@pytest.mark.parametrize("size, new_size", PILLOW_SIZES)
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_resize_of_pil_images_gives_pillows_numbers(size, new_size, mode):
    """torchvision resizes a PIL image with Pillow; a uint8 array stands for one."""
    from PIL import Image
    rng = np.random.default_rng(size[0])
    for shape in (size, (*size, 3)):
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        resample = Image.BILINEAR if mode == "bilinear" else Image.NEAREST
        expected = np.asarray(Image.fromarray(pixels).resize(new_size[::-1], resample))
        transform = transforms.Resize(new_size, interpolation=transforms.InterpolationMode(mode))
        np.testing.assert_array_equal(transform(pixels), expected)
        np.testing.assert_array_equal(transform(Image.fromarray(pixels)), expected)


@pytest.mark.parametrize("size, new_size", SIZES)
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_resize_nearest_matches_torch_interpolate(size, new_size, mode):
    images = np.random.default_rng(1).random((1, 2, *size), dtype=np.float32)
    ours = transforms.Resize(new_size, interpolation=transforms.InterpolationMode(mode))(
        ember.tensor(images))
    theirs = torch.nn.functional.interpolate(torch.tensor(images), size=new_size, mode=mode)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_resize_sizes():
    """One number sizes the shorter side, keeping the aspect ratio rounded down; max_size caps
    the longer side."""
    assert transforms.Resize(16)(ember.zeros(3, 32, 50)).shape == (3, 16, 25)
    assert transforms.Resize([16])(ember.zeros(3, 50, 32)).shape == (3, 25, 16)
    assert transforms.Resize(16, max_size=20)(ember.zeros(3, 32, 50)).shape == (3, 12, 20)
    assert transforms.Resize((5, 7))(ember.zeros(2, 1, 9, 9)).shape == (2, 1, 5, 7)
    assert repr(transforms.Resize(32)) == (
        "Resize(size=32, interpolation=bilinear, max_size=None, antialias=True)")
    with pytest.raises(ValueError, match="should have 1 or 2 values"):
        transforms.Resize((1, 2, 3))
    with pytest.raises(ValueError, match="must be strictly greater"):
        transforms.Resize(16, max_size=16)(ember.zeros(1, 4, 4))
    with pytest.raises(TypeError, match="InterpolationMode"):
        transforms.Resize(16, interpolation=2)
    with pytest.raises(NotImplementedError, match="not bicubic"):
        transforms.Resize(16, interpolation=transforms.InterpolationMode.BICUBIC)


def test_center_crop_by_hand():
    image = ember.arange(5 * 6).reshape(1, 5, 6)
    # (5 - 2) / 2 = 1.5 rounds to 2 (to even), (6 - 3) / 2 = 1.5 to 2.
    np.testing.assert_array_equal(transforms.CenterCrop((2, 3))(image).numpy(),
                                  image.numpy()[:, 2:4, 2:5])
    # Larger than the image: zeros around it, the extra odd pixel after.
    padded = transforms.CenterCrop((6, 9))(ember.ones(1, 3, 4)).numpy()[0]
    expected = np.zeros((6, 9), np.float32)
    expected[1:4, 2:6] = 1
    np.testing.assert_array_equal(padded, expected)
    array = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    np.testing.assert_array_equal(transforms.CenterCrop(2)(array), array[1:3, 1:3])
    assert repr(transforms.CenterCrop(24)) == "CenterCrop(size=(24, 24))"


def test_random_crop_and_flips():
    image = ember.arange(2 * 6 * 6, dtype=ember.float32).reshape(2, 6, 6)
    crop = transforms.RandomCrop(4, padding=1)
    ember.manual_seed(0)
    crops = [crop(image) for _ in range(40)]
    ember.manual_seed(0)
    assert all(np.array_equal(a.numpy(), crop(image).numpy()) for a in crops)  # seeded
    padded = np.pad(image.numpy(), ((0, 0), (1, 1), (1, 1)))
    windows = {(top, left): padded[:, top:top + 4, left:left + 4]
               for top in range(5) for left in range(5)}
    seen = set()
    for c in crops:
        found = [key for key, window in windows.items() if np.array_equal(window, c.numpy())]
        assert found, "a crop that is no window of the padded image"
        seen.add(found[0])
    assert len(seen) > 10  # positions vary
    assert transforms.RandomCrop(8, pad_if_needed=True)(image).shape == (2, 8, 8)
    with pytest.raises(ValueError, match=r"Required crop size \(8, 8\) is larger than input "
                                         r"image size \(6, 6\)"):
        transforms.RandomCrop(8)(image)
    assert repr(crop) == "RandomCrop(size=(4, 4), padding=1)"

    flip = transforms.RandomHorizontalFlip()
    ember.manual_seed(1)
    flips = [flip(image) for _ in range(50)]
    mirrored = sum(np.array_equal(f.numpy(), image.numpy()[:, :, ::-1]) for f in flips)
    unchanged = sum(np.array_equal(f.numpy(), image.numpy()) for f in flips)
    assert mirrored + unchanged == 50 and 10 < mirrored < 40
    np.testing.assert_array_equal(transforms.RandomVerticalFlip(1.0)(image).numpy(),
                                  image.numpy()[:, ::-1])
    array = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(1.0)(array), array[:, ::-1])
    assert repr(flip) == "RandomHorizontalFlip(p=0.5)"


def test_grayscale_by_hand():
    rgb = np.array([[[1.0, 0.5]], [[0.0, 0.5]], [[0.5, 1.0]]], np.float32)  # 3 x 1 x 2
    gray = transforms.Grayscale()(ember.tensor(rgb))
    expected = np.float32(0.2989) * rgb[0] + np.float32(0.587) * rgb[1] + \
        np.float32(0.114) * rgb[2]
    np.testing.assert_allclose(gray.numpy(), expected[None], rtol=1e-6)
    three = transforms.Grayscale(3)(ember.tensor(rgb))
    assert three.shape == (3, 1, 2) and np.array_equal(three.numpy()[2], gray.numpy()[0])
    pixels = np.array([[[200, 100, 50]]], np.uint8)  # H x W x C: 59.78 + 58.7 + 5.7 = 124.18
    assert transforms.Grayscale()(pixels).tolist() == [[124]]
    truncated = transforms.Grayscale()(ember.tensor(pixels.transpose(2, 0, 1)))
    assert truncated.dtype == ember.uint8 and truncated.tolist() == [[[124]]]
    # Arrays stand for PIL images: converted as Pillow converts to "L".
    from PIL import Image
    many = np.random.default_rng(6).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    np.testing.assert_array_equal(transforms.Grayscale()(many),
                                  np.asarray(Image.fromarray(many).convert("L")))
    assert transforms.Grayscale(3)(many).shape == (20, 30, 3)
    with pytest.raises(ValueError, match="either 1 or 3"):
        transforms.Grayscale(2)


def test_pil_to_tensor_and_convert_image_dtype():
    pixels = np.array([[[0, 128, 255]]], np.uint8)  # 1 x 1 x 3
    tensor = transforms.PILToTensor()(pixels)
    assert tensor.dtype == ember.uint8 and tensor.tolist() == [[[0]], [[128]], [[255]]]
    from PIL import Image
    assert transforms.PILToTensor()(Image.fromarray(pixels)).tolist() == tensor.tolist()
    to_float = transforms.ConvertImageDtype(ember.float32)(tensor)
    np.testing.assert_allclose(to_float.numpy().ravel(), [0, 128 / 255, 1], rtol=1e-6)
    # float -> uint8 multiplies by 255.999 and truncates: 0.5 -> 127, 1.0 -> 255.
    back = transforms.ConvertImageDtype(ember.uint8)(ember.tensor([0.0, 0.5, 1.0]))
    assert back.dtype == ember.uint8 and back.tolist() == [0, 127, 255]
    # uint8 -> int16 scales by 32768 / 256 = 128; int16 -> uint8 divides back, rounding down.
    wide = transforms.ConvertImageDtype(ember.int16)(ember.tensor([1, 255], dtype=ember.uint8))
    assert wide.dtype == ember.int16 and wide.tolist() == [128, 32640]
    narrow = transforms.ConvertImageDtype(ember.uint8)(ember.tensor([200, 32767],
                                                                     dtype=ember.int16))
    assert narrow.tolist() == [1, 255]
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        transforms.ConvertImageDtype(ember.int64)(ember.zeros(2))


TUTORIAL = transforms.Compose([transforms.ToTensor(), transforms.Pad(2),
                               transforms.Normalize((0.2860,), (0.3530,))])


def test_batch_transform_equals_stacking_each_image():
    images = ember.from_numpy(np.random.default_rng(2).integers(0, 256, (5, 28, 28),
                                                                 dtype=np.uint8))
    batched = transforms.batch_transform(TUTORIAL)(images)
    one_by_one = ember.stack([TUTORIAL(image) for image in images])
    assert batched.shape == (5, 1, 32, 32)
    np.testing.assert_array_equal(batched.numpy(), one_by_one.numpy())
    assert transforms.batch_transform(transforms.Lambda(abs)) is None
    assert transforms.batch_transform(transforms.Compose([transforms.ToTensor(),
                                                          transforms.Lambda(abs)])) is None


@pytest.mark.parametrize("transform", [None, TUTORIAL, transforms.Compose(
    [transforms.Pad(1), transforms.ToTensor(), transforms.Lambda(lambda x: x * 2)])])
def test_loader_fast_path_equals_per_sample_path(tmp_path, transform):
    fake_mnist(tmp_path, train_count=10)
    dataset = datasets.MNIST(root=str(tmp_path), transform=transform)
    fast = list(DataLoader(dataset, batch_size=4))
    slow = list(DataLoader(dataset, batch_size=4, collate_fn=lambda b: default_collate(b)))
    assert len(fast) == len(slow) == 3
    for (fast_images, fast_labels), (slow_images, slow_labels) in zip(fast, slow):
        assert fast_images.dtype == slow_images.dtype and fast_labels.dtype == ember.int64
        np.testing.assert_array_equal(fast_images.numpy(), slow_images.numpy())
        np.testing.assert_array_equal(fast_labels.numpy(), slow_labels.numpy())


def test_v2_to_image_and_to_dtype_give_what_to_tensor_gives():
    from PIL import Image

    from ember.vision.transforms import v2
    pixels = np.random.default_rng(3).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    pipeline = v2.Compose([v2.ToImage(), v2.ToDtype(ember.float32, scale=True)])
    for image in (pixels, Image.fromarray(pixels), pixels[:, :, 0]):
        np.testing.assert_array_equal(pipeline(image).numpy(),
                                      transforms.ToTensor()(image).numpy())
    as_image = v2.ToImage()(pixels)
    assert as_image.dtype == ember.uint8 and as_image.shape == (3, 4, 5)
    assert v2.ToImage()(as_image) is as_image
    assert v2.ToDtype(ember.float32)(as_image).max().item() == pixels.max()  # not scaled
    assert v2.RandomCrop is transforms.RandomCrop and v2.Normalize is transforms.Normalize


# ---- CIFAR-10 ---------------------------------------------------------------------------------

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                 "truck"]


def fake_cifar(www, monkeypatch, per_batch: int = 3) -> dict:
    """Write a small cifar-10-python.tar.gz into ``www`` as CIFAR's is laid out (pickled dicts
    of a uint8 array N x 3072, channel by channel, and labels), point CIFAR10 at it with the
    MD5 sums of these files, and return {batch name: (images N x 32 x 32 x 3, labels)}."""
    rng = np.random.default_rng(0)
    folder = www / "build" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches, sums = {}, {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch).tolist()
        data = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(per_batch, 3072)
        entry = {"batch_label": name, "labels": labels, "data": data, "filenames": ["x.png"]}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
        batches[name] = (images, labels)
    meta = {"num_cases_per_batch": per_batch, "label_names": CIFAR_CLASSES, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    for path in folder.iterdir():
        sums[path.name] = hashlib.md5(path.read_bytes()).hexdigest()
    archive = www / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", hashlib.md5(archive.read_bytes()).hexdigest())
    monkeypatch.setattr(datasets.CIFAR10, "train_list",
                        [[f"data_batch_{i}", sums[f"data_batch_{i}"]] for i in range(1, 6)])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", sums["test_batch"]]])
    monkeypatch.setattr(datasets.CIFAR10, "meta", {"filename": "batches.meta",
                                                   "key": "label_names",
                                                   "md5": sums["batches.meta"]})
    return batches


def test_cifar10_downloads_checks_and_reads(tmp_path, monkeypatch, server, capsys):
    batches = fake_cifar(tmp_path / "www", monkeypatch)
    monkeypatch.setattr(datasets.CIFAR10, "mirrors", [server + "missing/", server])
    root = tmp_path / "data"
    train = datasets.CIFAR10(root=str(root), train=True, download=True,
                             transform=transforms.ToTensor())
    assert "Downloading" in capsys.readouterr().out
    assert (root / "cifar-10-python.tar.gz").is_file()
    assert len(train) == 15 and train.classes == CIFAR_CLASSES
    assert train.class_to_idx["truck"] == 9
    images = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    labels = sum((batches[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    np.testing.assert_array_equal(train.data, images)
    assert train.targets == labels
    image, label = train[4]
    assert image.shape == (3, 32, 32) and label == labels[4]
    np.testing.assert_allclose(image.numpy(), images[4].transpose(2, 0, 1) / 255, rtol=1e-6)
    test = datasets.CIFAR10(root=str(root), train=False)
    np.testing.assert_array_equal(test.data, batches["test_batch"][0])
    assert repr(test) == ("Dataset CIFAR10\n    Number of datapoints: 3\n"
                          f"    Root location: {root}\n    Split: Test")
    # Present and intact: download=True fetches nothing.
    monkeypatch.setattr(datasets.CIFAR10, "mirrors", ["http://127.0.0.1:9/unreachable/"])
    datasets.CIFAR10(root=str(root), download=True)
    assert "Files already downloaded and verified" in capsys.readouterr().out
    batched, targets = next(iter(DataLoader(train, batch_size=4)))
    assert batched.shape == (4, 3, 32, 32) and targets.tolist() == labels[:4]
    # The usual augmentation, before ToTensor: images are H x W x C, as torchvision's PIL ones.
    ember.manual_seed(0)
    train.transform = transforms.Compose([transforms.RandomCrop(32, padding=4),
                                          transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    assert next(iter(DataLoader(train, batch_size=4)))[0].shape == (4, 3, 32, 32)
    train.transform = transforms.Compose([transforms.CenterCrop(16), transforms.ToTensor()])
    np.testing.assert_allclose(train[4][0].numpy(),
                               images[4, 8:24, 8:24].transpose(2, 0, 1) / 255, rtol=1e-6)


def test_cifar10_missing_or_damaged(tmp_path, monkeypatch, server):
    fake_cifar(tmp_path / "www", monkeypatch)
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted.*download=True"):
        datasets.CIFAR10(root=str(tmp_path / "data"))
    monkeypatch.setattr(datasets.CIFAR10, "mirrors", [server])
    datasets.CIFAR10(root=str(tmp_path / "data"), download=True)
    batch = tmp_path / "data" / "cifar-10-batches-py" / "data_batch_3"
    damaged = bytearray(batch.read_bytes())
    damaged[500] ^= 1  # a pixel changes: only the MD5 sum tells
    batch.write_bytes(bytes(damaged))
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        datasets.CIFAR10(root=str(tmp_path / "data"))
    datasets.CIFAR10(root=str(tmp_path / "data"), download=True)  # unpacked again
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", "0" * 32)
    (tmp_path / "data" / "cifar-10-python.tar.gz").unlink()
    batch.unlink()
    with pytest.raises(RuntimeError, match="MD5 checksum mismatch"):
        datasets.CIFAR10(root=str(tmp_path / "data"), download=True)


def test_cifar10_batches_cannot_run_code(tmp_path, monkeypatch):
    """A batch whose MD5 sum was made to match still can't name os.system."""
    fake_cifar(tmp_path / "www", monkeypatch)
    folder = tmp_path / "data" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for path in (tmp_path / "www" / "build" / "cifar-10-batches-py").iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    evil = pickle.dumps({"labels": [], "data": Evil()}, protocol=2)
    (folder / "test_batch").write_bytes(evil)
    monkeypatch.setattr(datasets.CIFAR10, "test_list",
                        [["test_batch", hashlib.md5(evil).hexdigest()]])
    with pytest.raises(pickle.UnpicklingError, match="names posix.system"):
        datasets.CIFAR10(root=str(tmp_path / "data"), train=False)
    assert not marker.exists()


def test_cifar100_reads_fine_labels(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    images = np.random.default_rng(5).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    data = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(2, 3072)
    files = {"train": {"data": data, "fine_labels": [99, 7], "coarse_labels": [1, 2]},
             "test": {"data": data[:1], "fine_labels": [3], "coarse_labels": [0]},
             "meta": {"fine_label_names": [f"class{i}" for i in range(100)]}}
    sums = {}
    for name, content in files.items():
        raw = pickle.dumps(content, protocol=2)
        (folder / name).write_bytes(raw)
        sums[name] = hashlib.md5(raw).hexdigest()
    monkeypatch.setattr(datasets.CIFAR100, "train_list", [["train", sums["train"]]])
    monkeypatch.setattr(datasets.CIFAR100, "test_list", [["test", sums["test"]]])
    monkeypatch.setattr(datasets.CIFAR100, "meta", {"filename": "meta",
                                                    "key": "fine_label_names",
                                                    "md5": sums["meta"]})
    train = datasets.CIFAR100(root=str(tmp_path))
    assert train.targets == [99, 7] and train.classes[99] == "class99"
    np.testing.assert_array_equal(train.data, images)
    assert repr(train).startswith("Dataset CIFAR100\n")


# ---- ImageFolder --------------------------------------------------------------------------------


def test_image_folder(tmp_path):
    from PIL import Image
    rng = np.random.default_rng(4)
    pictures = {}
    for name in ("dog/b.png", "cat/z.png", "cat/sub/a.PNG", "dog/a.bmp", "cat/notes.txt"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".txt"):
            path.write_text("not an image")
            continue
        pixels = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path)
        pictures[str(path)] = pixels
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty. "
                                                "Supported extensions are: .jpg, .jpeg"):
        datasets.ImageFolder(tmp_path)
    folder = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor(), allow_empty=True)
    assert folder.classes == ["cat", "dog", "empty"] and folder.class_to_idx["dog"] == 1
    # Class by class; within a class, folder by folder (sorted), files sorted.
    assert [os.path.relpath(p, tmp_path) for p, _ in folder.samples] == [
        "cat/z.png", "cat/sub/a.PNG", "dog/a.bmp", "dog/b.png"]
    assert folder.targets == [0, 0, 1, 1] and folder.imgs == folder.samples
    image, label = folder[3]
    assert label == 1 and image.shape == (3, 3, 4)
    np.testing.assert_allclose(image.numpy(), pictures[folder.samples[3][0]].transpose(2, 0, 1)
                               / 255, rtol=1e-6)
    assert repr(folder).startswith(f"Dataset ImageFolder\n    Number of datapoints: 4\n"
                                   f"    Root location: {tmp_path}\n    Transform: ToTensor()")
    texts = datasets.DatasetFolder(tmp_path, loader=lambda p: open(p).read(), allow_empty=True,
                                   is_valid_file=lambda p: p.endswith(".txt"))
    assert texts[0] == ("not an image", 0)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        datasets.DatasetFolder(tmp_path, loader=open)
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(tmp_path / "empty")


# ---- the real Fashion-MNIST, where Debian's package is installed ---------------------------

@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION_MNIST),
                    reason="dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist():
    # The decompressed files are byte for byte Zalando's: these are the published MD5 sums of
    # the uncompressed IDX files. (Debian recompressed them, so the .gz sums differ.)
    published = {"train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                 "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
                 "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
                 "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965"}
    for name, md5 in published.items():
        with gzip.open(os.path.join(DEBIAN_FASHION_MNIST, name + ".gz")) as f:
            assert hashlib.md5(f.read()).hexdigest() == md5
    for train, count, first_image_md5 in ((True, 60000, "4faf81e309af5194c477affdbefc6116"),
                                          (False, 10000, "a7ccdc296871349e7823556f7ce4b918")):
        dataset = datasets.FashionMNIST(root=DEBIAN_FASHION_MNIST, train=train)
        assert len(dataset) == count and dataset.data.shape == (count, 28, 28)
        labels = dataset.targets.numpy()
        assert labels.min() == 0 and labels.max() == 9
        assert np.bincount(labels).tolist() == [count // 10] * 10
        assert hashlib.md5(dataset.data.numpy()[0].tobytes()).hexdigest() == first_image_md5
        assert dataset.classes[dataset[0][1]] == "Ankle boot"


def test_pil_images_stay_pil_images_with_pillows_pixels():
    """As torchvision's, each geometric transform returns a PIL image for a PIL image (a
    program's own transform after it may call PIL methods), with the pixels Pillow gives."""
    from PIL import Image, ImageOps
    pixels = np.random.default_rng(5).integers(0, 256, (9, 12, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    expected = [
        (transforms.CenterCrop(4), image.crop((4, 2, 8, 6))),
        (transforms.Pad(2), ImageOps.expand(image, 2)),
        (transforms.RandomHorizontalFlip(1.0), image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
        (transforms.RandomVerticalFlip(1.0), image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)),
        (transforms.Grayscale(), image.convert("L")),
        (transforms.Resize((5, 7)), image.resize((7, 5), Image.Resampling.BILINEAR)),
    ]
    for transform, pillows in expected:
        result = transform(image)
        assert isinstance(result, Image.Image) and result.mode == pillows.mode, transform
        np.testing.assert_array_equal(np.asarray(result), np.asarray(pillows))
    cropped = transforms.RandomCrop(6, padding=1)(image)
    assert isinstance(cropped, Image.Image) and cropped.size == (6, 6)
    assert isinstance(transforms.RandomHorizontalFlip(0.0)(image), Image.Image)


# ---- transforms.functional and the transforms built on it ---------------------------------

from ember.vision.transforms import functional as TF  # noqa: E402


@pytest.mark.parametrize("kind, adjust", [("Brightness", TF.adjust_brightness),
                                          ("Contrast", TF.adjust_contrast),
                                          ("Color", TF.adjust_saturation)])
@pytest.mark.parametrize("factor", [0.0, 0.3, 0.77, 1.0, 1.6, 2.9])
def test_colour_of_arrays_and_pil_images_is_pillows(kind, adjust, factor):
    """torchvision changes a PIL image with ImageEnhance; a uint8 array stands for one."""
    from PIL import Image, ImageEnhance
    rng = np.random.default_rng(7)
    for shape in ((7, 9, 3), (6, 5)):
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        image = Image.fromarray(pixels)
        expected = np.asarray(getattr(ImageEnhance, kind)(image).enhance(factor))
        np.testing.assert_array_equal(adjust(pixels, factor), expected)
        changed = adjust(image, factor)
        assert isinstance(changed, Image.Image)
        np.testing.assert_array_equal(np.asarray(changed), expected)


@pytest.mark.parametrize("hue_factor", [-0.5, -0.3, 0.0, 0.2, 0.5])
def test_hue_of_arrays_is_pillows(hue_factor):
    from PIL import Image
    pixels = np.random.default_rng(3).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    pixels[0, :4] = [[5, 5, 5], [0, 0, 0], [255, 255, 255], [255, 0, 0]]
    expected = np.asarray(TF.adjust_hue(Image.fromarray(pixels), hue_factor))
    np.testing.assert_array_equal(TF.adjust_hue(pixels, hue_factor), expected)


def test_pillows_hsv_is_reproduced_across_the_colour_cube():
    """Every third level of each channel (all 2^24 colours agree too: too slow for a test)."""
    from PIL import Image
    levels = np.arange(0, 256, 3)
    every = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1)
    every = every.reshape(len(levels), -1, 3).astype(np.uint8)
    np.testing.assert_array_equal(TF._pillow_rgb_to_hsv(every),
                                  np.asarray(Image.fromarray(every).convert("HSV")))
    bands = [Image.fromarray(np.ascontiguousarray(every[..., i])) for i in range(3)]
    np.testing.assert_array_equal(TF._pillow_hsv_to_rgb(every),
                                  np.asarray(Image.merge("HSV", bands).convert("RGB")))


@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_colour_of_tensors_as_torchvision_computes_it(dtype):
    """torchvision's tensor formulas, written with torch ops: blend with black, the mean gray
    or the gray image, computed in float and truncated back to an integer dtype."""
    rng = np.random.default_rng(5)
    floats = rng.random((2, 3, 4, 5)).astype(np.float32)
    values = floats if dtype == "float32" else (floats * 255).astype(np.uint8)
    top = 1.0 if dtype == "float32" else 255.0
    image, theirs = ember.tensor(values), torch.tensor(values)
    computed = theirs.float()

    def blend(other, factor):
        blended = (computed * factor + other * (1 - factor)).clamp(0, top)
        return blended.to(theirs.dtype).numpy()

    r, g, b = computed.unbind(-3)
    gray = (0.2989 * r + 0.587 * g + 0.114 * b).to(theirs.dtype).float().unsqueeze(-3)
    for factor in (0.0, 0.4, 1.0, 1.7):
        np.testing.assert_allclose(TF.adjust_brightness(image, factor).numpy(),
                                   blend(torch.zeros(()), factor), atol=1e-6)
        np.testing.assert_allclose(TF.adjust_saturation(image, factor).numpy(),
                                   blend(gray, factor), atol=1e-6)
        np.testing.assert_allclose(TF.adjust_contrast(image, factor).numpy(),
                                   blend(gray.mean((-3, -2, -1), keepdim=True), factor),
                                   atol=1e-6)


@pytest.mark.parametrize("hue_factor", [-0.5, -0.2, 0.1, 0.5])
def test_hue_of_tensors_is_the_hsv_turn(hue_factor):
    import colorsys
    values = np.random.default_rng(2).random((3, 4, 5))
    turned = TF.adjust_hue(ember.tensor(values), hue_factor).numpy()
    for i in range(4):
        for j in range(5):
            h, s, v = colorsys.rgb_to_hsv(*values[:, i, j])
            np.testing.assert_allclose(turned[:, i, j],
                                       colorsys.hsv_to_rgb((h + hue_factor) % 1.0, s, v),
                                       atol=1e-12)


def test_colour_arguments_are_checked():
    with pytest.raises(ValueError, match=r"brightness_factor \(-1\) is not non-negative"):
        TF.adjust_brightness(ember.zeros(3, 2, 2), -1)
    with pytest.raises(ValueError, match=r"hue_factor \(0.6\) is not in \[-0.5, 0.5\]"):
        TF.adjust_hue(ember.zeros(3, 2, 2), 0.6)
    gray = ember.rand(1, 2, 2)
    assert TF.adjust_hue(gray, 0.2) is gray and TF.adjust_saturation(gray, 0.5) is gray


def test_functional_geometry_matches_pillow_and_the_classes():
    from PIL import Image
    pixels = np.random.default_rng(4).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    # A region partly outside the image is zeros there, as Pillow's crop gives.
    for box in ((1, 2, 3, 4), (-1, 1, 3, 3), (2, 4, 6, 5)):
        top, left, height, width = box
        expected = np.asarray(image.crop((left, top, left + width, top + height)))
        np.testing.assert_array_equal(TF.crop(pixels, *box), expected)
        np.testing.assert_array_equal(np.asarray(TF.crop(image, *box)), expected)
        np.testing.assert_array_equal(
            TF.crop(ember.tensor(pixels).permute(2, 0, 1), *box).permute(1, 2, 0).numpy(),
            expected)
    np.testing.assert_array_equal(TF.hflip(pixels), pixels[:, ::-1])
    np.testing.assert_array_equal(np.asarray(TF.vflip(image)), pixels[::-1])
    np.testing.assert_array_equal(TF.resize(pixels, (3, 4)),
                                  transforms.Resize((3, 4))(pixels))
    np.testing.assert_array_equal(TF.center_crop(pixels, 3), transforms.CenterCrop(3)(pixels))
    assert TF.get_image_size(pixels) == [6, 5]


def test_to_pil_image_and_back():
    from PIL import Image
    floats = ember.rand(3, 4, 5)
    image = transforms.ToPILImage()(floats)
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (5, 4)
    np.testing.assert_array_equal(np.asarray(image),
                                  (floats.numpy() * 255).astype(np.uint8).transpose(1, 2, 0))
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert TF.to_pil_image(gray).mode == "L"
    np.testing.assert_array_equal(np.asarray(TF.to_pil_image(gray)), gray)
    assert TF.to_pil_image(ember.rand(1, 2, 2), mode="F").mode == "F"
    assert repr(transforms.ToPILImage()) == "ToPILImage()"
    with pytest.raises(ValueError, match="Incorrect mode"):
        TF.to_pil_image(gray, mode="RGB")
    with pytest.raises(ValueError, match="should not have > 4 channels"):
        TF.to_pil_image(ember.rand(5, 2, 2))


def test_random_resized_crop():
    crop = transforms.RandomResizedCrop(8)
    assert repr(crop) == ("RandomResizedCrop(size=(8, 8), scale=(0.08, 1.0), "
                          "ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)")
    image = ember.rand(3, 32, 40)
    assert crop(image).shape == (3, 8, 8)
    for _ in range(50):
        top, left, height, width = crop.get_params(image, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= top <= 32 - height and 0 <= left <= 40 - width
        # Rounding each side may push the drawn area and ratio a little out of their ranges.
        assert 0.07 * 32 * 40 <= height * width <= 32 * 40
        assert 0.7 <= width / height <= 1.4
    # No region of this area fits: the centre crop of the whole image within the ratio.
    assert crop.get_params(image, (2.0, 3.0), (1.0, 1.0)) == (0, 4, 32, 32)
    assert crop.get_params(ember.rand(3, 10, 10), (2.0, 3.0), (0.5, 2.0)) == (0, 0, 10, 10)
    # The same crop, drawn again after seeding, resized as resized_crop does.
    ember.manual_seed(3)
    params = crop.get_params(image, crop.scale, crop.ratio)
    ember.manual_seed(3)
    np.testing.assert_array_equal(crop(image).numpy(),
                                  TF.resized_crop(image, *params, [8, 8]).numpy())
    with pytest.warns(UserWarning, match=r"should be of kind \(min, max\)"):
        transforms.RandomResizedCrop(8, scale=(1.0, 0.5))


def test_color_jitter():
    assert repr(transforms.ColorJitter(0.5, (0.2, 0.9), 0, 0.1)) == (
        "ColorJitter(brightness=(0.5, 1.5), contrast=(0.2, 0.9), saturation=None, "
        "hue=(-0.1, 0.1))")
    assert transforms.ColorJitter(brightness=2).brightness == (0.0, 3.0)
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non "
                                         "negative"):
        transforms.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\)"):
        transforms.ColorJitter(hue=0.7)
    with pytest.raises(TypeError, match="contrast should be a single number or a list/tuple"):
        transforms.ColorJitter(contrast=(1, 2, 3))
    jitter = transforms.ColorJitter(brightness=0.5, saturation=0.5)
    image = ember.rand(3, 4, 4)
    ember.manual_seed(1)
    order, brightness, contrast, saturation, hue = jitter.get_params(
        jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue)
    assert contrast is None and hue is None and 0.5 <= brightness <= 1.5
    expected = image
    for index in order.tolist():
        if index == 0:
            expected = TF.adjust_brightness(expected, brightness)
        elif index == 2:
            expected = TF.adjust_saturation(expected, saturation)
    ember.manual_seed(1)
    np.testing.assert_array_equal(jitter(image).numpy(), expected.numpy())


def test_random_apply_choice_and_order():
    flip = transforms.RandomHorizontalFlip(1.0)
    image = ember.tensor([[[1, 2, 3]]])
    assert transforms.RandomApply([flip], p=1.0)(image).tolist() == [[[3, 2, 1]]]
    assert transforms.RandomApply([flip], p=0.0)(image) is image
    assert repr(transforms.RandomApply([flip], p=0.3)) == (
        "RandomApply(\n    p=0.3\n    RandomHorizontalFlip(p=1.0)\n)")
    assert repr(transforms.RandomOrder([flip])) == (
        "RandomOrder(\n    RandomHorizontalFlip(p=1.0)\n)")
    assert repr(transforms.RandomChoice([flip], p=[1.0])) == (
        "RandomChoice(transforms=[RandomHorizontalFlip(p=1.0)], p=[1.0])")
    pad, crop = transforms.Pad(1), transforms.CenterCrop(1)
    choice = transforms.RandomChoice([pad, crop], p=[0.0, 1.0])
    assert choice(ember.zeros(1, 3, 3)).shape == (1, 1, 1)
    # Pad then crop, or crop then pad: both orders happen.
    shapes = {tuple(transforms.RandomOrder([pad, crop])(ember.zeros(1, 3, 3)).shape)
              for _ in range(40)}
    assert shapes == {(1, 1, 1), (1, 3, 3)}
    with pytest.raises(TypeError, match="Argument transforms should be a sequence"):
        transforms.RandomOrder(flip)
    with pytest.raises(TypeError, match="Argument p should be a sequence"):
        transforms.RandomChoice([flip], p=1.0)
