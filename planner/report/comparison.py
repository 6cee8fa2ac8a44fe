"""Section 3: the seed document's two methods side by side (the report calls
its simplified one the back-of-envelope method), each difference in one
sentence, the document's known mistakes where they apply (shared/SEED.md,
"What it gets wrong"), and the precision strategies in bytes per parameter.

Input: the JSON of ``planner estimate`` (planner.engine.to_dict)."""

from __future__ import annotations

from typing import Any

from planner.report.records import Note, Table, gib, gib_gb
from planner.spec.model import Spec
from planner.units import GB, fmt_bytes, fmt_count, fmt_int

SEED_CASE = {"micro_batch": 32, "seq": 2048, "hidden": 4096, "layers": 32}
ADAM = ("adam", "adamw", "paged-adamw")


def comparison_table(e: dict[str, Any]) -> Table:
    s, p = e["memory"]["simplified"], e["memory"]["precise"]
    rows = [
        ("master weights (fp32)", gib(0), gib(p["master_weights"])),
        ("working weights", gib(s["weights"]), gib(p["weights"])),
        ("gradients", gib(s["gradients"]), gib(p["gradients"])),
        ("optimizer states", gib(s["optimizer_states"]), gib(p["optimizer_states"])),
        ("activations", gib(s["activations"]), gib(p["activations"])),
        ("temporary buffers", gib(0), gib(p["temporary"])),
        ("runtime overhead", gib(0), gib(p["runtime_overhead"])),
        ("total", gib(s["total"]), gib(p["total"])),
    ]
    return Table(("component", "back-of-envelope", "precise"), tuple(rows))


def _largest_saved(p: dict[str, Any], n: int = 3) -> str:
    items = sorted(p["activation_detail"]["per_layer"], key=lambda i: -i["bytes"])[:n]
    return ", ".join(f"{i['name']} {gib(i['bytes'])}" for i in items)


def differences(e: dict[str, Any], spec: Spec) -> list[Note]:
    """One sentence per component where the methods differ."""
    p, s = e["memory"]["precise"], e["memory"]["simplified"]
    t = spec.training
    assert t is not None
    det = p["activation_detail"]
    names = ", ".join(f"{i['name']} {gib(i['bytes'])}" for i in p["temporary_detail"])
    over = ", ".join(f"{i['name']} {gib(i['bytes'])}" for i in p["overhead_detail"])
    return [
        Note(
            "Master weights",
            f"Mixed precision updates an fp32 copy of the weights ({gib(p['master_weights'])}),"
            " because 16-bit numbers cannot hold small updates (Micikevicius et al. 2018);"
            " the back-of-envelope method leaves it out.",
        ),
        Note(
            "Optimizer states",
            f"{t.optimizer} keeps its states in fp32 ({gib(p['optimizer_states'])});"
            " the back-of-envelope method counts two 16-bit moments"
            f" ({gib(s['optimizer_states'])}).",
        ),
        Note(
            "Activations",
            f"The back-of-envelope method keeps one 16-bit hidden state per layer"
            f" ({gib(s['activations'])} in all); the layers actually save"
            f" {len(det['per_layer'])} tensors each for the backward pass"
            f" ({gib(p['activations_per_layer'])} per layer, largest: {_largest_saved(p)}),"
            f" plus {gib(det['non_layer_bytes'])} outside the layers (Korthikanti et al. 2022,"
            f" {t.implementation} implementation, {t.attention} attention, recompute"
            f" {t.recompute}).",
        ),
        Note(
            "Temporary buffers",
            f"At the peak, buffers that are not saved activations also exist: {names}.",
        ),
        Note(
            "Runtime overhead",
            f"The CUDA context and the caching allocator's fragmentation take memory the"
            f" model never sees: {over} (documented assumptions).",
        ),
    ]


