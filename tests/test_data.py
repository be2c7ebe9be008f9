"""Data loaders: the bundled digits and CIFAR-10 python batches (written here, tiny)."""

import pickle

import numpy as np
import pytest

from lrcourse.data import images as data


def test_digits_split_and_scaling():
    d = data.digits()
    assert d.x_train.shape == (1347, 1, 8, 8) and d.x_test.shape == (450, 1, 8, 8)
    assert d.x_train.dtype == np.uint8 and d.y_train.dtype == np.int64
    assert d.num_classes == 10 and d.image_shape == (1, 8, 8)
    assert d.x_train.max() == 16
    # stratified: every class has its share of the test set
    counts = np.bincount(d.y_test, minlength=10)
    assert counts.min() >= 43 and counts.max() <= 47
    scaled = d.scale(d.x_train)
    assert scaled.dtype == np.float32
    assert abs(scaled.mean()) < 1e-5 and scaled.std() == pytest.approx(1.0, rel=1e-5)
    assert "1347 train / 450 test" in repr(d)


def test_digits_is_fixed_and_read_only():
    a, b = data.digits(), data.digits()
    assert a is b
    from sklearn.datasets import load_digits
    images = load_digits().images
    # the split does not depend on any global seed: the first training image is always the same one
    np.random.seed(123)
    data.digits.cache_clear()
    c = data.digits()
    assert np.array_equal(c.x_train, a.x_train) and np.array_equal(c.y_test, a.y_test)
    assert any(np.array_equal(c.x_train[0, 0], img) for img in images)
    with pytest.raises(ValueError):
        c.x_train[0, 0, 0, 0] = 1


def test_take_keeps_the_scaling():
    d = data.digits()
    small = d.take(100, 20)
    assert small.x_train.shape[0] == 100 and small.y_test.shape == (20,)
    assert np.array_equal(small.mean, d.mean)


def test_load_by_name():
    assert data.load("digits") is data.digits()
    d = data.digits()
    assert data.load(d) is d
    with pytest.raises(ValueError, match="Invalid data: 'mnist'"):
        data.load("mnist")


# --------------------------------------------------------------------------- CIFAR-10

def write_batch(path, n, seed, protocol=2, overrides=None):
    rng = np.random.default_rng(seed)
    batch = {b"batch_label": b"testing", b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"labels": [int(v) for v in rng.integers(0, 10, n)], b"filenames": [b"x.png"] * n}
    batch.update(overrides or {})
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=protocol)
    return batch


@pytest.fixture
def cifar_dir(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batches = [write_batch(folder / name, 3, i) for i, name in enumerate(data.CIFAR10_FILES)]
    return folder, batches


def test_cifar10_loads_the_tiny_batches(cifar_dir, monkeypatch):
    folder, batches = cifar_dir
    monkeypatch.setenv("LRCOURSE_DATA", str(folder.parent))
    d = data.cifar10()
    assert d.x_train.shape == (15, 3, 32, 32) and d.x_test.shape == (3, 3, 32, 32)
    assert d.x_train.dtype == np.uint8
    assert list(d.y_train) == sum((b[b"labels"] for b in batches[:5]), [])
    assert list(d.y_test) == batches[5][b"labels"]
    # row layout: 1024 red, 1024 green, 1024 blue values, each 32 rows of 32
    raw = batches[1][b"data"][2]
    assert d.x_train[5, 1, 3, 7] == raw[1024 + 3 * 32 + 7]
    assert d.x_train[5, 2, 31, 0] == raw[2048 + 31 * 32]
    assert d.classes[0] == "airplane" and d.num_classes == 10
    everything = np.concatenate([b[b"data"] for b in batches[:5]]).reshape(-1, 3, 1024)
    assert np.allclose(d.mean, everything.mean(axis=(0, 2)), rtol=1e-6)
    assert np.allclose(d.std, everything.std(axis=(0, 2)), rtol=1e-5)
    assert data.cifar10(folder).y_test.tolist() == d.y_test.tolist()    # an explicit root


@pytest.mark.parametrize("protocol", [0, 4, 5])
def test_cifar10_batch_any_pickle_protocol(tmp_path, protocol):
    batch = write_batch(tmp_path / "b", 2, 0, protocol=protocol)
    x, y = data.read_cifar10_batch(tmp_path / "b")
    assert x.shape == (2, 3, 32, 32) and list(y) == batch[b"labels"]


def test_cifar10_batch_written_by_numpy_1(tmp_path):
    """The real files name numpy.core.multiarray (numpy 1); numpy 2 calls it numpy._core."""
    write_batch(tmp_path / "b", 2, 0)
    raw = (tmp_path / "b").read_bytes()
    assert b"numpy._core.multiarray" in raw
    (tmp_path / "b").write_bytes(raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    x, _ = data.read_cifar10_batch(tmp_path / "b")
    assert x.shape == (2, 3, 32, 32)


def test_missing_variable(monkeypatch):
    monkeypatch.delenv("LRCOURSE_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="LRCOURSE_DATA.*data_batch_1.*test_batch"):
        data.cifar10()


def test_missing_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("LRCOURSE_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        data.cifar10()
    message = str(err.value)
    assert "cifar-10-batches-py" in message and "does not exist" in message
    assert "data_batch_5" in message and "LRCOURSE_DATA" in message


def test_missing_file(cifar_dir):
    folder, _ = cifar_dir
    (folder / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="missing.*: data_batch_3;.*LRCOURSE_DATA"):
        data.cifar10(folder)


@pytest.mark.parametrize("content", [b"", b"not a pickle at all", b"\x80\x02}q\x00(U\x04data"])
def test_damaged_pickle(cifar_dir, content):
    folder, _ = cifar_dir
    (folder / "test_batch").write_bytes(content)
    with pytest.raises(ValueError, match="Damaged CIFAR-10 batch .*test_batch.*LRCOURSE_DATA"):
        data.cifar10(folder)


@pytest.mark.parametrize("overrides, what", [
    ({b"data": np.zeros((3, 100), np.uint8)}, "N×3072 uint8"),
    ({b"data": np.zeros((3, 3072), np.float32)}, "N×3072 uint8"),
    ({b"labels": [0, 1]}, "3 integers in 0…9"),
    ({b"labels": [0, 1, 10]}, "3 integers in 0…9"),
])
def test_wrong_content(tmp_path, overrides, what):
    write_batch(tmp_path / "b", 3, 0, overrides=overrides)
    with pytest.raises(ValueError, match=what):
        data.read_cifar10_batch(tmp_path / "b")


def test_not_a_dict(tmp_path):
    (tmp_path / "b").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ValueError, match="expected a dict with keys b'data' and b'labels'"):
        data.read_cifar10_batch(tmp_path / "b")


class Exploit:
    def __reduce__(self):
        return (open, ("/tmp/lrcourse-pickle-exploit", "w"))


def test_a_hostile_pickle_runs_nothing(tmp_path):
    import os
    (tmp_path / "b").write_bytes(pickle.dumps({b"data": Exploit(), b"labels": []}))
    with pytest.raises(ValueError, match="unexpected object"):
        data.read_cifar10_batch(tmp_path / "b")
    assert not os.path.exists("/tmp/lrcourse-pickle-exploit")
