"""Run real training steps of the Hugging Face model and measure their peak
memory and time (``planner measure --step``). Only this package imports torch.

One step = forward with the loss (labels = input ids), ``loss.backward()``,
the optimizer's step, then ``zero_grad(set_to_none=False)``: the gradient
buffers stay allocated from step to step, as DDP's buckets, Megatron-LM's
contiguous gradient buffer and DeepSpeed keep them, and as planner's
estimate counts them (weights, gradients and optimizer states all resident).
The first (warm-up) steps create the gradients and the optimizer states;
peak memory and time are taken over the steps after them.

Precision (planner/estimate/states.py):

* ``fp32``: fp32 parameters, no autocast;
* ``bf16-autocast``: fp32 parameters and gradients, forward under
  ``torch.autocast(device, torch.bfloat16)``;
* ``bf16-mixed``: bf16 parameters and bf16 gradients, an fp32 master copy
  of every parameter owned by :class:`MasterWeights`, which at the step
  copies one gradient at a time into fp32, updates the master and writes
  it back in bf16 (one optimizer per tensor, so only one fp32 gradient copy
  exists at a time).

Optimizers run with ``foreach=False`` (one tensor at a time; the fused
multi-tensor path would hold temporaries for all parameters at once).

Peak memory: on CUDA ``torch.cuda.reset_peak_memory_stats()`` after the
warm-up, then ``torch.cuda.max_memory_allocated()`` (tensor allocations of
the caching allocator; no CUDA context, no cached-but-free blocks). On CPU
the allocator reports every allocation and free to ``torch.profiler``
(``profile_memory=True``); we replay those events of the whole run, from
before the model is built, as a running sum, and take its maximum within
one profiled step (bounded by a ``record_function`` marker). The timed CPU
steps run outside the profiler.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
import transformers
from torch import nn

from planner.errors import PlannerError
from planner.measure.case import WEIGHT_DTYPE, MeasureCase
from planner.measure.hfmodel import build_model, enable_checkpointing, hf_config
from planner.measure.stepcompare import StepRun

WARMUP_STEPS = {"cpu": 1, "cuda": 2}
TIMED_STEPS = 3
_MARK = "planner.measured_step"
MEMORY_METHOD = {
    "cuda": "torch.cuda.max_memory_allocated after torch.cuda.reset_peak_memory_stats",
    "cpu": "torch.profiler profile_memory=True: running sum of the CPU allocator's events",
}


class MasterWeights:
    """bf16-mixed: fp32 master copies of 16-bit parameters, one optimizer
    per tensor (Micikevicius et al. 2018, "Mixed Precision Training", s3.1:
    an fp32 master copy updated with the 16-bit gradients)."""

    def __init__(self, params: list[nn.Parameter], make: Callable[[list[Any]], Any]):
        self.params = params
        self.masters = [p.detach().float() for p in params]
        self.optimizers = [make([m]) for m in self.masters]

    def step(self) -> None:
        for p, m, opt in zip(self.params, self.masters, self.optimizers, strict=True):
            if p.grad is None:
                continue
            m.grad = p.grad.float()
            opt.step()
            m.grad = None
            with torch.no_grad():
                p.copy_(m)

    def zero_grad(self, set_to_none: bool = False) -> None:
        for p in self.params:
            if p.grad is not None:
                p.grad.zero_()


def _optimizer(name: str, params: list[Any]) -> Any:
    if name == "adamw":
        return torch.optim.AdamW(params, lr=1e-5, foreach=False)
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-5, foreach=False)
    if name == "sgd":
        return torch.optim.SGD(params, lr=1e-5, foreach=False)
    if name == "sgd-momentum":
        return torch.optim.SGD(params, lr=1e-5, momentum=0.9, foreach=False)
    raise PlannerError(f"planner measure --step does not run optimizer {name!r}")


def check_device(device: str) -> str:
    """The device's name, or a ``PlannerError`` when it is not there."""
    if device == "cuda":
        if not torch.cuda.is_available():
            raise PlannerError(
                "planner measure --step --device cuda: torch sees no CUDA GPU"
                f" (torch {torch.__version__}); use --device cpu"
            )
        return str(torch.cuda.get_device_name(0))
    return "cpu"


def cuda_memory_bytes() -> int:
    """Total memory of CUDA device 0 as torch reports it."""
    return int(torch.cuda.get_device_properties(0).total_memory)


