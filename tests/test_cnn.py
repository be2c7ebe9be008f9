"""The CNN case study: book-scale defaults, divergence, repeatability, batched sweep, CLI."""

import math
import pickle

import numpy as np
import pytest
import torch

from lrcourse.data import images as data
from lrcourse.cases import cnn

SMALL = data.digits().take(256, 100)       # 8 steps of 32 per epoch
FAST = dict(data=SMALL, epochs=2)


def test_history_of_a_short_run():
    h = cnn.train(0.1, seed=0, **FAST)
    assert h.loss.shape == (16,) and h.lrs.shape == (16,)
    assert list(h.metric_steps) == [8, 16] and list(h.metric_epochs) == [1.0, 2.0]
    assert 0 <= h.final <= 1 and h.final == h.metric[-1]
    assert h.config["case"] == "cnn" and h.config["batch_size"] == 32 and h.config["channels"] == (16, 32)
    assert h.metric_name == "test accuracy"


def test_book_scale_default_reaches_95_percent():
    """The chapter's claim: 10 epochs of plain SGD on digits, a good α, ≥ 95 % test accuracy."""
    h = cnn.train(0.5, seed=0)
    assert h.steps == 10 * 42 and len(h.metric) == 10
    assert h.final >= 0.95, h


def test_huge_lr_diverges_and_is_reported():
    h = cnn.train(1e3, seed=0, **FAST)
    assert h.diverged and 0 < h.diverged_at < 16
    assert len(h.loss) == h.diverged_at + 1 and h.diverged_loss == h.loss[-1]
    assert not math.isfinite(h.diverged_loss) or h.diverged_loss > 10 * max(h.loss[0], math.log(10))
    assert h.final < 0.5             # it is evaluated where it stopped: no better than chance-ish


def test_same_seed_same_final_other_seed_differs():
    a = cnn.train(0.2, seed=4, **FAST)
    b = cnn.train(0.2, seed=4, **FAST)
    c = cnn.train(0.2, seed=5, **FAST)
    assert a.final == b.final and np.array_equal(a.loss, b.loss)
    assert not np.array_equal(a.loss, c.loss)