def seed_mistakes(e: dict[str, Any], spec: Spec) -> list[Note]:
    """The seed document's known mistakes (shared/SEED.md) that apply to this spec."""
    out: list[Note] = []
    m = e["model"]
    if spec.training is not None:
        t, a = spec.training, spec.model
        sa = e["memory"]["simplified"]["activations"]
        case = (t.micro_batch_size, t.sequence_length, a.hidden_size, a.num_layers)
        claim = " (the article says about 48 GB)" if case == tuple(SEED_CASE.values()) else ""
        out.append(
            Note(
                "Activation arithmetic",
                f"b x s x h x 2 bytes x layers = {fmt_int(sa)} bytes = {gib_gb(sa)}{claim}.",
            )
        )
        p = e["memory"]["precise"]
        out.append(
            Note(
                "Activation model",
                f"One hidden state per layer is far too little: this spec's layers save"
                f" {gib(p['activations_per_layer'])} each, against"
                f" {gib(sa / a.num_layers)} in the back-of-envelope method.",
            )
        )
        st = sum(p[k] for k in ("master_weights", "weights", "gradients", "optimizer_states"))
        out.append(
            Note(
                "GB vs GiB",
                f"The model states are {fmt_bytes(st, 'GB')} = {fmt_bytes(st, 'GiB')};"
                " this report prints GiB (2^30 bytes) unless it says GB (1e9 bytes).",
            )
        )
        if t.optimizer in ADAM:
            n = m["parameters"]
            out.append(
                Note(
                    "Offloading",
                    f"Offloading Adam's two fp32 states frees 8 bytes per parameter, for"
                    f" this model's {fmt_count(n)} parameters ({fmt_bytes(8 * n, 'GB')});"
                    f" with the fp32 master weights (ZeRO-Offload) 12 bytes per parameter"
                    f" ({fmt_bytes(12 * n, 'GB')}). The article's figure (28 GB for 7e9"
                    f" parameters, 4 bytes per parameter) would say {fmt_bytes(4 * n, 'GB')}"
                    " here, half the true saving.",
                )
            )
        if t.precision == "fp8-mixed":
            out.append(Note("FP8", _FP8))
    out.append(_param_note(m))
    if spec.inference is not None:
        out.append(
            Note(
                "Inference",
                "The back-of-envelope method adds training activations to the weights; serving"
                " keeps no training activations but needs the KV cache (2 x layers x kv_heads"
                " x head_dim x bytes x batch x tokens; Pope et al. 2022) and a small working"
                " set.",
            )
        )
    return out


_FP8 = (
    "The article's 14 bytes per parameter for FP8 is not a measured figure. Transformer Engine"
    " keeps 16-bit weights with an fp32 master and adds an FP8 copy of each linear weight;"
    " this report assumes one FP8 byte per linear weight and ignores the few KiB of scaling"
    " state."
)


def _param_note(m: dict[str, Any]) -> Note:
    if m["given_by_count"]:
        text = (
            f"The spec gives the model by its parameter count ({fmt_int(m['parameters'])}), as"
            " the article does; the count is used as given. Real '7B' models differ"
            " (Llama-2-7B has 6,738,415,616 parameters)."
        )
        if m.get("assumed"):
            said = "; ".join(m["assumed"])
            text += f" Assumed for the activation and FLOP formulas: {said}."
    else:
        text = (
            f"Counted from the architecture: {fmt_int(m['parameters'])} parameters"
            f" ({m['parameters'] / GB:.3f} billion), not a nominal round figure."
        )
        if m["published_parameters"]:
            text += f" Published figure: {fmt_int(m['published_parameters'])}."
    return Note("Parameter count", text)


def precision_table(e: dict[str, Any]) -> Table:
    rows = []
    for r in e["precision_strategies"]:
        b = r["bytes_per_parameter"]
        rows.append(
            (
                r["precision"],
                *(f"{b[k]:.2f}" for k in ("master_weights", "weights", "gradients")),
                f"{b['optimizer_states']:.2f}",
                f"{b['total']:.2f}",
                fmt_bytes(r["model_states_bytes"], "GB"),
                r["source"],
            )
        )
    return Table(
        ("precision", "master", "weights", "gradients", "optimizer", "total", "model states",
         "source"),
        tuple(rows),
        ("l", "r", "r", "r", "r", "r", "r", "l"),
    )  # fmt: skip
