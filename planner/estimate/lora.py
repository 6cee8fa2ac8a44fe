"""LoRA and QLoRA: the adapter tensors, and the frozen base's storage.

LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language
Models", s4.1): a frozen linear weight W (out x in) gets a trainable update
B A with A (r x in) and B (out x r), so r x (in + out) trainable parameters
per adapted weight. PEFT builds exactly these two ``nn.Linear`` modules
without bias (peft/tuners/lora/layer.py ``LoraLayer.update_layer``:
``nn.Linear(self.in_features, r, bias=False)``, ``nn.Linear(r,
self.out_features, bias=False)``). ``target_modules: all-linear`` adapts
every linear layer except the output layer (peft/tuners/tuners_utils.py
``_maybe_include_all_linear_layers``). ``trainable_extra`` are PEFT's
``modules_to_save``: a trainable deep copy of the module next to the frozen
original (peft/utils/other.py ``ModulesToSaveWrapper.update``:
``copy.deepcopy(self.original_module)``, ``original_module.requires_grad_(False)``),
so its weights are counted twice.

The frozen base (``base_precision``):

* ``bf16`` / ``fp16``: 2 bytes per parameter.
* ``nf4`` / ``fp4`` (bitsandbytes ``Linear4bit``; Dettmers et al. 2023,
  "QLoRA", s3): every linear weight of the layers (not the LM head, which
  transformers keeps in 16 bits, nor embeddings and norms) is packed two
  values per byte, ``(n + 1) // 2`` bytes, with one fp32 absmax per block
  of 64 values (bitsandbytes/backends/cuda/ops.py ``quantize_4bit``:
  ``blocks = -(n // -blocksize)``, ``absmax`` float32; functional.py
  ``quantize_4bit`` default ``blocksize = 64``) and its 16-entry fp32 code
  (``get_4bit_type``). Double quantization (``compress_statistics``)
  stores ``absmax - mean`` as uint8 in blocks of 256 (``quantize_blockwise(...,
  blocksize=256)``) with one fp32 absmax per 256 blocks, the fp32 mean and a
  copy of the 256-entry fp32 dynamic code (``code.to(..., copy=True)``).
  Per parameter that is 4 + 32/64 = 4.5 bits, or 4 + 8/64 + 32/(64 x 256)
  = 4.127 bits with double quantization (QLoRA s3, "Double Quantization").
* ``int8`` (LLM.int8, ``Linear8bitLt`` / ``Int8Params``): int8 weights and
  one fp32 scale per output row (``int8_vectorwise_quant``: ``SCB``).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.architecture import Architecture, ParamTensor
from planner.estimate.saved import LoraActs
from planner.spec.schema import FinetuningSection

NF4_BLOCK = 64  # bitsandbytes quantize_4bit default blocksize
DQ_BLOCK = 256  # double quantization: blocks of absmax values
NF4_CODE_BYTES = 16 * 4  # get_4bit_type: 16 fp32 values per quantized weight
DYNAMIC_CODE_BYTES = 256 * 4  # the nested state's copy of the 8-bit dynamic map
QUANTIZED_KINDS = ("linear",)  # transformers' bnb integration: nn.Linear, not lm_head


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def four_bit_bytes(numel: int, double_quant: bool) -> int:
    """Bytes of one weight matrix of ``numel`` values in nf4 / fp4 (module
    docstring): packed values, absmax constants and code tables."""
    blocks = _ceil(numel, NF4_BLOCK)
    packed = (numel + 1) // 2
    if not double_quant:
        return packed + 4 * blocks + NF4_CODE_BYTES
    nested = blocks + 4 * _ceil(blocks, DQ_BLOCK) + 4 + DYNAMIC_CODE_BYTES
    return packed + nested + NF4_CODE_BYTES


def int8_bytes(rows: int, cols: int) -> int:
    """LLM.int8 weight: one byte per value, one fp32 scale per output row."""
    return rows * cols + 4 * rows


def base_tensor_bytes(t: ParamTensor, base: str, double_quant: bool) -> int:
    """Bytes of a frozen base tensor stored as ``base`` (all its copies)."""
    if base in ("nf4", "fp4", "int8") and t.kind in QUANTIZED_KINDS:
        per = t.numel // t.count
        if base == "int8":
            return t.count * int8_bytes(t.shape[0], per // t.shape[0])
        return t.count * four_bit_bytes(per, double_quant)
    return 2 * t.numel  # bf16 / fp16, and what 4/8-bit bases keep in 16 bits


@dataclass(frozen=True)
class Adapters:
    """The resolved fine-tuning method: adapter and extra tensors, and how
    the frozen base is stored."""

    method: str
    rank: int
    base: str  # bf16 | fp16 | nf4 | fp4 | int8
    double_quant: bool
    dropout: float
    target_names: tuple[str, ...]  # HF module names adapted (PEFT target_modules)
    targets: tuple[ParamTensor, ...]  # the adapted base weights
    adapters: tuple[ParamTensor, ...]  # lora_A, lora_B per target
    extra: tuple[ParamTensor, ...]  # trainable copies (modules_to_save)

    @property
    def adapter_parameters(self) -> int:
        return sum(t.numel for t in self.adapters)

    @property
    def quantized(self) -> bool:
        return self.base in ("nf4", "fp4", "int8")

    def largest_quantized_weight(self, tensors: tuple[ParamTensor, ...]) -> int:
        """Elements of the largest single quantized weight (0 unless 4/8-bit):
        bitsandbytes dequantizes one such weight to 16 bits per matmul."""
        if not self.quantized:
            return 0
        return max((t.numel // t.count for t in tensors if t.kind in QUANTIZED_KINDS), default=0)


def linear_names(a: Architecture) -> dict[str, list[ParamTensor]]:
    """The model's adaptable linear weights by their HF module name (from
    the family), experts excluded."""
    fam = a.family_impl
    out: dict[str, list[ParamTensor]] = {}
    for t in fam.parameter_tensors(a):
        name = fam.peft_module_name(t)
        if name is not None:
            out.setdefault(name, []).append(t)
    return out


def module_names(a: Architecture) -> list[str]:
    """Names ``target_modules`` and ``trainable_extra`` may use."""
    fam = a.family_impl
    extra = [n for n in (fam.peft_module_name(t) for t in fam.parameter_tensors(a)) if n]
    return sorted(set(extra) | {"lm_head", "embed_tokens"})


def _extra_tensors(a: Architecture, names: list[str]) -> list[ParamTensor]:
    fam = a.family_impl
    tensors = fam.parameter_tensors(a)
    out: list[ParamTensor] = []
    for name in names:
        if name == "embed_tokens" or (name == "lm_head" and a.tie_word_embeddings):
            picked = [t for t in tensors if t.name == "embed_tokens"]
        elif name == "lm_head":
            picked = [t for t in tensors if t.kind == "lm_head"]
        else:
            picked = linear_names(a).get(name, [])
        for t in picked:
            copy = ParamTensor(f"modules_to_save.{t.name}", t.shape, t.kind, t.count, t.expert)
            if copy not in out:
                out.append(copy)
    return out


def adapters_for(a: Architecture, ft: FinetuningSection) -> Adapters:
    """The adapter tensors ``ft`` adds to ``a`` (names checked at validation:
    planner/spec/crosscheck.py)."""
    by_name = linear_names(a)
    if ft.target_modules == "all-linear":
        wanted = list(by_name)
    else:
        wanted = list(dict.fromkeys(ft.target_modules))
    targets: list[ParamTensor] = []
    for name in wanted:
        targets += [t for t in by_name.get(name, []) if t not in targets]
    r = ft.rank
    adapters: list[ParamTensor] = []
    for t in targets:
        out_f, in_f = t.shape
        adapters.append(ParamTensor(f"{t.name}.lora_A", (r, in_f), "adapter", t.count))
        adapters.append(ParamTensor(f"{t.name}.lora_B", (out_f, r), "adapter", t.count))
    extra = _extra_tensors(a, list(dict.fromkeys(ft.trainable_extra)))
    return Adapters(
        ft.method, r, ft.base, ft.double_quant, ft.dropout, tuple(wanted),
        tuple(targets), tuple(adapters), tuple(extra),
    )  # fmt: skip


def lora_acts(a: Architecture, ft: FinetuningSection | None) -> LoraActs | None:
    """The activation profile's view of ``ft`` (None: full training)."""
    if ft is None:
        return None
    if ft.target_modules == "all-linear":
        targets = frozenset(linear_names(a))
    else:
        targets = frozenset(ft.target_modules)
    extra = set(ft.trainable_extra)
    tied = a.tie_word_embeddings
    return LoraActs(
        targets=targets,
        rank=ft.rank,
        dropout=ft.dropout,
        embedding_trains="embed_tokens" in extra or (tied and "lm_head" in extra),
        lm_head_trains="lm_head" in extra or (tied and "embed_tokens" in extra),
    )
