"""MNIST and Fashion-MNIST, read from their IDX files (gzip-compressed or plain); CIFAR-10 and
CIFAR-100, read from their Python pickles; ImageFolder, images in class folders.

Where the files are looked for, when ``root`` is None, in this order:

1. ``$EMBER_DATA``, if set;
2. the user's cache folder, ``$XDG_CACHE_HOME/ember/datasets`` (``~/.cache/ember/datasets``);
3. for Fashion-MNIST, ``/usr/share/datasets/fashion-mnist``, where Debian's package
   ``dataset-fashion-mnist`` installs it.

In each folder the files may sit directly, or in ``<ClassName>/raw/`` below it (torchvision's
layout, and where ``download=True`` puts them). A ``.gz`` file in ``<ClassName>/raw/`` is a
download (ember's or torchvision's), so its MD5 sum is checked before it is read; files
elsewhere, such as the system package's (which recompresses them), are checked only for being
well-formed IDX.

An item is ``(image, label)``: the image a uint8 ember tensor H x W (28 x 28) that the
transforms in ``ember.vision.transforms`` accept, the label an int.
"""

import codecs
import gzip
import hashlib
import http.client
import os
import pickle
import struct
import tarfile
import tempfile
import time
import urllib.request
import zlib

import numpy as np

from .._tensor import Tensor
from ..utils.data import Dataset
from .transforms import batch_transform

# The IDX format: a magic number 0x0000TTDD (TT the element type, DD the number of dimensions),
# DD big-endian uint32 sizes, then the elements, big-endian, in C order.
_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
IMAGES_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 2049  # 0x00000801: uint8, 1 dimension (count)
# NumPy's function that unpickles an array, whichever module (numpy.core or numpy._core) it is in.
_NUMPY_RECONSTRUCT = np.zeros(0).__reduce__()[0]

# The longest the download of one file from one mirror may take, in seconds, from the request to
# the last byte. Without it a server sending a byte now and then would hold the download forever:
# the socket's timeout applies to each read alone. 10 minutes is 44 KB/s for the largest file.
DOWNLOAD_DEADLINE = 600.0
# The longest one read may wait for the server's next bytes.
READ_TIMEOUT = 60.0


