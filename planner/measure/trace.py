"""Trace one training forward pass and record what autograd saves.

Every tensor an operation saves for backward passes through
``torch.autograd.graph.saved_tensors_hooks``' pack hook. We key it by its
storage (``StorageWeakRef``, which works for real and fake tensors alike),
so views of one buffer count once and at the size of the whole buffer, and
skip parameters and buffers. Module forward hooks tell which decoder layer
(or which non-layer part) is running. Under ``FakeTensorMode``
(``torch._subclasses.fake_tensor``) nothing is allocated: a 7B model at
sequence 4096 traces in about a second on a 2-core CPU.

Full recomputation: the non-reentrant ``torch.utils.checkpoint`` installs its
own saved-tensor hooks inside each layer, so nothing inside a layer reaches
ours; what it keeps is the layer call's tensor arguments, recorded by
wrapping the layer's ``_gradient_checkpointing_func``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import torch
import transformers
from torch import nn
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.multiprocessing.reductions import StorageWeakRef

from planner.measure.case import MeasureCase, SavedRecord, Trace
from planner.measure.hfmodel import build_model, enable_checkpointing, hf_config

_NON_LAYER = {
    "embed_tokens": "embedding",
    "wte": "embedding",
    "wpe": "embedding",
    "drop": "embedding",
    "rotary_emb": "shared",
    "norm": "final_norm",
    "ln_f": "final_norm",
    "lm_head": "lm_head",
}


class _Recorder:
    def __init__(self, model: nn.Module, layers: nn.ModuleList, autocast: bool):
        self.model, self.autocast = model, autocast
        self.layer_of = {id(m): i for i, m in enumerate(layers)}
        self.skip = {StorageWeakRef(t.untyped_storage()) for t in model.parameters()}
        self.skip |= {StorageWeakRef(t.untyped_storage()) for t in model.buffers()}
        self.stack: list[tuple[str, nn.Module]] = []
        self.first: dict[StorageWeakRef, dict[str, Any]] = {}
        self.layers_saving: dict[StorageWeakRef, set[int]] = {}
        self.lm_head_done = False

    def _where(self) -> tuple[str, int | None]:
        for _name, mod in reversed(self.stack):
            if id(mod) in self.layer_of:
                return "layer", self.layer_of[id(mod)]
        for name, _ in self.stack:
            part = _NON_LAYER.get(name.rsplit(".", 1)[-1])
            if part:
                return part, None
        return ("loss" if self.lm_head_done else "embedding"), None

    def record(self, t: torch.Tensor, kind: str = "activation") -> None:
        key = StorageWeakRef(t.untyped_storage())
        if key in self.skip:
            return
        part, layer = self._where()
        if layer is not None:
            self.layers_saving.setdefault(key, set()).add(layer)
        if key in self.first:
            return
        module = self.stack[-1][1] if self.stack else None
        weight = getattr(module, "weight", None)
        if (
            self.autocast
            and isinstance(weight, torch.Tensor)
            and t.numel() == weight.numel()
            and t.dtype != weight.dtype
        ):
            kind = "weight_copy"
        self.first[key] = {
            "part": part,
            "layer": layer,
            "module": self.stack[-1][0] if self.stack else "",
            "shape": tuple(int(d) for d in t.shape),
            "dtype": str(t.dtype).replace("torch.", ""),
            "bytes": int(t.untyped_storage().nbytes()),
            "kind": kind,
        }

    def pack(self, t: torch.Tensor) -> torch.Tensor:
        self.record(t)
        return t

    @contextlib.contextmanager
    def module_hooks(self) -> Iterator[None]:
        handles = []
        for name, mod in self.model.named_modules():
            handles.append(mod.register_forward_pre_hook(self._enter(name, mod)))
            handles.append(mod.register_forward_hook(self._leave(name), always_call=True))
        try:
            yield
        finally:
            for h in handles:
                h.remove()

    def _enter(self, name: str, mod: nn.Module) -> Callable[..., None]:
        def hook(*_: Any) -> None:
            self.stack.append((name, mod))

        return hook

    def _leave(self, name: str) -> Callable[..., None]:
        def hook(*_: Any) -> None:
            self.stack.pop()
            if name.rsplit(".", 1)[-1] == "lm_head":
                self.lm_head_done = True

        return hook

    def wrap_checkpoint(self, layers: nn.ModuleList) -> None:
        """Record the tensors each checkpointed layer call keeps (its args and
        the keyword arguments bound in HF's ``partial``)."""
        for layer in layers:
            inner = layer._gradient_checkpointing_func

            def wrapped(fn: Any, *args: Any, _inner: Any = inner, **kw: Any) -> Any:
                bound = list(args) + list(getattr(fn, "keywords", {}).values()) + list(kw.values())
                for t in _tensors(bound):
                    self.record(t, "checkpoint_input")
                return _inner(fn, *args, **kw)

            # torch types Module attribute assignment for tensors and modules only.
            layer._gradient_checkpointing_func = wrapped  # type: ignore[assignment]

    def records(self) -> tuple[SavedRecord, ...]:
        out = []
        for key, r in self.first.items():
            if len(self.layers_saving.get(key, ())) > 1:
                r = {**r, "part": "shared", "layer": None}
            out.append(SavedRecord(**r))
        return tuple(out)


def _tensors(values: list[Any]) -> Iterator[torch.Tensor]:
    for v in values:
        if isinstance(v, torch.Tensor):
            yield v
        elif isinstance(v, tuple | list):
            yield from _tensors(list(v))


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    base = cast(nn.Module, getattr(model, "model", None) or model.transformer)
    return cast(nn.ModuleList, base.layers if hasattr(base, "layers") else base.h)


def trace(case: MeasureCase, fake: bool = True, seed: int = 0) -> Trace:
    """Run one training forward pass (loss included, labels = input ids) of
    the HF model for ``case`` and return every storage saved for backward.
    ``fake=False`` allocates real CPU tensors (small models only)."""
    start = time.perf_counter()
    quiet = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # config notes about tiny vocabularies
    try:
        return _trace(case, fake, seed, start)
    finally:
        transformers.logging.set_verbosity(quiet)


def _trace(case: MeasureCase, fake: bool, seed: int, start: float) -> Trace:
    torch.manual_seed(seed)
    dtype = getattr(torch, case.weight_dtype)
    config = hf_config(case.arch, case.attention, case.dropout, case.seq)
    mode = FakeTensorMode() if fake else contextlib.nullcontext()
    with mode:
        model = build_model(case.arch, config, dtype)
        if case.finetuning is not None:
            from planner.measure.peftmodel import add_lora

            add_lora(model, case.finetuning, getattr(torch, case.adapter_dtype))
        layers = decoder_layers(model)
        rec = _Recorder(model, layers, case.autocast)
        if case.traced_recompute == "full":
            enable_checkpointing(model)
            rec.wrap_checkpoint(layers)
        ids = torch.randint(0, case.arch.vocab_size, (case.micro_batch, case.seq))
        cast = torch.autocast("cpu", torch.bfloat16, enabled=case.autocast)
        hooks = torch.autograd.graph.saved_tensors_hooks(rec.pack, _unpack)
        with rec.module_hooks(), hooks, cast, _as_in_a_real_run(fake):
            out = model(input_ids=ids, labels=ids)
        records = rec.records()
        del out
    return Trace(records, case.arch.num_layers, time.perf_counter() - start, fake)


@contextlib.contextmanager
def _as_in_a_real_run(fake: bool) -> Iterator[None]:
    """Under fake tensors transformers cannot read the position ids, so
    ``masking_utils.find_packed_sequence_indices`` assumes packed sequences
    and a materialised causal mask (which SDPA would then save). For our
    inputs (positions 0..s-1, one sequence per row) a real run finds no
    packing and uses SDPA's ``is_causal``; we give the fake run that answer."""
    import transformers.masking_utils as mu

    if not fake or not hasattr(mu, "find_packed_sequence_indices"):
        yield
        return
    original = mu.find_packed_sequence_indices
    mu.find_packed_sequence_indices = lambda position_ids: None
    try:
        yield
    finally:
        mu.find_packed_sequence_indices = original


def _unpack(t: torch.Tensor) -> torch.Tensor:
    return t
