"""Running a sweep's trials: here, one or K at a time (``local``), or on Ray Tune (``ray``).

Both backends run the same trial (:func:`lrcourse.sweep.trials.run_trial`) and hand
each finished run to a :class:`Recorder`, which rewrites the results file at once.
Rerunning the same command resumes: runs already in the file are skipped, and a
run that was stopped resumes from its checkpoint (``--checkpoint-dir``), with the
same results as a sweep never stopped. A results file written by another sweep
(other case, settings, α or seeds) is an error, not overwritten.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import pathlib
import shlex

from lrcourse.engine import devices
from lrcourse.results import files
from lrcourse.sweep import provenance
from lrcourse.sweep.trials import Spec, run_trial


class Recorder:
    """The results file of a sweep, rewritten atomically after every finished run."""

    def __init__(self, path, spec: Spec, argv: list, backend: str, device: str):
        self.path = pathlib.Path(path)
        self.spec = spec
        command = "python -m lrcourse.sweep " + shlex.join(argv)
        settings = files.plain(spec.settings())
        if self.path.exists():
            document = files.read(self.path)
            theirs = {key: document["sweep"].get(key) for key in settings}
            if theirs != settings:
                differ = ", ".join(f"{k}: {theirs[k]!r} there, {settings[k]!r} here"
                                   for k in settings if theirs[k] != settings[k])
                raise ValueError(f"Invalid out value: {str(self.path)!r} holds another sweep ({differ}); "
                                 "choose another --out, or delete the file to start again")
            self.document = document
            if self.todo:                               # a stopped sweep resumed: say when, with what
                document["provenance"].setdefault("sessions", []).append(
                    {"started": provenance.now(), "command": command, "git": provenance.git_state(),
                     "backend": backend, "device": device})
                document["provenance"]["finished"] = None
        else:
            document = {"format": files.FORMAT, "command": command, "argv": list(argv),
                        "sweep": {**settings, "backend": backend, "device": spec.device,
                                  "checkpoint_every": spec.checkpoint_every},
                        "provenance": {**provenance.collect(device), "sessions": []},
                        "runs": []}
        self.document = document
        files.write(self.path, document)

    @property
    def done(self) -> set:
        return {(files.number(r["lr"]), int(r["seed"])) for r in self.document["runs"]}

    @property
    def todo(self) -> list:
        done = self.done
        return [m for m in self.spec.members if m not in done]

    def add(self, record: dict) -> None:
        """Record a finished run (in the sweep's order) and drop its checkpoint."""
        runs = [r for r in self.document["runs"]
                if (files.number(r["lr"]), int(r["seed"])) != (files.number(record["lr"]), int(record["seed"]))]
        order = {m: i for i, m in enumerate(self.spec.members)}
        runs.append(record)
        runs.sort(key=lambda r: order.get((files.number(r["lr"]), int(r["seed"])), len(order)))
        self.document["runs"] = runs
        files.write(self.path, self.document)
        checkpoint = self.spec.checkpoint_path(files.number(record["lr"]), int(record["seed"]))
        if checkpoint is not None and checkpoint.exists():
            checkpoint.unlink()

    def finish(self) -> None:
        if not self.todo and self.document["provenance"]["finished"] is None:
            self.document["provenance"]["finished"] = provenance.now()
            files.write(self.path, self.document)
            folder = self.spec.checkpoint_path(0.0, 0)
            if folder is not None and folder.parent.is_dir() and not any(folder.parent.iterdir()):
                folder.parent.rmdir()


def trial_record(spec: Spec, lr: float, seed: int, progress: bool = False, on_eval=None) -> dict:
    """One trial, as the record the results file keeps."""
    device = devices.describe(devices.resolve(spec.device))
    h = run_trial(spec, lr, seed, progress=progress, on_eval=on_eval)
    return files.run_record(h, device=device)


def _postfix(record: dict) -> str:
    state = f"diverged at {record['diverged_at']}" if record["diverged"] else f"final {files.number(record['final']):.4g}"
    return f"α={files.number(record['lr']):g} seed {record['seed']}: {state}"


def run_local(spec: Spec, recorder: Recorder, workers: int = 1, progress: bool = True) -> None:
    """The trials one after another (a step bar each), or ``workers`` at a time in processes."""
    from tqdm.auto import tqdm

    todo = recorder.todo
    bar = tqdm(total=len(spec.members), initial=len(spec.members) - len(todo), unit="run",
               desc=f"{spec.case} sweep", disable=not progress, position=0)
    try:
        if workers == 1 or len(todo) <= 1:
            for lr, seed in todo:
                record = trial_record(spec, lr, seed, progress=progress)
                recorder.add(record)
                bar.update()
                bar.set_postfix_str(_postfix(record))
            return
        # fork shares the loaded package and data on the CPU; a GPU context cannot be forked
        method = "fork" if devices.resolve(spec.device).type == "cpu" and "fork" in \
            multiprocessing.get_all_start_methods() else "spawn"
        with concurrent.futures.ProcessPoolExecutor(min(workers, len(todo)),
                                                    mp_context=multiprocessing.get_context(method)) as pool:
            futures = [pool.submit(trial_record, spec, lr, seed) for lr, seed in todo]
            for future in concurrent.futures.as_completed(futures):
                record = future.result()
                recorder.add(record)
                bar.update()
                bar.set_postfix_str(_postfix(record))
    finally:
        bar.close()


RAY_TIMEOUTS = {"RAY_raylet_start_wait_time_s": "120", "RAY_agent_register_timeout_ms": "120000",
                "RAY_worker_register_timeout_seconds": "300"}
"""Ray's start-up waits, raised: on a busy machine its agents and workers (which import torch)
take longer to start than Ray's defaults allow, and the raylet then aborts."""


def patient_ray() -> None:
    """Raise :data:`RAY_TIMEOUTS` for the Ray this process starts (unless already set)."""
    for name, value in RAY_TIMEOUTS.items():
        os.environ.setdefault(name, value)


class _Inbox:
    """A Ray actor that holds finished runs until the driver records them: the whole curve
    travels through it, not through Tune's reports (which Tune prints and logs)."""

    def __init__(self):
        self.records = {}

    def put(self, key: tuple, record: dict) -> None:
        self.records[key] = record

    def take(self, key: tuple) -> dict | None:
        return self.records.pop(key, None)


def _ray_trial(config: dict, spec: Spec, inbox) -> None:
    """A Ray Tune trial: one run, reporting every evaluation as it comes (step, value)."""
    import ray
    from ray import tune

    lr, seed = config["run"]

    def on_eval(step: int, value: float) -> None:
        tune.report({"step": step, "value": value})

    record = trial_record(spec, lr, seed, on_eval=on_eval)
    ray.get(inbox.put.remote((lr, seed), record))
    tune.report({"step": record["steps"], "value": files.number(record["final"]),
                 "diverged": record["diverged"], "recorded": True})


def run_ray(spec: Spec, recorder: Recorder, workers: int = 1, *, address: str | None = None,
            gpus_per_trial: float | None = None, storage: str | None = None, verbose: int = 1) -> None:
    """The trials on Ray Tune, ``workers`` at a time: a local Ray with ``workers`` CPUs
    (started and stopped here unless one is running), or the cluster at ``address``.
    Each trial takes one CPU and ``gpus_per_trial`` GPUs (default: 1 when the device is
    a GPU, or 'auto' on a cluster that has GPUs)."""
    import ray
    from ray import tune

    todo = recorder.todo
    if not todo:
        return
    started = not ray.is_initialized()
    if started:
        patient_ray()
        try:
            if address:
                ray.init(address=address)
            else:
                ray.init(num_cpus=workers, include_dashboard=False)
        except Exception as err:                  # Ray raises a bare Exception when its node does not start
            raise RuntimeError(f"Ray did not start ({err}); on a busy machine its start-up can time out: "
                               "retry, or use --backend local (the same runs; rerunning resumes)") from err
    try:
        if gpus_per_trial is None:
            wants_gpu = spec.device.startswith(("cuda", "mps")) or (
                spec.device == "auto" and ray.cluster_resources().get("GPU", 0) > 0)
            gpus_per_trial = 1 if wants_gpu else 0
        inbox = ray.remote(num_cpus=0)(_Inbox).remote()
        storage = os.path.abspath(storage or os.path.join(os.path.expanduser("~"), "ray_results"))
        trainable = tune.with_resources(tune.with_parameters(_ray_trial, spec=spec, inbox=inbox),
                                        {"cpu": 1, "gpu": gpus_per_trial})
        tuner = tune.Tuner(
            trainable,
            param_space={"run": tune.grid_search([list(m) for m in todo])},
            tune_config=tune.TuneConfig(max_concurrent_trials=workers, num_samples=1),
            run_config=tune.RunConfig(
                name=f"lrcourse-{spec.case}-{pathlib.Path(recorder.path).stem}", storage_path=storage,
                callbacks=[_record_callback(recorder, inbox)], verbose=verbose,
                # a lost worker retries its trial, which resumes from its checkpoint file
                failure_config=tune.FailureConfig(max_failures=3)))
        results = tuner.fit()
        errors = [r.error for r in results if r.error is not None]
        if errors:
            raise RuntimeError(f"{len(errors)} trials failed on Ray; the first: {errors[0]}")
    finally:
        if started:
            ray.shutdown()


def _record_callback(recorder: Recorder, inbox):
    """A Tune callback that records each trial's run in the results file as soon as it is done."""
    import ray
    from ray import tune

    class RecordRuns(tune.Callback):
        def on_trial_result(self, iteration, trials, trial, result, **info):
            if result.get("recorded"):
                lr, seed = trial.config["run"]
                record = ray.get(inbox.take.remote((lr, seed)))
                if record is not None:
                    recorder.add(record)

    return RecordRuns()
