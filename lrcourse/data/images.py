"""Image data for the CNN case study: scikit-learn's digits (always there) and CIFAR-10.

Nothing is downloaded. The default, :func:`digits`, is the 8×8 grey handwritten
digits that ship with scikit-learn (1,797 images, 10 classes), split once into a
fixed stratified train/test split. :func:`cifar10` reads the standard *python*
batches of CIFAR-10 when you have them in ``$LRCOURSE_DATA/cifar-10-batches-py``::

    $LRCOURSE_DATA/cifar-10-batches-py/
        data_batch_1 … data_batch_5     50,000 training images
        test_batch                      10,000 test images

Both return a :class:`Dataset`: raw pixels (``uint8``, N×C×H×W) and labels, plus
the per-channel mean and standard deviation of the *training* pixels, so that

    x_scaled = (x − mean) / std          (per channel; see :meth:`Dataset.scale`)

has mean 0 and variance 1 on the training set. Keeping the pixels as ``uint8``
keeps CIFAR-10 at 180 MB in memory instead of 740 MB of floats.
"""

from __future__ import annotations

import functools
import os
import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np

from lrcourse import _checks

DATA_ENV = "LRCOURSE_DATA"
CIFAR10_DIRNAME = "cifar-10-batches-py"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
CIFAR10_FILES = CIFAR10_TRAIN_FILES + (CIFAR10_TEST_FILE,)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")


class Dataset(NamedTuple):
    """An image classification data set with a fixed train/test split.

    ``x_*`` are raw ``uint8`` pixels of shape (N, C, H, W), ``y_*`` are ``int64``
    labels in ``0 … len(classes)-1``; ``mean`` and ``std`` (shape (C,)) are the
    per-channel statistics of the raw training pixels.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    classes: tuple

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple:
        """(C, H, W) of one image."""
        return tuple(self.x_train.shape[1:])

    def scale(self, x) -> np.ndarray:
        """``(x − mean) / std`` per channel, as float32."""
        x = np.asarray(x, dtype=np.float32)
        return (x - self.mean[:, None, None]) / self.std[:, None, None]

    def take(self, n_train: int | None = None, n_test: int | None = None) -> "Dataset":
        """The first ``n_train`` training and ``n_test`` test images (for quick tests).

        The scaling statistics stay those of the full training set.
        """
        return self._replace(
            name=f"{self.name}[:{n_train},:{n_test}]",
            x_train=self.x_train[:n_train], y_train=self.y_train[:n_train],
            x_test=self.x_test[:n_test], y_test=self.y_test[:n_test],
        )

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        return (f"Dataset({self.name!r}: {len(self.y_train)} train / {len(self.y_test)} test "
                f"images of {c}×{h}×{w}, {self.num_classes} classes)")


def _channel_stats(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of uint8 pixels, from a histogram (exact, and no float copy)."""
    values = np.arange(256, dtype=np.float64)
    mean, std = [], []
    for channel in range(x_train.shape[1]):
        counts = np.bincount(x_train[:, channel].ravel(), minlength=256)
        p = counts / counts.sum()
        m = (p * values).sum()
        mean.append(m)
        std.append(np.sqrt((p * (values - m) ** 2).sum()) or 1.0)   # a constant channel: leave it unscaled
    return np.array(mean, dtype=np.float32), np.array(std, dtype=np.float32)