def read_idx(path: str, expected_magic: "int | None" = None) -> np.ndarray:
    """The array stored in an IDX file, gzip-compressed or not (told apart by content).

    Args:
        path: the file.
        expected_magic: when given, the magic number the file must have (2051 for MNIST images,
            2049 for labels).

    Raises:
        RuntimeError: naming the file, when it cannot be decompressed, is not IDX, has an
            unexpected magic number, or holds more or fewer bytes than its header announces.

    Example:
        >>> import gzip, os, tempfile
        >>> from ember.vision.datasets import read_idx
        >>> path = os.path.join(tempfile.mkdtemp(), "labels.gz")
        >>> with gzip.open(path, "wb") as f:
        ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
        >>> read_idx(path, expected_magic=2049).tolist()
        [7, 2, 1]
    """
    raw = _read_maybe_gzip(path)
    if len(raw) < 4:
        raise RuntimeError(f"{path}: not an IDX file: only {len(raw)} bytes, too short for the "
                           f"magic number")
    magic = struct.unpack(">I", raw[:4])[0]
    type_code, ndim = raw[2], raw[3]
    if raw[:2] != b"\0\0" or type_code not in _IDX_TYPES:
        raise RuntimeError(f"{path}: not an IDX file (magic number {magic:#010x})")
    if expected_magic is not None and magic != expected_magic:
        raise RuntimeError(f"{path}: magic number {magic}, expected {expected_magic}")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise RuntimeError(f"{path}: truncated header: {ndim} dimensions need {header_size} "
                           f"bytes, the file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(shape)) * dtype.itemsize
    found = len(raw) - header_size
    if found != expected:
        problem = "truncated" if found < expected else "corrupt"
        raise RuntimeError(f"{path}: {problem}: the header announces shape {shape} "
                           f"({expected} bytes of data) but the file holds {found} bytes")
    array = np.frombuffer(raw, dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def _read_maybe_gzip(path: str) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise RuntimeError(f"{path}: corrupt or truncated gzip file: {error}") from error


def _cache_root() -> str:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "ember", "datasets")


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28 x 28, 10 classes.

    Args:
        root: the folder with the files (directly or in ``MNIST/raw/``); when None, the
            folders listed in this module's docstring are searched.
        train: the training split; otherwise the test split.
        transform: applied to each image, e.g. ``ToTensor()``. An image is a uint8 NumPy
            array H x W, standing for the PIL image (mode "L") torchvision gives, so that
            transforms treat it as one (``Resize`` as Pillow, ``Grayscale(3)`` to H x W x 3).
        target_transform: applied to each label (an int).
        download: fetch the files from ``mirrors`` when they are not found, checking their
            MD5 sums, into ``root/MNIST/raw`` (``root`` defaulting to ``$EMBER_DATA`` or the
            cache folder); fetch a downloaded file again when its MD5 sum is wrong (without
            ``download``, a wrong sum is an error).
        download_deadline: the most seconds the download of one file from one mirror may take
            before it is abandoned (``DOWNLOAD_DEADLINE``, 10 minutes, by default).

    Attributes:
        data: all images of the split, a uint8 tensor N x 28 x 28.
        targets: all labels, an int64 tensor N.
        classes: the class names, indexed by label.

    Example:
        >>> from ember.vision.datasets import FashionMNIST
        >>> from ember.vision import transforms
        >>> test = FashionMNIST(train=False, transform=transforms.ToTensor())  # doctest: +SKIP
        >>> image, label = test[0]  # doctest: +SKIP
        >>> image.shape, test.classes[label]  # doctest: +SKIP
        (ember.Size([1, 28, 28]), 'Ankle boot')
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    # Folders a system package installs the files into, searched last when root is None.
    system_folders: "list[str]" = []
    system_package: "str | None" = None  # the Debian package that installs them

    def __init__(self, root: "str | None" = None, train: bool = True, transform=None,
                 target_transform=None, download: bool = False, *,
                 download_deadline: float = DOWNLOAD_DEADLINE) -> None:
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.download_deadline = download_deadline
        roots = [os.path.expanduser(root)] if root is not None else self._default_roots()
        found = self._find(roots)
        if found is None and download:
            self.root = roots[0]
            self.download()
            found = self._find([self.root])
        if found is None:
            raise RuntimeError(self._not_found_message(roots, root_given=root is not None))
        self.root, images_path, labels_path = found
        checksums = dict(self.resources)
        for path in (images_path, labels_path):
            name = os.path.basename(path)
            if os.path.dirname(path) == self.raw_folder and name in checksums:
                self._check_or_fetch(path, checksums[name], fetch=download)
        images = read_idx(images_path, IMAGES_MAGIC)
        labels = read_idx(labels_path, LABELS_MAGIC)
        if len(images) != len(labels):
            raise RuntimeError(f"{images_path} holds {len(images)} images but {labels_path} "
                               f"holds {len(labels)} labels")
        self.data = Tensor._wrap(images)
        self.targets = Tensor._wrap(labels.astype(np.int64))

    # ---- finding and fetching the files ------------------------------------------------------

    @property
    def _split_files(self) -> "tuple[str, str]":
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    @classmethod
    def _default_roots(cls) -> "list[str]":
        roots = [os.environ["EMBER_DATA"]] if os.environ.get("EMBER_DATA") else []
        return roots + [_cache_root()] + list(cls.system_folders)

    def _find(self, roots: "list[str]"):
        """``(root, images path, labels path)`` for the first folder holding both, or None."""
        for root in roots:
            for folder in (os.path.join(root, type(self).__name__, "raw"), root):
                paths = [self._existing(folder, name) for name in self._split_files]
                if None not in paths:
                    return (root, *paths)
        return None

    @staticmethod
    def _existing(folder: str, name: str) -> "str | None":
        """The file ``name`` or ``name.gz`` in ``folder``, whichever exists (plain first)."""
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return path
        return None

    @property
    def raw_folder(self) -> str:
        """``root/<ClassName>/raw``: where ``download`` puts the files."""
        return os.path.join(self.root, type(self).__name__, "raw")

    def download(self) -> None:
        """Fetch the files in ``resources`` that ``raw_folder`` lacks or holds damaged (a wrong
        MD5 sum), checking the MD5 sums of what arrives."""
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            self._check_or_fetch(os.path.join(self.raw_folder, filename), md5, fetch=True)

    def _check_or_fetch(self, path: str, md5: str, fetch: bool) -> None:
        """Make sure the downloaded file ``path`` is present with MD5 sum ``md5``.

        A missing or damaged file is fetched (again) when ``fetch`` is true; otherwise a damaged
        one raises RuntimeError naming it.
        """
        if os.path.isfile(path):
            found = _md5(path)
            if found == md5:
                return
            problem = f"{path} is damaged: its MD5 sum is {found}, expected {md5}"
            if not fetch:
                raise RuntimeError(f"{problem}. Delete it, or pass download=True (on the "
                                   f"command line: ember download) to fetch it again.")
            print(f"{problem}; downloading it again")
        _download(os.path.basename(path), md5, self.mirrors, path, self.download_deadline)

    def _not_found_message(self, roots: "list[str]", root_given: bool = False) -> str:
        name = type(self).__name__
        files = ", ".join(f"{base}.gz" for base in self._split_files)
        ways = []
        if self.system_package is not None:
            # The system folder is searched only when no root is given.
            caveat = " and leave root unset" if root_given else ""
            ways.append(f"install it system-wide: sudo apt-get install {self.system_package}"
                        f"{caveat}")
        ways.append(f"put the files ({files}) in a folder, directly or in {name}/raw/, and "
                    f"pass root=<folder> or set the environment variable EMBER_DATA=<folder>")
        ways.append(f"pass download=True to fetch them from {self.mirrors[0]}")
        numbered = "\n".join(f"  {i}. {way}" for i, way in enumerate(ways, start=1))
        return (f"{name} dataset not found (looked in: {', '.join(roots)}). "
                f"Get it one of these ways:\n{numbered}")

    # ---- the dataset ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        # An array, as CIFAR10's: it stands for torchvision's PIL image. A copy: transforms
        # may write to it.
        image = self.data._data[index].copy()
        target = int(self.targets._data[index])
        return _transformed(self, image, target)

    def _get_batch(self, indices):
        """The DataLoader's fast path: a batch in one fancy index and one batched transform."""
        transform = batch_transform(self.transform)
        if transform is None or self.target_transform is not None:
            return None
        rows = np.asarray(indices, dtype=np.int64)
        return [transform(Tensor._wrap(self.data._data[rows])),
                Tensor._wrap(self.targets._data[rows])]

    @property
    def class_to_idx(self) -> "dict[str, int]":
        return {name: i for i, name in enumerate(self.classes)}

    def __repr__(self) -> str:
        return _dataset_repr(self, [f"Split: {'Train' if self.train else 'Test'}"])


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 60,000 training and 10,000 test images of clothing, 28 x 28,
    10 classes. The same format and arguments as :class:`MNIST`.

    Debian and Ubuntu package it: ``sudo apt-get install dataset-fashion-mnist`` puts the files
    where this class finds them without ``root``.

    Example:
        >>> from ember.vision.datasets import FashionMNIST
        >>> FashionMNIST.classes[9]
        'Ankle boot'
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/"
               "fashion/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    system_folders = ["/usr/share/datasets/fashion-mnist"]
    system_package = "dataset-fashion-mnist"


class CIFAR10(Dataset):
    """CIFAR-10: 50,000 training and 10,000 test color images, 32 x 32, 10 classes.

    Read from the Python version of the dataset (``cifar-10-python.tar.gz``): the folder
    ``cifar-10-batches-py`` with the batches ``data_batch_1`` … ``data_batch_5``,
    ``test_batch`` and ``batches.meta``, each a pickle checked against its MD5 sum before it is
    read. The pickles are read with an unpickler that rebuilds dicts, lists, strings, numbers
    and NumPy arrays only, so even a file that isn't CIFAR's can't run code.

    Args:
        root: the folder that holds ``cifar-10-batches-py`` (or gets it, with ``download``);
            when None, ``$EMBER_DATA`` or the cache folder (see the module docstring).
        train: the training split; otherwise the test split.
        transform: applied to each image, a uint8 NumPy array H x W x C (32 x 32 x 3), which
            ember's transforms read as torchvision's read the PIL image it gives, e.g.
            ``Compose([RandomCrop(32, padding=4), ToTensor()])``.
        target_transform: applied to each label (an int).
        download: fetch ``cifar-10-python.tar.gz`` into ``root`` when the batches are missing
            or damaged, check its MD5 sum, and unpack it there.
        download_deadline: the most seconds the download may take before it is abandoned.

    Attributes:
        data: all images of the split, a uint8 NumPy array N x 32 x 32 x 3, as torchvision's.
        targets: all labels, a list of ints (as torchvision's).
        classes: the class names, indexed by label, from ``batches.meta``.

    Raises:
        RuntimeError: the batches are missing or damaged (and ``download`` is false).

    Example:
        >>> from ember.vision.datasets import CIFAR10
        >>> from ember.vision import transforms
        >>> train = CIFAR10(root="data", download=True,
        ...                 transform=transforms.ToTensor())  # doctest: +SKIP
        >>> train[0][0].shape, train.classes[train[0][1]]  # doctest: +SKIP
        (ember.Size([3, 32, 32]), 'frog')
    """

    base_folder = "cifar-10-batches-py"
    mirrors = ["https://www.cs.toronto.edu/~kriz/"]
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names",
            "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root: "str | None" = None, train: bool = True, transform=None,
                 target_transform=None, download: bool = False, *,
                 download_deadline: float = DOWNLOAD_DEADLINE) -> None:
        self.root = os.path.expanduser(root) if root is not None else MNIST._default_roots()[0]
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.download_deadline = download_deadline
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError(f"Dataset not found or corrupted in {self.root}. You can use "
                               "download=True to download it")
        images, labels = [], []
        for name, _ in self.train_list if train else self.test_list:
            entry = _load_pickle(os.path.join(self.root, self.base_folder, name))
            images.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            labels.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
        # Stored channel by channel (N x 3 x 32 x 32); images are H x W x C, as torchvision's.
        self.data = np.ascontiguousarray(np.vstack(images).transpose(0, 2, 3, 1))
        self.targets = [int(label) for label in labels]
        meta = _load_pickle(os.path.join(self.root, self.base_folder, self.meta["filename"]))
        self.classes = list(meta[self.meta["key"]])
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _check_integrity(self) -> bool:
        """Whether every batch and the meta file are present with their MD5 sums."""
        files = [*self.train_list, *self.test_list, (self.meta["filename"], self.meta["md5"])]
        for name, md5 in files:
            path = os.path.join(self.root, self.base_folder, name)
            if not os.path.isfile(path) or _md5(path) != md5:
                return False
        return True

    def download(self) -> None:
        """Fetch and unpack the archive, unless the batches are present and intact."""
        if self._check_integrity():
            print("Files already downloaded and verified")
            return
        os.makedirs(self.root, exist_ok=True)
        archive = os.path.join(self.root, self.filename)
        if not (os.path.isfile(archive) and _md5(archive) == self.tgz_md5):
            _download(self.filename, self.tgz_md5, self.mirrors, archive,
                      self.download_deadline)
        print(f"Extracting {archive} to {self.root}")
        with tarfile.open(archive, "r:gz") as tar:
            # The "data" filter refuses members that would land outside root (absolute paths,
            # "..", links out of it) and special files.
            tar.extractall(self.root, filter="data")

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        # An array, not a tensor: a tensor's last dimensions are read as H x W, an array's as
        # H x W x C, as a PIL image's. A copy: transforms may write to it.
        image = self.data[index].copy()
        target = self.targets[index]
        return _transformed(self, image, target)

    def _get_batch(self, indices):
        """The DataLoader's fast path: a batch in one fancy index and one batched transform."""
        transform = batch_transform(self.transform)
        if transform is None or self.target_transform is not None:
            return None
        rows = np.asarray(indices, dtype=np.int64)
        return [transform(Tensor._wrap(self.data[rows])),
                Tensor._wrap(np.asarray(self.targets, dtype=np.int64)[rows])]

    __repr__ = MNIST.__repr__  # torchvision prints every dataset this way


