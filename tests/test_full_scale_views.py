"""The views of a full-scale results file: its provenance table and the seed-band figure."""

import numpy as np
import pytest

from lrcourse import figures
from lrcourse.results import files, tables
from lrcourse.results.history import History


def _run(lr, seed, metric):
    metric = np.asarray(metric, dtype=float)
    return History(loss=np.ones(4), lrs=np.full(4, lr), metric=metric, metric_steps=np.arange(1, len(metric) + 1) * 2,
                   metric_epochs=np.full(len(metric), np.nan), diverged=False, diverged_at=None, diverged_loss=None,
                   seconds=1800.0, config={"lr": lr, "seed": seed, "metric_name": "score", "maximize": True})


@pytest.fixture
def results():
    runs = {(1e-3, 0): [1.0, 2.0, 4.0], (1e-3, 1): [1.0, 3.0, 6.0], (1e-2, 0): [2.0, 1.0, 0.0],
            (1e-2, 1): [2.0, 2.0, 2.0]}
    return files.Results(
        lrs=np.array([1e-3, 1e-2]), seeds=(0, 1), histories={k: _run(*k, v) for k, v in runs.items()},
        seconds=4 * 1800.0, batched=False, metric_name="score", maximize=True,
        command="python -m lrcourse.sweep --case rl --env breakout --lrs 1e-3,1e-2 --seeds 0,1 "
                "--frames 1000000 --backend local --workers 2 --out results/breakout.json",
        provenance={"lrcourse": "0.1.0", "git": {"commit": "0123456789abcdef", "dirty": True},
                    "versions": {"torch": "2.13.0", "ray": None}, "device": "cpu",
                    "machine": {"cpu_count": 2, "machine": "x86_64"}, "started": "2026-12-05T04:47:04+00:00",
                    "finished": None},
        spec={"case": "rl"}, path="results/breakout.json")


def test_provenance_table_says_what_ran_where(results):
    text = tables.provenance_table(results)
    lines = text.splitlines()
    assert all(len(line) <= 72 for line in lines)
    assert lines[0].endswith(" \\") and "--out results/breakout.json" in text   # the command, wrapped
    flat = " ".join(text.split())
    assert "commit 0123456789ab (with uncommitted changes)" in flat
    assert "torch 2.13.0" in text and "ray" not in text.split("libraries")[1].split("\n")[0]
    assert "cpu, 2 CPU cores, x86_64" in text and "finished   not yet" in text
    assert "4 of 4 done, 2.0 hours of training" in text


def test_seed_band_figure_draws_mean_and_spread(results):
    fig = figures.seed_band_figure(results, title="Breakout", x_title="frames", x_per_step=320, baseline=1.5)
    bands, lines = fig.data[0::2], fig.data[1::2]
    assert [t.name for t in lines] == ["α = 0.001", "α = 0.01"]
    np.testing.assert_allclose(lines[0].y, [1.0, 2.5, 5.0])
    np.testing.assert_allclose(lines[0].x, [640, 1280, 1920])
    np.testing.assert_allclose(bands[0].y, [1.0, 3.0, 6.0, 4.0, 2.0, 1.0])      # best forward, worst back
    assert fig.layout.title.text == "Breakout" and fig.layout.xaxis.title.text == "frames"
    assert fig.layout.shapes[0].y0 == 1.5
    with pytest.raises(ValueError, match="Invalid x_per_step value: 0"):
        figures.seed_band_figure(results, title="t", x_title="x", x_per_step=0)


def test_committed_results_files_ship_with_the_package():
    for path in files.RUNS.glob("*.json"):
        assert files.committed(path.stem) == path
    with pytest.raises(ValueError, match="Invalid name: 'no-such-grid' .committed results files: "):
        files.committed("no-such-grid")
