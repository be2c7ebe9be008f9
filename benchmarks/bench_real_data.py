"""The cost of the full-scale runs the case-study chapters describe but do not run.

CIFAR-10 and the Penn Treebank are not bundled (nothing downloads), so this times
optimizer steps of the same models on random inputs of the same shapes, on one torch
thread (the command lines' default); a step's cost does not depend on the values:

* CNN on CIFAR-10: SmallCNN with channels (32, 64, 128) on 128 images of 3 × 32 × 32,
  390 steps per epoch (50,000 images), 30 epochs;
* LSTM on the Penn Treebank: two layers of 200, 20 streams × 35 words, a 10,000-word
  softmax, 1,327 steps per epoch (929k training words), 13 epochs.
"""

import time

import torch
import torch.nn.functional as F

from lrcourse.cases import cnn, lstm

CIFAR = {"steps_per_epoch": 50_000 // 128, "epochs": 30}
PTB = {"steps_per_epoch": (929_589 // 20 - 1) // 35, "epochs": 13}


def _ms_per_step(model, batch, loss_fn, steps=20) -> float:
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    for k in range(steps + 3):                         # 3 warm-up steps
        if k == 3:
            start = time.perf_counter()
        optimizer.zero_grad()
        loss_fn(model, batch).backward()
        optimizer.step()
    return 1000 * (time.perf_counter() - start) / steps


def measure() -> dict:
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        images = torch.randn(128, 3, 32, 32), torch.randint(0, 10, (128,))
        cifar_ms = _ms_per_step(cnn.SmallCNN(3, 32, 10, cnn.PRESETS["cifar10"]["channels"]), images,
                                lambda m, b: F.cross_entropy(m(b[0]), b[1]))
        words = torch.randint(0, 10_000, (20, 36))
        ptb_ms = _ms_per_step(lstm.LanguageModel(10_000, 200, 200, 2), words,
                              lambda m, b: lstm.cross_entropy(m(b[:, :-1])[0], b[:, 1:]))
    finally:
        torch.set_num_threads(threads)

    def minutes(ms, preset):
        return round(ms * preset["steps_per_epoch"] * preset["epochs"] / 60_000, 1)

    return {
        "cifar10_step_ms": {"value": round(cifar_ms, 1), "unit": "ms", "goal": "(information)"},
        "cifar10_run_minutes": {"value": minutes(cifar_ms, CIFAR), "unit": "min",
                                "goal": "(30 epochs, training steps only)"},
        "ptb_step_ms": {"value": round(ptb_ms, 1), "unit": "ms", "goal": "(information)"},
        "ptb_run_minutes": {"value": minutes(ptb_ms, PTB), "unit": "min", "goal": "(13 epochs, training steps only)"},
    }


if __name__ == "__main__":
    for name, result in measure().items():
        print(f"{name:<22} {result['value']!s:>8} {result['unit']:<3} {result['goal']}")
