"""``python -m lrcourse.sweep``: an α × seed grid of any case study, here or on Ray, with a results file.

    python -m lrcourse.sweep --case rl --env breakout --lrs 1e-4,3e-4,7e-4,2e-3,7e-3 --seeds 0,1 \\
        --frames 2000000 --backend ray --workers 2 --device auto --out results/breakout.json

Every run is ``lrcourse.cases.<case>.train(lr, seed, **options)``; the options are
the case's own keywords (``--env``, ``--data``, ``--frames``, ``--steps``,
``--epochs``, ``--optimizer``, any other as ``--set NAME=VALUE``; optimizer
arguments as ``--opt NAME=VALUE``). The results file (:mod:`lrcourse.results.files`)
is rewritten after every finished run; rerun the same command to resume a
stopped sweep (finished runs are kept, stopped ones resume from their checkpoints).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

from lrcourse.cases import _cli as cli
from lrcourse.engine import devices
from lrcourse.results import files
from lrcourse.sweep import runner
from lrcourse.sweep.trials import CASES, ENVS, Spec


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lrcourse.sweep", description=(
        "Train a case study over a grid of learning rates × seeds, here or on a Ray cluster, and write "
        "every run's curve with its provenance to a results file."))
    p.add_argument("--case", required=True, choices=CASES)
    p.add_argument("--lrs", type=cli.numbers, required=True, help="comma-separated learning rates")
    p.add_argument("--seeds", type=cli.integers, default=[0], help="comma-separated seeds (default 0)")
    p.add_argument("--env", help=f"rl: a gymnasium id or {', '.join(ENVS)}")
    p.add_argument("--data", help="cnn: digits or cifar10; lstm: stdlib or ptb; …")
    p.add_argument("--frames", type=int, help="rl: Atari frames per run (the budget of the Atari literature)")
    p.add_argument("--steps", type=int, help="optimizer steps (updates) per run")
    p.add_argument("--epochs", type=int, help="cnn, lstm: passes over the training data")
    p.add_argument("--optimizer", help="a torch.optim name (default: the case's)")
    p.add_argument("--opt", type=cli.keyword, action="append", default=[], metavar="NAME=VALUE",
                   help="optimizer argument, e.g. --opt momentum=0.9 (repeatable)")
    p.add_argument("--set", type=cli.keyword, action="append", default=[], metavar="NAME=VALUE",
                   help="any other keyword of the case's train(), e.g. --set batch_size=64 (repeatable)")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="local: here, --workers at a time; ray: Ray Tune (a local Ray, or --address)")
    p.add_argument("--address", help="ray: the cluster's address (e.g. 10.0.0.1:6379 or 'auto')")
    p.add_argument("--workers", type=int, default=1, help="runs at a time (default 1)")
    p.add_argument("--gpus-per-trial", type=float, default=None,
                   help="ray: GPUs per run (default 1 on a GPU device, else 0)")
    p.add_argument("--device", default="auto", help="auto (a GPU when there is one), cpu, cuda or mps")
    p.add_argument("--out", required=True, help="the results file (JSON), e.g. results/breakout.json")
    p.add_argument("--checkpoint-dir", help="where runs checkpoint (default: next to --out, NAME-checkpoints)")
    p.add_argument("--checkpoint-every", type=int, default=None,
                   help="steps between checkpoints (default: at every evaluation)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    return p


def spec_from(args) -> Spec:
    options = {}
    if args.env is not None:
        options["env"] = ENVS.get(args.env.lower(), args.env)
    for name in ("data", "frames", "steps", "epochs", "optimizer"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    for name, value in args.set:
        options[name] = value
    out = pathlib.Path(args.out)
    checkpoint_dir = args.checkpoint_dir or str(out.with_name(out.stem + "-checkpoints"))
    devices.check(args.device)
    return Spec(case=args.case, lrs=args.lrs, seeds=args.seeds, options=options, optimizer_kwargs=dict(args.opt),
                device=args.device, checkpoint_dir=os.path.abspath(checkpoint_dir),
                checkpoint_every=args.checkpoint_every)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    try:
        if args.workers < 1:
            raise ValueError(f"Invalid workers value: {args.workers} (expected a positive integer)")
        if args.address and args.backend != "ray":
            raise ValueError(f"Invalid address value: {args.address!r} (only with --backend ray)")
        spec = spec_from(args)
        # on a cluster the driver may have no GPU: each run records the device it had
        here = f"{args.device} (on the cluster's workers)" if args.address else \
            devices.describe(devices.resolve(args.device))
        recorder = runner.Recorder(args.out, spec, argv, args.backend, here)
        if args.backend == "ray":
            # Tune's own experiment records go to ~/ray_results, out of the repository
            runner.run_ray(spec, recorder, args.workers, address=args.address, gpus_per_trial=args.gpus_per_trial,
                           verbose=0 if args.quiet else 1)
        else:
            runner.run_local(spec, recorder, args.workers, progress=not args.quiet)
        recorder.finish()
    except (*cli.ERRORS, RuntimeError) as err:          # RuntimeError: Ray did not start, or trials failed there
        return cli.fail(err)
    result = files.load_results(args.out)
    print(f"\n{result.spec['case']} {result.spec['options']}: {len(result)} runs on "
          f"{result.provenance['device']}, in {args.out}")
    print(result.table())
    print(f"best α: {result.best():g}")
    return 0