def check_room(device: str, predicted_bytes: int) -> None:
    """Refuse a run the device's free memory cannot hold (predicted + 10%)."""
    free = int(torch.cuda.mem_get_info(0)[0]) if device == "cuda" else _cpu_available_bytes()
    if free is None:
        return
    if predicted_bytes * 1.1 > free:
        raise PlannerError(
            f"planner measure --step: the run needs about {predicted_bytes / 2**30:.1f} GiB,"
            f" {free / 2**30:.1f} GiB is free on {device}; use fewer --layers"
        )


def _cpu_available_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the file's kB are KiB
    except OSError:
        pass
    return None


def run_steps(case: MeasureCase, optimizer: str, device: str, seed: int = 0) -> StepRun:
    """Build the model of ``case`` on ``device`` and run warm-up plus timed
    steps; return the peak bytes and the step times."""
    quiet = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        if device == "cuda":
            return _run_cuda(case, optimizer, seed)
        return _run_cpu(case, optimizer, seed)
    finally:
        transformers.logging.set_verbosity(quiet)


class _Step:
    """The model, its inputs and optimizer; ``__call__`` runs one step."""

    def __init__(self, case: MeasureCase, optimizer: str, device: str, seed: int):
        torch.manual_seed(seed)
        config = hf_config(case.arch, case.attention, case.dropout, case.seq)
        dtype = getattr(torch, WEIGHT_DTYPE[case.precision])
        with torch.device(device):
            self.model = build_model(case.arch, config, dtype)
        if case.traced_recompute == "full":
            enable_checkpointing(self.model)
        params = [p for p in self.model.parameters() if p.requires_grad]
        if case.precision == "bf16-mixed":
            self.opt: Any = MasterWeights(params, lambda ps: _optimizer(optimizer, ps))
        else:
            self.opt = _optimizer(optimizer, params)
        shape = (case.micro_batch, case.seq)
        self.ids = torch.randint(0, case.arch.vocab_size, shape, device=device)
        self.autocast = torch.autocast(device, torch.bfloat16, enabled=case.autocast)

    def __call__(self) -> None:
        with self.autocast:
            loss = self.model(input_ids=self.ids, labels=self.ids).loss
        loss.backward()
        del loss
        self.opt.step()
        self.opt.zero_grad(set_to_none=False)


def _run_cuda(case: MeasureCase, optimizer: str, seed: int) -> StepRun:
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    step = _Step(case, optimizer, "cuda", seed)
    for _ in range(WARMUP_STEPS["cuda"]):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    seconds = []
    for _ in range(TIMED_STEPS):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        torch.cuda.synchronize()
        seconds.append(start.elapsed_time(end) / 1e3)  # elapsed_time is in ms
    peak = int(torch.cuda.max_memory_allocated())
    del step
    torch.cuda.empty_cache()
    return StepRun(case.arch.num_layers, peak, tuple(seconds))


def _run_cpu(case: MeasureCase, optimizer: str, seed: int) -> StepRun:
    from torch.profiler import ProfilerActivity, profile, record_function

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step = _Step(case, optimizer, "cpu", seed)
        for _ in range(WARMUP_STEPS["cpu"]):
            step()
        with record_function(_MARK):
            step()
    peak = profiled_peak(prof)
    seconds = []
    for _ in range(TIMED_STEPS):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return StepRun(case.arch.num_layers, peak, tuple(seconds))


def profiled_peak(prof: Any, mark: str = _MARK) -> int:
    """Maximum of the running sum of CPU allocation events inside the
    ``mark`` region of a ``profile_memory=True`` profile (bytes)."""
    events = list(prof.profiler.kineto_results.events())
    region = [e for e in events if e.name() == mark]
    if not region:
        raise PlannerError("planner measure --step: the profiler recorded no step")
    lo, hi = region[0].start_ns(), region[0].end_ns()
    running = peak = 0
    for at, nbytes in _cpu_memory_events(events):
        running += nbytes
        if lo <= at <= hi:
            peak = max(peak, running)
    return peak


def _cpu_memory_events(events: list[Any]) -> list[tuple[int, int]]:
    out = []
    for e in events:
        if e.name() == "[memory]" and str(e.device_type()).endswith("CPU"):
            out.append((int(e.start_ns()), int(e.nbytes())))
    return sorted(out)
