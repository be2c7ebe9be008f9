"""Devices: ``device="auto" | "cpu" | "cuda" | "mps"`` through the engine; the CPU's numbers unchanged.

The reference numbers below were printed by the engine before devices existed
(commit 2ea18f7): on the CPU, ``device="cpu"`` and ``device="auto"`` (on a
machine without a GPU) must give them bit for bit.
"""

import pytest
import torch

from lrcourse import engine
from lrcourse.cases import cnn
from lrcourse.data import images as data
from lrcourse.engine import devices

SMALL = data.digits().take(256, 100)
FAST = dict(data=SMALL, epochs=2)
NO_GPU = not torch.cuda.is_available() and not devices._mps_available()


@pytest.mark.parametrize("device", ["cpu", "auto", torch.device("cpu")])
def test_one_run_on_the_cpu_is_as_before(device):
    h = cnn.train(0.1, seed=0, device=device, **FAST)
    if NO_GPU or device != "auto":
        assert float(h.loss.sum()) == 36.03049826622009 and float(h.loss[-1]) == 2.1594183444976807
        assert [float(v) for v in h.metric] == [0.28999999165534973, 0.2800000011920929]
    assert next(h.model.parameters()).device == devices.resolve(device)


def test_batched_sweep_and_range_test_on_the_cpu_are_as_before():
    s = cnn.sweep([0.05, 0.5], seeds=(0,), device="cpu", **FAST)
    assert s.batched
    assert [float(h.loss.sum()) for h in s] == [36.555187702178955, 28.75960350036621]
    assert [h.final for h in s] == [0.30000001192092896, 0.6000000238418579]
    r = cnn.lr_range_test(0, data=SMALL, steps=20, device="cpu")
    assert float(r.raw_losses.sum()) == 453.7314633131027 and r.suggestion == 0.12742749857031338


def test_auto_picks_a_gpu_only_when_there_is_one():
    expected = "cuda" if torch.cuda.is_available() else "mps" if devices._mps_available() else "cpu"
    assert devices.resolve("auto").type == expected
    assert devices.resolve("CPU") == torch.device("cpu")


@pytest.mark.parametrize("bad", ["tpu", "", 0, None, "cpu:x"])
def test_a_bad_device_is_a_value_error_naming_it(bad):
    with pytest.raises(ValueError, match="Invalid device value"):
        devices.resolve(bad)
    with pytest.raises(ValueError, match="Invalid device value"):
        cnn.train(0.1, device=bad, **FAST)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_asking_for_cuda_without_one_says_so():
    with pytest.raises(ValueError, match="no CUDA GPU here"):
        engine.train(lambda seed: None, 0.1, device="cuda")


def test_on_device_moves_inputs_and_brings_outputs_home():
    """The wrapper a case sees on a GPU, tried here with the CPU standing in for the GPU's side:
    inputs go to the model's device, outputs come back where the inputs were, gradients flow."""
    model = torch.nn.Linear(3, 2)
    wrapped = devices.OnDevice(model, torch.device("cpu"))
    x = torch.ones(4, 3)
    out = wrapped(x)
    assert out.device == x.device and torch.equal(out, model(x))
    out.sum().backward()
    assert model.weight.grad is not None
    assert wrapped.in_features == 3                # the model's own attributes stay reachable
    assert devices.wrap(model, torch.device("cpu")) is model
    batch = (torch.zeros(2), [torch.ones(1)], {"y": torch.ones(1)}, 7)
    moved = devices.to_device(batch, torch.device("cpu"))
    assert moved[3] == 7 and isinstance(moved[1], list) and set(moved[2]) == {"y"}
    assert devices.batch_to(batch, torch.device("cpu")) is batch


@pytest.mark.skipif(NO_GPU, reason="no GPU here: the GPU path is written, not measured")
def test_a_run_on_the_gpu_matches_the_cpu_closely():
    h_cpu = cnn.train(0.1, seed=0, device="cpu", **FAST)
    h_gpu = cnn.train(0.1, seed=0, device="auto", **FAST)
    assert abs(h_gpu.loss[0] - h_cpu.loss[0]) < 1e-4          # same initial weights and first batch
    assert abs(h_gpu.final - h_cpu.final) < 0.1


def test_the_other_cases_on_the_cpu_are_as_before():
    """lstm, gpt and mlp with device="cpu" (numbers printed before devices existed, commit 63404ff)."""
    from lrcourse.cases import gpt, lstm, mlp
    h = lstm.train(10.0, seed=0, steps=40, device="cpu")
    assert float(h.loss.sum()) == 119.7856662273407 and float(h.metric[-1]) == 14.460251808166504
    h = gpt.train(3e-3, seed=0, steps=20, device="cpu")
    assert float(h.loss.sum()) == 71.59352946281433 and float(h.metric[-1]) == 4.651252269744873
    h = mlp.train(0.1, seed=0, steps=50, device="cpu")
    assert float(h.loss.sum()) == 13.89125382900238 and float(h.metric[-1]) == 0.8955555558204651


@pytest.mark.parametrize("case", ["cnn", "lstm", "gpt", "mlp"])
def test_every_case_command_line_takes_a_device(case, capsys):
    import importlib
    module = importlib.import_module(f"lrcourse.cases.{case}")
    assert module.main(["--device", "tpu", "--lrs", "0.1"]) == 2
    assert "Invalid device value: 'tpu'" in capsys.readouterr().err


def test_a_device_name_is_checked_without_the_device():
    """A sweep's driver on a cluster may have no GPU while its workers do."""
    assert devices.check("CUDA") == "cuda" and devices.check("cuda:1") == "cuda:1" and devices.check("auto") == "auto"
    with pytest.raises(ValueError, match="Invalid device value: 'gpu'"):
        devices.check("gpu")