def test_schedule_is_applied():
    def schedule(k):
        return 0.3 * 0.5 ** (k // 8)

    h = cnn.train(schedule=schedule, seed=0, **FAST)
    assert np.array_equal(h.lrs, [schedule(k) for k in range(16)])


def test_other_optimizers():
    h = cnn.train(1e-3, seed=0, optimizer="adam", **FAST)
    assert h.config["optimizer"] == "adam" and not h.diverged
    m = cnn.train(0.05, seed=0, momentum=0.9, **FAST)
    assert m.config["optimizer_kwargs"] == {"momentum": 0.9}


def test_batched_sweep_equals_sequential_runs():
    lrs = (0.01, 0.1, 1e3)
    batched = cnn.sweep(lrs, seeds=(0, 1), **FAST)
    one_by_one = cnn.sweep(lrs, seeds=(0, 1), batched=False, **FAST)
    assert batched.batched and not one_by_one.batched
    for key, a in batched.histories.items():
        b = one_by_one.histories[key]
        assert a.diverged_at == b.diverged_at, key
        np.testing.assert_allclose(a.loss, b.loss, rtol=1e-5, err_msg=str(key))
        np.testing.assert_allclose(a.metric, b.metric, atol=1e-6, err_msg=str(key))
    assert batched[1e3, 0].diverged and batched[1e3, 1].diverged
    assert not batched[0.1, 0].diverged and len(batched[0.1, 0].loss) == 16
    table = batched.table()
    assert "test accuracy" in table and "2/2" in table


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (dict(lr=0.0), "Invalid learning rate: 0.0"),
    (dict(lr=math.nan), "Invalid learning rate: nan"),
    (dict(lr=math.inf), "Invalid learning rate: inf"),
    (dict(lr=0.1, epochs=0), "Invalid epochs value: 0"),
    (dict(lr=0.1, epochs=1.5), "Invalid epochs value: 1.5"),
    (dict(lr=0.1, batch_size=0), "Invalid batch_size value: 0"),
    (dict(lr=0.1, batch_size=10**6), "Invalid batch_size value: 1000000"),
    (dict(lr=0.1, optimizer="sgdm"), "Invalid optimizer: 'sgdm'"),
    (dict(lr=0.1, data="mnist"), "Invalid data: 'mnist'"),
    (dict(lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (dict(), "Invalid learning rate: None"),
    (dict(lr=0.1, schedule=lambda k: 0.1), "Invalid learning rate: 0.1 together with a schedule"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cnn.train(**kwargs)


def test_bad_sweep_input():
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        cnn.sweep([0.1, -1], **FAST)
    with pytest.raises(ValueError, match="Invalid epochs value: 0"):
        cnn.sweep([0.1], data=SMALL, epochs=0)


def test_model_shapes():
    model = cnn.SmallCNN()
    assert model(torch.zeros(5, 1, 8, 8)).shape == (5, 10)
    wide = cnn.SmallCNN(3, 32, 10, channels=(32, 64, 128))
    assert wide(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_accuracy_counts_non_finite_logits_as_wrong():
    y = torch.tensor([0, 1, 2])
    logits = torch.tensor([[5.0, 0, 0], [math.nan, 9, 0], [0, 0, math.inf]])
    assert cnn.accuracy(lambda x: logits[x], torch.arange(3), y).item() == pytest.approx(1 / 3)


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in data.CIFAR10_FILES:
        batch = {b"data": rng.integers(0, 256, (8, 3072), dtype=np.uint8),
                 b"labels": [int(v) for v in rng.integers(0, 10, 8)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    monkeypatch.setenv("LRCOURSE_DATA", str(tmp_path))
    return folder


def test_train_on_cifar10_files(tiny_cifar):
    h = cnn.train(0.01, seed=0, data="cifar10", epochs=1, batch_size=8)
    assert h.config["data"] == "cifar10" and h.config["channels"] == (32, 64, 128)
    assert h.steps == 5 and len(h.metric) == 1


def test_command_line(capsys):
    assert cnn.main(["--lrs", "0.1,1e3", "--epochs", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "digits, 1 epochs, batch 32" in out
    assert "test accuracy" in out and "1/1" in out and "best α: 0.1" in out and "s, batched)" in out


def test_one_command_line_for_every_case(capsys):
    from lrcourse.cases.__main__ import CASES, main
    assert {"cnn", "lstm", "mlp", "rl"} <= set(CASES)
    assert main(["cnn", "--lrs", "0.1", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "digits, 1 epochs, batch 32, sgd" in out and "best α: 0.1" in out
    assert main(["mlp", "--lrs", "0.1", "--steps", "20", "--n-train", "64", "--hidden", "8"]) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert main(["resnet"]) == 2 and "unknown case 'resnet'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["lstm", "--help"])
    assert exit_.value.code == 0 and "python -m lrcourse.cases lstm" in capsys.readouterr().out


def test_command_line_cifar10(tiny_cifar, capsys):
    assert cnn.main(["--data", "cifar10", "--lrs", "1e-3,1e-2", "--epochs", "1", "--batch-size", "8",
                     "--opt", "momentum=0.9", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "cifar10, 1 epochs, batch 8, sgd {'momentum': 0.9}" in out and "one by one" in out
    assert cnn.main(["--data", "cifar10", "--lrs", "1e-3,1e-2", "--epochs", "1", "--batch-size", "8",
                     "--batched"]) == 0
    assert "s, batched)" in capsys.readouterr().out


def test_command_line_errors(monkeypatch, capsys):
    monkeypatch.delenv("LRCOURSE_DATA", raising=False)
    assert cnn.main(["--data", "cifar10", "--epochs", "1"]) == 2
    assert "LRCOURSE_DATA" in capsys.readouterr().err
    assert cnn.main(["--lrs", "0.1,-1", "--epochs", "1"]) == 2
    assert "Invalid learning rate: -1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cnn.main(["--lrs", "fast"])
