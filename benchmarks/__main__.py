"""`make bench`: run every benchmark, write benchmarks/results.json, print a table.

Each module ``benchmarks/bench_*.py`` has ``measure() -> {name: {"value", "unit", "goal"}}``.
"""

import importlib
import json
import pathlib
import platform

import os

HERE = pathlib.Path(__file__).resolve().parent


def main():
    results = {}
    for path in sorted(HERE.glob("bench_*.py")):
        module = importlib.import_module(f"benchmarks.{path.stem}")
        print(f"running {path.stem} ...", flush=True)
        results.update(module.measure())
    results["machine"] = {"value": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                          "unit": ""}
    (HERE / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{'benchmark':<34} {'value':>12} {'unit':<5} goal")
    for name, r in results.items():
        if isinstance(r["value"], dict):
            for sub, v in r["value"].items():
                print(f"{name + ': ' + sub:<60} {v:>8} {r['unit']:<5} {r.get('goal', '')}")
        else:
            print(f"{name:<34} {r['value']!s:>12} {r['unit']:<5} {r.get('goal', '')}")
    print(f"\nwritten to {HERE / 'results.json'}")


if __name__ == "__main__":
    main()
