"""python -m lrcourse.sweep: local and Ray backends give the same runs; results files with
provenance; a killed sweep resumes with the same command; a committed file still follows from the code."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from lrcourse.results import files
from lrcourse.sweep import command, provenance, runner
from lrcourse.sweep.trials import Spec, run_trial

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULT_DIRS = (ROOT / "results", ROOT / "lrcourse" / "results" / "runs")     # beside the book, or shipped


def committed_files() -> dict:
    return {p.name: p for folder in RESULT_DIRS for p in folder.glob("*.json")}


def sweep_cli(*args):
    return command.main(["--quiet", *map(str, args)])


def curves(path):
    return {(r["lr"], r["seed"]): (r["loss"], r["metric"], r["metric_steps"], r["diverged_at"])
            for r in files.read(path)["runs"]}


def test_a_local_sweep_writes_every_run_with_its_provenance(tmp_path, capsys):
    out = tmp_path / "cnn.json"
    assert sweep_cli("--case", "cnn", "--lrs", "0.05,50", "--seeds", "0,1", "--epochs", "1",
                     "--device", "auto", "--out", out) == 0
    assert "best α: 0.05" in capsys.readouterr().out
    document = json.loads(out.read_text())
    assert document["command"].startswith("python -m lrcourse.sweep --quiet --case cnn --lrs 0.05,50")
    p = document["provenance"]
    assert p["lrcourse"] and len(p["git"]["commit"]) == 40 and isinstance(p["git"]["dirty"], bool)
    assert p["versions"]["torch"] == torch.__version__ and p["versions"]["ray"] and p["versions"]["ale-py"]
    assert p["device"] == "cpu" and p["machine"]["cpu_count"] == os.cpu_count()
    assert p["started"] <= p["finished"] and "node" not in json.dumps(p["machine"]).lower()
    assert [(r["lr"], r["seed"]) for r in document["runs"]] == [(0.05, 0), (50.0, 0), (0.05, 1), (50.0, 1)]
    result = files.load_results(out)
    good, bad = result[0.05, 1], result[50, 1]
    alone = run_trial(Spec("cnn", (0.05,), (1,), {"epochs": 1}), 0.05, 1, device="cpu")
    assert np.array_equal(good.loss, alone.loss) and np.array_equal(good.metric, alone.metric)
    assert good.final == alone.final and list(good.metric_steps) == [42]
    assert bad.diverged and bad.diverged_at < 42 and not np.isfinite(bad.loss[-1]) or bad.loss[-1] > 10
    assert result.complete and result.table() and result.provenance["device"] == "cpu"


def test_two_local_workers_give_the_runs_of_one(tmp_path):
    args = ["--case", "cnn", "--lrs", "0.05,0.5", "--epochs", "1"]
    assert sweep_cli(*args, "--workers", "2", "--out", tmp_path / "two.json") == 0
    assert sweep_cli(*args, "--out", tmp_path / "one.json") == 0
    assert curves(tmp_path / "two.json") == curves(tmp_path / "one.json")


def test_a_results_file_keeps_long_curves_short_and_standard():
    record = files.run_record(run_trial(Spec("cnn", (0.1,), (0,), {"epochs": 1}), 0.1, 0), max_points=10)
    assert record["loss_every"] == 5 and len(record["loss"]) == 9                   # 42 losses, every 5th
    assert files.plain([float("nan"), float("inf"), -float("inf"), np.float32(2)]) == [None, "inf", "-inf", 2.0]
    assert np.isnan(files.numbers([None])[0]) and files.number("-inf") == -np.inf


def test_a_rerun_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "cnn.json"
    assert sweep_cli("--case", "cnn", "--lrs", "0.1", "--epochs", "1", "--out", out) == 0
    assert sweep_cli("--case", "cnn", "--lrs", "0.1", "--epochs", "2", "--out", out) == 2
    out.write_text("{not json")
    assert sweep_cli("--case", "cnn", "--lrs", "0.1", "--epochs", "1", "--out", out) == 2


@pytest.mark.parametrize("args,message", [
    (["--device", "tpu"], "Invalid device value"),
    (["--set", "colour=1"], "Invalid colour value"),
    (["--workers", "0"], "Invalid workers value"),
    (["--address", "1.2.3.4:6379"], "Invalid address value"),
    (["--lrs", "-1"], "Invalid learning rate"),
])
def test_bad_arguments_are_reported_by_name(tmp_path, capsys, args, message):
    base = {"--case": "cnn", "--lrs": "0.1", "--out": str(tmp_path / "x.json")}
    for name, value in zip(args[::2], args[1::2]):
        base[name] = value
    assert sweep_cli(*[x for kv in base.items() for x in kv]) == 2
    assert message in capsys.readouterr().err


def test_rl_breakout_maps_to_the_ale_game():
    args = command.parser().parse_args(["--case", "rl", "--env", "breakout", "--lrs", "7e-4", "--frames", "1000",
                                        "--out", "x.json"])
    spec = command.spec_from(args)
    assert spec.options == {"env": "ALE/Breakout-v5", "frames": 1000}


def test_a_killed_sweep_resumes_with_the_same_command(tmp_path):
    """Kill the sweep's process (SIGKILL) once a run has checkpointed mid-way, rerun the same
    command: the curves are those of a sweep never stopped."""
    out = tmp_path / "killed.json"
    args = ["--case", "cnn", "--lrs", "0.1,0.5", "--seeds", "0", "--epochs", "10", "--checkpoint-every", "40",
            "--out", str(out), "--quiet"]
    folder = tmp_path / "killed-checkpoints"
    proc = subprocess.Popen([sys.executable, "-m", "lrcourse.sweep", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(folder.glob("*.pt")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = list(folder.glob("*.pt"))
    assert left, "no checkpoint appeared before the sweep ended"
    state = torch.load(left[0], weights_only=False)
    assert 0 < state["steps_taken"] < 420                          # stopped in the middle of a run
    assert len(files.read(out)["runs"]) < 2
    assert command.main(args) == 0
    assert not folder.exists()                                     # checkpoints dropped once recorded
    reference = tmp_path / "whole.json"
    assert command.main([*args[:-3], "--out", str(reference), "--quiet"]) == 0
    assert curves(out) == curves(reference)
    assert len(files.read(out)["provenance"]["sessions"]) == 1


# every committed results file -> the run to re-run, and how far: up to its first evaluations,
# or for a number of steps (Breakout evaluates every 100 updates: here 30 updates take 9 s, 100 take 20 s)
CHECKED = {"cnn-digits.json": dict(run=3, evaluations=2), "breakout.json": dict(run=2, steps=30)}


def test_every_committed_results_file_is_checked():
    committed = set(committed_files())
    assert committed and committed <= set(CHECKED), f"add {committed - set(CHECKED)} to CHECKED"


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_a_committed_results_file_still_follows_from_the_code(name):
    """A short prefix of one committed run, re-run with its seed and settings, matches the file."""
    path, how = committed_files()[name], CHECKED[name]
    compared = provenance.check_prefix(path, **how)
    record = files.read(path)["runs"][how["run"]]
    assert compared["losses_compared"] == -(-compared["steps"] // record["loss_every"])  # every kept loss up to there
    if "evaluations" in how:
        assert len(compared["metric"]) == how["evaluations"]
    assert compared["metric"] == pytest.approx(files.numbers(record["metric"][:len(compared["metric"])]).tolist())


def test_a_prefix_check_names_a_bad_length():
    path = committed_files()["breakout.json"]
    with pytest.raises(ValueError, match="Invalid steps value: 0"):
        provenance.check_prefix(path, run=2, steps=0)
    with pytest.raises(ValueError, match="Invalid steps value: 10000000"):
        provenance.check_prefix(path, run=2, steps=10_000_000)


def test_a_results_file_that_drifted_from_the_code_fails_the_check(tmp_path):
    document = files.read(committed_files()["cnn-digits.json"])
    document["runs"][3]["metric"][0] += 0.01
    drifted = tmp_path / "drifted.json"
    files.write(drifted, document)
    with pytest.raises(AssertionError, match="metric"):
        provenance.check_prefix(drifted, run=3, evaluations=2)
    document["runs"][3]["metric"][0] -= 0.01
    document["runs"][3]["loss"][5] *= 1.001
    files.write(drifted, document)
    with pytest.raises(AssertionError, match="training loss"):
        provenance.check_prefix(drifted, run=3, steps=10)


# ------------------------------------------------------------------ Ray (a local Ray with 2 CPUs)

@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    os.environ.setdefault("RAY_raylet_start_wait_time_s", "60")     # fail fast on a machine too busy
    runner.patient_ray()
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    except Exception as err:                  # Ray raises a bare Exception when its node does not start
        ray.shutdown()
        pytest.skip(f"a local Ray did not start here (machine too busy?): {err}")
    yield ray
    ray.shutdown()


def test_the_ray_sweep_gives_the_local_sweeps_runs(local_ray, tmp_path):
    """Also when one of its trials starts from the checkpoint of a run stopped mid-way."""
    spec = Spec("cnn", (0.05, 0.5), (0,), {"epochs": 1}, device="auto", checkpoint_dir=str(tmp_path / "ckpt"),
                checkpoint_every=10)
    run_trial(spec, 0.5, 0, until=25)                            # stopped after 25 of 42 steps
    assert torch.load(spec.checkpoint_path(0.5, 0), weights_only=False)["steps_taken"] == 20
    on_ray = runner.Recorder(tmp_path / "ray.json", spec, ["--backend", "ray"], "ray", "cpu")
    runner.run_ray(spec, on_ray, workers=2, storage=str(tmp_path / "ray"), verbose=0)
    on_ray.finish()
    assert not spec.checkpoint_path(0.5, 0).exists()             # resumed, recorded, dropped
    here = runner.Recorder(tmp_path / "local.json", spec, ["--backend", "local"], "local", "cpu")
    runner.run_local(spec, here, workers=1, progress=False)
    assert curves(tmp_path / "ray.json") == curves(tmp_path / "local.json")
    assert len(curves(tmp_path / "ray.json")) == 2