class CIFAR100(CIFAR10):
    """CIFAR-100: as CIFAR-10, with 100 classes (the "fine" labels), 500 training and 100
    test images each; one training and one test batch in ``cifar-100-python``.

    Example:
        >>> from ember.vision.datasets import CIFAR100
        >>> CIFAR100.meta["key"]
        'fine_label_names'
    """

    base_folder = "cifar-100-python"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names",
            "md5": "7973b15100ade9c7d40fb424638fde48"}


IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def default_loader(path: str):
    """An image file as an RGB PIL image (ember's transforms read PIL images as arrays).

    Raises:
        ImportError: Pillow is not installed: ember decodes no image formats itself.
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"reading {path} needs Pillow (pip install pillow): ember decodes "
                          "no image formats itself") from None
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


class DatasetFolder(Dataset):
    """Samples in class folders: ``root/<class>/**/<file>``, labelled by the class folder's
    position in sorted order, as in torchvision.

    Args:
        root: the folder of class folders.
        loader: reads a sample from its path.
        extensions: the file endings to take (case-insensitive); or give ``is_valid_file``.
        transform, target_transform: applied to each sample and each label.
        is_valid_file: says from a path whether to take the file.
        allow_empty: allow class folders without samples.

    Raises:
        FileNotFoundError: no class folders, or (without ``allow_empty``) a class without
            samples.
        ValueError: both or neither of ``extensions`` and ``is_valid_file`` are given.

    Example:
        >>> import os, tempfile
        >>> from ember.vision.datasets import DatasetFolder
        >>> root = tempfile.mkdtemp()
        >>> for name in ("cat/a.txt", "dog/b.txt", "dog/c.txt"):
        ...     os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
        ...     _ = open(os.path.join(root, name), "w").write(name)
        >>> folder = DatasetFolder(root, loader=lambda path: open(path).read(),
        ...                        extensions=(".txt",))
        >>> folder.classes, folder.targets, folder[2]
        (['cat', 'dog'], [0, 1, 1], ('dog/c.txt', 1))
    """

    def __init__(self, root: str, loader, extensions=None, transform=None,
                 target_transform=None, is_valid_file=None, allow_empty: bool = False) -> None:
        self.root = os.path.expanduser(os.fspath(root))
        self.transform = transform
        self.target_transform = target_transform
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, self.class_to_idx, extensions,
                                         is_valid_file, allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.targets = [target for _, target in self.samples]

    @staticmethod
    def find_classes(directory: str) -> tuple:
        """(sorted class folder names, {name: index})."""
        classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
        if not classes:
            raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
        return classes, {name: i for i, name in enumerate(classes)}

    @staticmethod
    def make_dataset(directory: str, class_to_idx: dict, extensions=None, is_valid_file=None,
                     allow_empty: bool = False) -> list:
        """[(path, class index)], class by class, each folder walked in sorted order."""
        if (extensions is None) == (is_valid_file is None):
            raise ValueError("Both extensions and is_valid_file cannot be None or not None at "
                             "the same time")
        if is_valid_file is None:
            def is_valid_file(path: str) -> bool:
                return path.lower().endswith(tuple(extensions) if not isinstance(extensions, str)
                                             else extensions)
        samples, empty = [], set(class_to_idx)
        for name in sorted(class_to_idx):
            for folder, _, files in sorted(os.walk(os.path.join(directory, name),
                                                   followlinks=True)):
                for file in sorted(files):
                    path = os.path.join(folder, file)
                    if is_valid_file(path):
                        samples.append((path, class_to_idx[name]))
                        empty.discard(name)
        if empty and not allow_empty:
            message = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
            if extensions is not None:
                listed = extensions if isinstance(extensions, str) else ", ".join(extensions)
                message += f"Supported extensions are: {listed}"
            raise FileNotFoundError(message)
        return samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        sample = self.loader(path)
        return _transformed(self, sample, target)

    def __repr__(self) -> str:
        return _dataset_repr(self, [])


class ImageFolder(DatasetFolder):
    """Images in class folders (``root/cat/1.png``, ``root/dog/2.jpg``), read with Pillow as RGB
    images; ``ToTensor()`` makes them float tensors 3 x H x W.

    Args:
        root: the folder of class folders.
        transform, target_transform: applied to each image and each label.
        loader: reads an image from its path (``default_loader``: Pillow, RGB).
        is_valid_file: says from a path whether to take the file (default: the extensions in
            ``IMG_EXTENSIONS``).
        allow_empty: allow class folders without images.

    Example:
        >>> from ember.vision import datasets, transforms
        >>> images = datasets.ImageFolder("photos",
        ...                               transform=transforms.ToTensor())  # doctest: +SKIP
    """

    def __init__(self, root: str, transform=None, target_transform=None, loader=default_loader,
                 is_valid_file=None, allow_empty: bool = False) -> None:
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples


class _BatchUnpickler(pickle.Unpickler):
    """Reads CIFAR's batches: dicts, lists, strings, bytes, numbers and NumPy arrays, and
    refuses any other global, so a file that is not what it claims can't run code."""

    _allowed = {
        ("numpy.core.multiarray", "_reconstruct"): _NUMPY_RECONSTRUCT,
        ("numpy._core.multiarray", "_reconstruct"): _NUMPY_RECONSTRUCT,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,  # how protocol 2 writes Python 3's bytes
    }

    def find_class(self, module: str, name: str):
        found = self._allowed.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"a CIFAR batch holds arrays, lists and strings; "
                                         f"this file names {module}.{name}")
        return found


