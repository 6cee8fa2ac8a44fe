"""Resolve a validated ``SpecFile`` into the frozen ``Spec`` the engine uses:
presets looked up, HF configs read, GPUs taken from the catalog, defaults
filled in. Problems are returned (not raised) so the loader reports them all.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from planner.architecture import Architecture
from planner.catalog import Gpu, MfuDefaults, gib_to_bytes, gpu_catalog, model_presets
from planner.errors import Problem
from planner.families import COUNT_ONLY_FAMILY, FAMILIES, get_family
from planner.families.base import COMMON_REQUIRED
from planner.pricing import Pricing
from planner.spec.costs import energy_facts, resolve_pricing
from planner.spec.hf_config import fields_from_hf_config
from planner.spec.safe_yaml import read_json_config
from planner.spec.schema import (
    AssumptionsSection,
    ClusterSection,
    ConstraintsSection,
    GpuSection,
    InferenceSection,
    ModelSection,
    ParallelismSection,
    ReportSection,
    SpecFile,
    TrainingSection,
)

GPU_ALIASES = {
    "h100": "h100-sxm",
    "h100-80gb": "h100-sxm",
    "a100": "a100-80gb",
    "a100-80gb-sxm": "a100-80gb",
    "a100-40gb-sxm": "a100-40gb",
    "h200-sxm": "h200",
    "v100": "v100-sxm2-32gb",
    "4090": "rtx-4090",
}


OWNED_SOURCE = "ownership"  # price_source under pricing model owned
ON_DEMAND = Pricing()  # the default: GPU-hours x price


@dataclass(frozen=True)
class ClusterChoice:
    """One candidate GPU type with the cluster facts resolved for it."""

    gpu: Gpu
    gpus_per_node: int
    max_gpus: int
    price_per_gpu_hour: float | None
    price_source: str  # "spec" or the catalog's indicative note
    mfu: MfuDefaults
    mfu_source: str
    host_memory_bytes: int = 1024 * 2**30  # host RAM per node (CPU offload)
    host_memory_source: str = ""
    max_gpus_given: bool = False  # cluster.max_gpus set in the spec (a serving search's cap)
    # How GPU time is paid for (planner/pricing.py); price_per_gpu_hour above
    # is its price per GPU-hour (on-demand less the discount, or owned).
    pricing: Pricing = ON_DEMAND
    kw_per_gpu: float | None = None  # GPU + its share of the node, at maximum power
    pue: float = 1.0
    energy_source: str = ""
    carbon_kg_per_kwh: float | None = None  # cluster.carbon_kg_per_kwh

    @property
    def price_is_indicative(self) -> bool:
        return self.price_source not in ("spec", OWNED_SOURCE)


@dataclass(frozen=True)
class Spec:
    name: str
    title: str
    description: str
    model: Architecture
    training: TrainingSection | None
    inference: InferenceSection | None
    clusters: tuple[ClusterChoice, ...]
    constraints: ConstraintsSection
    objective: str
    assumptions: AssumptionsSection
    parallelism: ParallelismSection | None
    report: ReportSection
    source: str

    @property
    def cluster(self) -> ClusterChoice:
        """The first (or only) candidate GPU type."""
        return self.clusters[0]

    @property
    def global_batch_size(self) -> int:
        t = self.training
        assert t is not None
        return t.global_batch_size or t.micro_batch_size


def _near(word: str, options: list[str]) -> str:
    near = difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    return f" (did you mean `{near[0]}`?)" if near else ""


_ARCH_FIELDS = tuple(k for k in ModelSection.model_fields if k not in ("preset", "hf_config"))


def _model_fields(m: ModelSection, base_dir: Path, problems: list[Problem]) -> dict[str, Any]:
    """Merge preset / hf_config fields with the spec's own overrides."""
    fields: dict[str, Any] = {}
    if m.preset:
        presets = model_presets()
        if m.preset not in presets:
            problems.append(
                Problem(
                    "model.preset",
                    f"unknown model preset {m.preset!r}{_near(m.preset, list(presets))};"
                    " see `planner presets`",
                )
            )
            return {}
        # Presets are model mappings too: validate them like a spec's own.
        fields.update(ModelSection.model_validate(presets[m.preset]).model_dump(exclude_none=True))
        fields.setdefault("title", m.preset)
        fields["_name"] = m.preset
        preset_hf = presets[m.preset].get("hf_config")
        if preset_hf:  # a preset of a family whose fields only a config.json carries
            hf = _hf_fields(DATA_DIR / preset_hf, m.architecture, problems)
            if not hf:
                return {}
            fields.update({k: v for k, v in hf.items() if k != "_name"})
    if m.hf_config:
        hf = _hf_fields((base_dir / m.hf_config).resolve(), m.architecture, problems)
        if not hf:
            return {}
        fields.update(hf)
    for key in _ARCH_FIELDS:
        value = getattr(m, key)
        if value is not None:
            fields[key] = value
    return fields


DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _hf_fields(path: Path, family: str | None, problems: list[Problem]) -> dict[str, Any]:
    """Spec model fields from a config.json, named from its ``_name_or_path``
    or the file's stem; {} after recording the problem."""
    try:
        cfg = read_json_config(path)
        if not isinstance(cfg, dict):
            raise ValueError("the file is not a JSON object")
        fields = fields_from_hf_config(cfg, family)
    except FileNotFoundError:
        problems.append(Problem("model.hf_config", f"file not found: {path}"))
        return {}
    except (ValueError, OSError) as exc:
        problems.append(Problem("model.hf_config", f"cannot import {path}: {exc}"))
        return {}
    fields["_name"] = str(cfg.get("_name_or_path") or path.stem)
    fields["_from_config"] = True
    return fields


def _frozen(value: Any) -> Any:
    """Lists (and lists in mappings) as tuples, so a record stays hashable."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def _architecture(m: ModelSection, base_dir: Path, problems: list[Problem]) -> Architecture | None:
    f = _model_fields(m, base_dir, problems)
    if not f:
        if not problems:
            problems.append(Problem("model", "give `preset`, `architecture` or `hf_config`"))
        return None
    family = f.get("architecture")
    count_only = f.get("parameters") is not None
    notes: list[str] = []
    if family is None and count_only:
        family = COUNT_ONLY_FAMILY
        notes.append(
            f"architecture: the {family} block (not given; a model given by its parameter"
            " count, whose shape serves the activation and FLOP formulas only)"
        )
    if family is None:
        problems.append(
            Problem(
                "model.architecture",
                f"required for a custom model: {', '.join(FAMILIES)} (or give `parameters`"
                " with hidden_size, num_layers and num_attention_heads, the seed's way:"
                f" the {COUNT_ONLY_FAMILY} block is then assumed)",
            )
        )
        return None
    fam = get_family(family)
    if fam.config_only and "_details" not in f and not f.get("_from_config"):
        problems.append(
            Problem(
                "model.architecture",
                f"{family!r} models are read from their config.json: give `hf_config`"
                " (or a preset), then override fields if needed",
            )
        )
        return None
    if count_only:
        assumed = fam.count_only_defaults(f)
        f.update(assumed)
        notes += [f"{k}: {v:,} (not given)" for k, v in assumed.items()]
    required = [*COMMON_REQUIRED, *fam.required]
    missing = [k for k in required if f.get(k) is None]
    for k in missing:
        problems.append(Problem(f"model.{k}", f"required for architecture {family!r}"))
    if missing:
        return None
    h, heads = f["hidden_size"], f["num_attention_heads"]
    kv = f.get("num_key_value_heads") or heads
    if f.get("head_dim") is None and h % heads:
        problems.append(
            Problem(
                "model.num_attention_heads",
                f"hidden_size {h} is not divisible by {heads} heads; give `head_dim`",
            )
        )
    if heads % kv:
        problems.append(
            Problem(
                "model.num_key_value_heads",
                f"must divide num_attention_heads ({heads}); got {kv}",
            )
        )
    experts = f.get("num_local_experts") or 1
    if (f.get("num_experts_per_tok") or 1) > experts:
        problems.append(
            Problem("model.num_experts_per_tok", f"must be <= num_local_experts ({experts})")
        )
    attn_bias = f.get("attention_bias", fam.default_biases)
    if problems:
        return None
    return Architecture(
        name=f.get("_name") or f.get("title") or ("custom (by count)" if count_only else family),
        family=family,
        hidden_size=h,
        num_layers=f["num_layers"],
        num_attention_heads=heads,
        num_key_value_heads=kv,
        head_dim=f.get("head_dim") or h // heads,
        intermediate_size=f.get("intermediate_size") or 4 * h,
        vocab_size=f["vocab_size"],
        tie_word_embeddings=f.get("tie_word_embeddings", fam.default_tie_word_embeddings),
        max_position_embeddings=f.get("max_position_embeddings") or 4096,
        hidden_act=f.get("hidden_act") or fam.default_hidden_act,
        attention_bias=attn_bias,
        attention_out_bias=f.get("attention_out_bias", attn_bias),
        mlp_bias=f.get("mlp_bias", fam.default_biases),
        norm=fam.norm,
        position=fam.position,
        num_local_experts=experts,
        num_experts_per_tok=f.get("num_experts_per_tok") or 1,
        sliding_window=f.get("sliding_window"),
        qk_norm=bool(f.get("qk_norm", False)),
        layer_types=tuple(f.get("layer_types") or ()),
        details=_frozen(f.get("_details") or {}),
        parameters=f.get("parameters"),
        published_parameters=f.get("published_parameters"),
        source=f.get("hf_id") or "",
        notes=tuple(notes),
    )


def _gpu(g: GpuSection, where: str, problems: list[Problem]) -> Gpu | None:
    cat = gpu_catalog()
    if g.preset:
        key = GPU_ALIASES.get(g.preset.lower(), g.preset.lower())
        if key not in cat:
            problems.append(
                Problem(
                    where,
                    f"unknown GPU {g.preset!r}{_near(key, list(cat))}; see `planner presets`",
                )
            )
            return None
        base = cat[key]
    else:
        need = ["name", "memory_gib", "dense_tflops", "memory_bandwidth_gb_s"]
        missing = [k for k in need if getattr(g, k) is None]
        for k in missing:
            problems.append(Problem(f"{where}.{k}", "required for a GPU not in the catalog"))
        if missing:
            return None
        assert g.name is not None and g.memory_gib is not None
        base = Gpu(
            key=g.name.lower().replace(" ", "-"),
            name=g.name,
            vendor="custom",
            memory_bytes=gib_to_bytes(g.memory_gib),
            memory_gb_marketed=g.memory_gib,
            dense_tflops={},
            memory_bandwidth_gb_s=0.0,
            intra_node_gb_s=g.intra_node_gb_s or 32.0,
            nvlink_domain_gpus=g.nvlink_domain_gpus or 1,
            inter_node_gb_s=g.inter_node_gb_s or 12.5,
            pcie_gb_s=g.pcie_gb_s or 32.0,
            gpus_per_node=8,
            default_mfu=MfuDefaults(0.25, 0.35, 0.45),
            price_per_gpu_hour=None,
            price_note="",
            purchase_price_usd=None,
            sources=("spec",),
        )
    changes: dict[str, Any] = {}
    if g.name and g.preset:
        changes["name"] = g.name
    if g.memory_gib is not None:
        changes["memory_bytes"] = gib_to_bytes(g.memory_gib)
    if g.dense_tflops is not None:
        tf = dict(base.dense_tflops)
        tf.update({k: v for k, v in g.dense_tflops.model_dump().items() if v is not None})
        changes["dense_tflops"] = tf
    for key in ("memory_bandwidth_gb_s", "intra_node_gb_s", "inter_node_gb_s", "pcie_gb_s"):
        if getattr(g, key) is not None:
            changes[key] = getattr(g, key)
    if g.nvlink_domain_gpus is not None:
        changes["nvlink_domain_gpus"] = g.nvlink_domain_gpus
    return replace(base, **changes) if changes else base


# Host RAM per node when the spec gives none (ASSUMPTION: the NVIDIA DGX
# system of that GPU; DGX memory is built from DIMMs, so its "TB" is TiB):
# DGX H100 and DGX H200 datasheets, "System memory 2TB"; DGX A100 datasheet,
# "System memory 1TB" (2TB on the 640 GB model), the default for the rest.
HOST_MEMORY_GIB_DEFAULT = 1024.0
HOST_MEMORY_GIB_BY_GPU = {"h100-sxm": 2048.0, "h200": 2048.0}


def _host_memory_gib(c: ClusterSection, gpu_key: str) -> tuple[float, str]:
    if c.host_memory_per_node is not None:
        return c.host_memory_per_node, "spec"
    if gpu_key in HOST_MEMORY_GIB_BY_GPU:
        return HOST_MEMORY_GIB_BY_GPU[gpu_key], "default: DGX H100/H200 datasheet, 2 TB"
    return HOST_MEMORY_GIB_DEFAULT, "default: DGX A100 datasheet, 1 TB (assumption)"


def _cluster(
    c: ClusterSection, a: AssumptionsSection, problems: list[Problem]
) -> list[ClusterChoice]:
    out = []
    for i, g in enumerate(c.gpu):
        where = "cluster.gpu" if len(c.gpu) == 1 else f"cluster.gpu[{i}]"
        gpu = _gpu(g, where, problems)
        if gpu is None:
            continue
        per_node = c.gpus_per_node or gpu.gpus_per_node
        max_gpus = c.max_gpus or per_node
        price: float | None
        if g.price_per_gpu_hour is not None:
            price, price_src = g.price_per_gpu_hour, "spec"
        elif c.price_per_gpu_hour is not None:
            price, price_src = c.price_per_gpu_hour, "spec"
        else:
            price, price_src = gpu.price_per_gpu_hour, gpu.price_note or "no price known"
        if c.mfu is not None:
            e = c.mfu.expected
            lo = c.mfu.low if c.mfu.low is not None else e * (1 - a.mfu_spread)
            hi = c.mfu.high if c.mfu.high is not None else min(e * (1 + a.mfu_spread), 1.0)
            mfu, mfu_src = MfuDefaults(lo, e, hi), "spec"
        else:
            mfu, mfu_src = gpu.default_mfu, f"catalog default for {gpu.key} (assumption)"
        host_gib, host_src = _host_memory_gib(c, gpu.key)
        host = gib_to_bytes(host_gib)
        pricing = resolve_pricing(c, gpu, per_node, price, problems)
        if pricing.model == "owned":
            price_src = OWNED_SOURCE
        rate = pricing.usd_per_gpu_hour
        kw, pue, energy_src = energy_facts(c, gpu, per_node, pricing)
        choice = ClusterChoice(gpu, per_node, max_gpus, rate, price_src, mfu, mfu_src)
        out.append(
            replace(
                choice,
                host_memory_bytes=host,
                host_memory_source=host_src,
                max_gpus_given=c.max_gpus is not None,
                pricing=pricing,
                kw_per_gpu=kw,
                pue=pue,
                energy_source=energy_src,
                carbon_kg_per_kwh=c.carbon_kg_per_kwh,
            )
        )
    return out


def _workload_checks(raw: SpecFile, arch: Architecture, problems: list[Problem]) -> None:
    t = raw.training
    if t is not None:
        if arch.position == "learned" and t.sequence_length > arch.max_position_embeddings:
            problems.append(
                Problem(
                    "training.sequence_length",
                    f"exceeds the model's learned positions ({arch.max_position_embeddings})",
                )
            )
        if t.optimizer == "adafactor" and arch.by_count_only:
            problems.append(
                Problem(
                    "training.optimizer",
                    "adafactor's factored states need each matrix's shape; give the model's"
                    " architecture instead of only `parameters`",
                )
            )
    inf = raw.inference
    if inf is not None and raw.constraints.max_days is not None:
        problems.append(
            Problem(
                "constraints.max_days",
                "does not apply to an inference spec (serving has no end date); give"
                " constraints.max_budget_usd (USD per 30-day month of serving) or inference.slo",
            )
        )
    if inf is not None and inf.slo is not None and inf.traffic is None:
        problems.append(
            Problem("inference.slo", 'needs inference.traffic (requests_per_second or "max")')
        )
    if inf is not None and arch.position == "learned":
        n = inf.prompt_p99 + inf.generated_tokens
        if n > arch.max_position_embeddings:
            problems.append(
                Problem(
                    "inference.generated_tokens",
                    f"prompt + generated = {n} exceeds the model's learned positions"
                    f" ({arch.max_position_embeddings})",
                )
            )


def resolve(raw: SpecFile, filename: str, base_dir: Path) -> tuple[Spec | None, list[Problem]]:
    problems: list[Problem] = []
    arch = _architecture(raw.model, base_dir, problems)
    clusters = _cluster(raw.cluster, raw.assumptions, problems)
    if arch is not None:
        _workload_checks(raw, arch, problems)
    if problems or arch is None:
        return None, problems
    spec = Spec(
        name=raw.name,
        title=raw.title or raw.name,
        description=raw.description or "",
        model=arch,
        training=raw.training,
        inference=raw.inference,
        clusters=tuple(clusters),
        constraints=raw.constraints,
        objective=raw.objective,
        assumptions=raw.assumptions,
        parallelism=raw.parallelism,
        report=raw.report,
        source=filename,
    )
    return spec, []
