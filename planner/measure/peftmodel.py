"""Wrap the traced Hugging Face model in PEFT LoRA adapters (``planner
measure`` for a spec with ``training.finetuning``).

``peft.get_peft_model`` on the model built under ``FakeTensorMode``
(planner/measure/trace.py): PEFT creates ``lora_A`` / ``lora_B`` as
``nn.Linear`` modules and then moves them with ``Module.to`` to the base
layer's device and dtype (peft/tuners/tuners_utils.py
``_move_adapter_to_device_of_base_layer``; peft/tuners/lora/model.py
``_replace_module``). Under fake tensors ``Module._apply`` swaps parameter
objects (``torch.utils.swap_tensors``), which fails for parameters that
fake-tensor bookkeeping holds weak references to. So while the adapters
are injected, a ``Module.to`` that changes nothing is skipped, and the
adapters are created directly in the dtype the training precision gives
them (``adapter_dtype``), as ``autocast_adapter_dtype=False`` with that
dtype would leave them. ``modules_to_save`` deep-copies the module
(peft/utils/other.py ``ModulesToSaveWrapper.update``), which under fake
tensors makes a second fake mode; the copy of an ``nn.Linear`` or
``nn.Embedding`` is built as a new module of the same shape and dtype
instead (its values do not matter to a trace). Nothing of a real run's
forward pass is changed.

QLoRA is traced with a 16-bit base: bitsandbytes' 4-bit layers need CUDA
kernels that neither fake tensors nor the CPU run. Their autograd function
saves only the packed weight for backward (bitsandbytes/autograd/_functions.py
``MatMul4Bit.forward``: ``ctx.tensors = (None, B)``), as a frozen
``nn.Linear`` saves only its weight, so the saved activations are the same;
the 4-bit storage and the dequantized temporary are derived, not measured
(docs/assumptions.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from planner.spec.schema import FinetuningSection


class _FreshCopy:
    """Stands in for the ``copy`` module in peft.utils.other (docstring)."""

    @staticmethod
    def deepcopy(m: Any, memo: Any = None) -> Any:
        if isinstance(m, nn.Linear):
            w = m.weight
            return nn.Linear(m.in_features, m.out_features, m.bias is not None, w.device, w.dtype)
        if isinstance(m, nn.Embedding):
            w = m.weight
            return nn.Embedding(m.num_embeddings, m.embedding_dim, device=w.device, dtype=w.dtype)
        import copy

        return copy.deepcopy(m, memo)


@contextlib.contextmanager
def _no_op_moves(dtype: torch.dtype) -> Iterator[None]:
    import peft.tuners.tuners_utils as tu
    import peft.utils.other as other

    original_to = nn.Module.to
    original_move = tu.BaseTunerLayer._move_adapter_to_device_of_base_layer
    old_dtype = torch.get_default_dtype()

    def to(self: nn.Module, *args: Any, **kwargs: Any) -> nn.Module:
        device, want, *_ = torch._C._nn._parse_to(*args, **kwargs)
        tensors = [*self.parameters(), *self.buffers()]
        if all(
            (device is None or t.device == device) and (want is None or t.dtype == want)
            for t in tensors
        ):
            return self
        return original_to(self, *args, **kwargs)

    nn.Module.to = to  # type: ignore[method-assign,assignment]
    tu.BaseTunerLayer._move_adapter_to_device_of_base_layer = (  # type: ignore[method-assign]
        lambda self, *a, **k: None
    )
    original_copy = other.copy
    other.copy = _FreshCopy  # type: ignore[assignment]
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        other.copy = original_copy
        nn.Module.to = original_to  # type: ignore[method-assign]
        tu.BaseTunerLayer._move_adapter_to_device_of_base_layer = original_move  # type: ignore[method-assign]
        torch.set_default_dtype(old_dtype)


def add_lora(model: nn.Module, ft: FinetuningSection, adapter_dtype: torch.dtype) -> nn.Module:
    """Inject LoRA adapters into ``model`` in place (PEFT's ``LoraConfig``
    with the spec's rank, alpha, dropout, targets and modules_to_save) and
    return it; base parameters are frozen by PEFT."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=ft.rank,
        lora_alpha=ft.alpha,  # type: ignore[arg-type]  # PEFT annotates int; scaling = alpha / r
        lora_dropout=ft.dropout,
        target_modules=ft.target_modules,
        modules_to_save=list(ft.trainable_extra) or None,
    )
    with _no_op_moves(adapter_dtype):
        get_peft_model(model, config, autocast_adapter_dtype=False)
    model.train()
    return model