def _load_pickle(path: str) -> dict:
    """A CIFAR batch or meta file: a dict whose keys, written by Python 2, read as str."""
    with open(path, "rb") as f:
        entry = _BatchUnpickler(f, encoding="latin1").load()
    if not isinstance(entry, dict):
        raise RuntimeError(f"{path} holds a {type(entry).__name__}, not a CIFAR batch's dict")
    return entry


def _dataset_repr(dataset, extra_lines: "list[str]") -> str:
    """How torchvision prints a dataset: its name, size, root, ``extra_lines``, transforms."""
    lines = [f"Dataset {type(dataset).__name__}",
             f"    Number of datapoints: {len(dataset)}",
             f"    Root location: {dataset.root}"]
    lines += [f"    {line}" for line in extra_lines]
    for label, transform in (("Transform", dataset.transform),
                             ("Target transform", dataset.target_transform)):
        if transform is not None:
            text = repr(transform).replace("\n", "\n" + " " * (6 + len(label)))
            lines.append(f"    {label}: {text}")
    return "\n".join(lines)


def _transformed(dataset, sample, target) -> tuple:
    """An item of ``dataset``: ``(sample, target)`` through its transform and target transform,
    each where it has one."""
    if dataset.transform is not None:
        sample = dataset.transform(sample)
    if dataset.target_transform is not None:
        target = dataset.target_transform(target)
    return sample, target