@functools.lru_cache(maxsize=None)
def digits(test_size: float = 0.25, random_state: int = 0) -> Dataset:
    """scikit-learn's handwritten digits: 8×8 grey images, pixel values 0…16, 10 classes.

    A fixed stratified split (``train_test_split(..., stratify=y, random_state=0)``):
    1,347 training and 450 test images with the default ``test_size=0.25``.
    The result is cached, and read-only: copy it before changing it.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = bunch.images.astype(np.uint8)[:, None, :, :]          # values 0…16 fit in uint8
    y = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=random_state)
    mean, std = _channel_stats(x_train)
    arrays = (x_train, y_train, x_test, y_test, mean, std)
    for a in arrays:
        a.flags.writeable = False                               # shared by every caller of the cache
    return Dataset("digits", *arrays, classes=tuple(str(d) for d in range(10)))


# --------------------------------------------------------------------------- CIFAR-10

class _BatchUnpickler(pickle.Unpickler):
    """Unpickles only what a CIFAR-10 batch holds: dicts, lists, bytes, numpy arrays.

    A pickle can run arbitrary code when loaded; refusing every other global
    keeps a damaged or hostile file from doing more than raising an error.
    """

    _ALLOWED = {
        ("_codecs", "encode"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name}")
        module = module.replace("numpy.core.", "numpy._core.")   # numpy 1 pickles, numpy 2 names
        return super().find_class(module, name)


def _expected_layout(directory: Path) -> str:
    return (f"expected the CIFAR-10 python batches {', '.join(CIFAR10_FILES)} in {directory} "
            f"(set {DATA_ENV} to the folder that holds {CIFAR10_DIRNAME}/; "
            f"they come from cifar-10-python.tar.gz)")


def cifar10_dir(root=None) -> Path:
    """Where :func:`cifar10` looks: ``root`` if given, else ``$LRCOURSE_DATA/cifar-10-batches-py``."""
    if root is not None:
        return Path(root)
    base = os.environ.get(DATA_ENV)
    if not base:
        raise FileNotFoundError(
            f"CIFAR-10 not found: the environment variable {DATA_ENV} is not set; "
            + _expected_layout(Path(f"${DATA_ENV}") / CIFAR10_DIRNAME))
    return Path(base) / CIFAR10_DIRNAME


def read_cifar10_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch -> (images uint8 N×3×32×32, labels int64 N).

    The file is a pickled dict with ``b'data'`` (N×3072 uint8: 1024 red, then
    1024 green, then 1024 blue pixels of each 32×32 image, row by row) and
    ``b'labels'`` (N ints in 0…9).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR-10 batch {path} is missing; " + _expected_layout(path.parent))
    damaged = f"Damaged CIFAR-10 batch {path}"
    try:
        with open(path, "rb") as f:
            batch = _BatchUnpickler(f, encoding="bytes").load()
    except Exception as err:  # any unpickling failure means the file is not a batch
        raise ValueError(f"{damaged}: cannot unpickle it ({type(err).__name__}: {err}); "
                         f"{_expected_layout(path.parent)}") from err
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(f"{damaged}: expected a dict with keys b'data' and b'labels', got {keys}")
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{damaged}: b'data' should be an N×3072 uint8 array, "
                         f"got shape {data.shape} and dtype {data.dtype}")
    if labels.shape != (data.shape[0],) or labels.dtype.kind not in "iu" \
            or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise ValueError(f"{damaged}: b'labels' should be {data.shape[0]} integers in 0…9, "
                         f"got shape {labels.shape} and dtype {labels.dtype}")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def cifar10(root=None) -> Dataset:
    """CIFAR-10 from its python batches (60,000 colour 32×32 images, 10 classes).

    ``root`` is the ``cifar-10-batches-py`` folder itself; by default
    ``$LRCOURSE_DATA/cifar-10-batches-py``. A missing folder or file raises
    ``FileNotFoundError`` and a damaged file ``ValueError``, both naming the
    files expected and where.
    """
    directory = cifar10_dir(root)
    _checks.files(directory, CIFAR10_FILES, "CIFAR-10", _expected_layout(directory))
    train = [read_cifar10_batch(directory / name) for name in CIFAR10_TRAIN_FILES]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    x_test, y_test = read_cifar10_batch(directory / CIFAR10_TEST_FILE)
    mean, std = _channel_stats(x_train)
    return Dataset("cifar10", x_train, y_train, x_test, y_test, mean, std, CIFAR10_CLASSES)


DATASETS = {"digits": digits, "cifar10": cifar10}


def load(data="digits") -> Dataset:
    """A :class:`Dataset` by name (``"digits"`` or ``"cifar10"``), or ``data`` itself if it is one."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, str) and data.lower() in DATASETS:
        return DATASETS[data.lower()]()
    raise ValueError(f"Invalid data: {data!r} (expected one of {', '.join(map(repr, DATASETS))} or a Dataset)")
