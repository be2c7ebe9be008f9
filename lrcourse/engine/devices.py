"""Where a run trains: ``device="auto" | "cpu" | "cuda" | "mps"`` (or ``"cuda:1"``, a ``torch.device``).

``"auto"`` picks CUDA when there is a CUDA GPU, else Apple's MPS, else the CPU.
On the CPU nothing is moved and nothing changes. On a GPU the engine moves the
model there and each batch of tensors with it, and the model the case sees
(``forward``) takes its inputs wherever they are and returns its outputs on the
device its inputs came from: a case written for the CPU (test images held on the
CPU, an environment's observations, a generator of its own) runs unchanged, and
its random generators stay on the CPU, so the batch order and the actions drawn
do not depend on the device.
"""

from __future__ import annotations

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")


def check(device) -> str:
    """``device`` as a name, checked to be one of :data:`DEVICES` (or ``"cuda:N"``), without
    asking whether this machine has it (a sweep's driver may have no GPU, its workers do)."""
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise ValueError(f"Invalid device value: {device!r} (expected one of {', '.join(DEVICES)})")
    name = device.strip().lower()
    try:
        parsed = torch.device(name) if name != "auto" else None
    except RuntimeError:
        parsed = False
    if parsed is False or (parsed is not None and parsed.type not in DEVICES):
        raise ValueError(f"Invalid device value: {device!r} (expected one of {', '.join(DEVICES)})")
    return name


def resolve(device="cpu") -> torch.device:
    """The ``torch.device`` for ``device``; ``ValueError`` naming ``device`` if it is not one
    of :data:`DEVICES` (``"cuda:N"`` too) or is not available here."""
    name = check(device)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = name.partition(":")[0]
    resolved = torch.device(name)
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"Invalid device value: {device!r} (no CUDA GPU here; use 'auto' or 'cpu')")
    if kind == "cuda" and resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ValueError(f"Invalid device value: {device!r} (this machine has {torch.cuda.device_count()} CUDA GPUs)")
    if kind == "mps" and not _mps_available():
        raise ValueError(f"Invalid device value: {device!r} (no MPS device here; use 'auto' or 'cpu')")
    return resolved


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def describe(device: torch.device) -> str:
    """'cpu', or the GPU's name, e.g. 'cuda (NVIDIA A100-SXM4-40GB)'."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def to_device(value, device: torch.device):
    """``value`` with every tensor in it (also inside tuples, lists and dicts) on ``device``."""
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=True)
    if isinstance(value, tuple) and hasattr(value, "_fields"):          # a NamedTuple
        return type(value)(*(to_device(v, device) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {key: to_device(v, device) for key, v in value.items()}
    return value


def batch_to(batch, device: torch.device):
    """A batch for a model on ``device``: the batch itself on the CPU, else :func:`to_device`."""
    return batch if device.type == "cpu" else to_device(batch, device)


def first_device(values) -> torch.device | None:
    for value in values:
        if isinstance(value, torch.Tensor):
            return value.device
        if isinstance(value, (tuple, list)):
            found = first_device(value)
            if found is not None:
                return found
        if isinstance(value, dict):
            found = first_device(value.values())
            if found is not None:
                return found
    return None


class OnDevice(torch.nn.Module):
    """The model as the case calls it when it trains on another device: inputs moved to
    ``device``, outputs returned on the device of the first input tensor (the CPU for a case
    that keeps its data there). Gradients flow through the copies."""

    def __init__(self, model: torch.nn.Module, device: torch.device):
        super().__init__()
        self.model, self.device = model, device

    def forward(self, *args, **kwargs):
        home = first_device(list(args) + list(kwargs.values()))
        out = self.model(*to_device(args, self.device), **to_device(kwargs, self.device))
        return out if home is None or home == self.device else to_device(out, home)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("model"), name)      # the case's own methods and fields


def wrap(model: torch.nn.Module, device: torch.device):
    """``model`` itself on the CPU (nothing changes there), else :class:`OnDevice`."""
    return model if device.type == "cpu" else OnDevice(model, device)