def _md5(path: str) -> str:
    """The MD5 sum of the file at ``path``, as hex digits."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _download(filename: str, md5: str, mirrors: "list[str]", target: str,
              deadline: float = DOWNLOAD_DEADLINE) -> None:
    """Fetch ``filename`` from the first mirror that serves it with the right MD5 sum within
    ``deadline`` seconds.

    The file is written to a temporary name beside ``target`` and renamed into place only once
    its checksum matches, so an interrupted or corrupt download never looks like a good file.
    """
    failures = []
    for mirror in mirrors:
        url = mirror + filename
        print(f"Downloading {url} to {target}")
        try:
            _fetch_checked(url, md5, target, deadline)
            return
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures.append(f"{url}: {error}")
    raise RuntimeError(f"could not download {filename}:\n  " + "\n  ".join(failures))


def _fetch_checked(url: str, md5: str, target: str, deadline: float) -> None:
    folder, name = os.path.split(target)
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    give_up_at = time.monotonic() + deadline
    try:
        digest = hashlib.md5(usedforsecurity=False)
        # A read waits at most READ_TIMEOUT (or the whole deadline, if shorter) for the server;
        # read1 returns whatever has arrived, so the deadline is checked between small reads.
        with os.fdopen(handle, "wb") as out, \
                urllib.request.urlopen(url, timeout=min(READ_TIMEOUT, deadline)) as response:
            while chunk := response.read1(1 << 20):
                if time.monotonic() > give_up_at:
                    raise TimeoutError(f"not finished within the deadline of {deadline:g} "
                                       f"seconds")
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != md5:
            raise ValueError(f"MD5 checksum mismatch: expected {md5}, got {digest.hexdigest()}")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
