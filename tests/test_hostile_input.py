"""Hostile and absurd specs (issue 13, issue 8): each is refused by
`planner validate` with exit 2, one clean message naming the field and line,
instead of hanging, exhausting memory or failing in a later stage."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.spec.safe_yaml import MAX_DEPTH, parse_yaml

BASE = "name: h\nmodel: llama-2-7b\ntraining: {sequence_length: 4096, tokens: 1e9}\n"

# name -> (spec text, field path, line, phrase)
CASES: dict[str, tuple[str, str, int | None, str]] = {
    # 1. usable memory <= 0 used to make `plan` and `report` spin forever
    "memory_1_gib": (
        BASE + "cluster:\n  gpu: {preset: a100-80gb, memory_gib: 1}\n",
        "cluster.gpu.memory_gib",
        5,
        "leaves no usable memory",
    ),
    "cuda_context_80": (
        BASE + "cluster: {gpu: a100-80gb}\nassumptions: {cuda_context_gib: 80}\n",
        "assumptions.cuda_context_gib",
        5,
        "must be > 0",
    ),
    "memory_yes": (
        BASE + "cluster:\n  gpu: {preset: a100-80gb, memory_gib: yes}\n",
        "cluster.gpu.memory_gib",
        5,
        "got 'yes'",
    ),
    # 2. YAML that a spec may not use
    "alias_bomb": (
        "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
        "<top level>",
        1,
        "anchors (&name) are not allowed",
    ),
    "alias_only": (BASE + "title: *x\n", "<top level>", 4, "aliases (*name) are not allowed"),
    "self_reference": ("a: &a [*a]\n", "<top level>", 1, "anchors"),
    "merge_key": (
        BASE + "cluster:\n  <<: {gpu: a100-80gb}\n",
        "cluster.<<",
        5,
        "unknown field",
    ),
    "deep_nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "<top level>", 1, "nested more than"),
    "sexagesimal_is_text": (
        BASE.replace("tokens: 1e9", "tokens: 1e9, sequence_length: 1:30").replace(
            "sequence_length: 4096, ", ""
        )
        + "cluster: {gpu: a100-80gb}\n",
        "training.sequence_length",
        3,
        "'1:30'",
    ),
    "lone_surrogate": (
        BASE + 'title: "x\\ud800"\ncluster: {gpu: a100-80gb}\n',
        "title",
        4,
        "lone surrogate",
    ),
    # 5. non-finite, negative, boolean, absurd numbers
    "price_inf": (
        BASE + "cluster: {gpu: a100-80gb, price_per_gpu_hour: .inf}\n",
        "cluster.price_per_gpu_hour",
        4,
        "finite number",
    ),
    "price_zero": (
        BASE + "cluster: {gpu: a100-80gb, price_per_gpu_hour: 0}\n",
        "cluster.price_per_gpu_hour",
        4,
        "must be > 0",
    ),
    "tokens_1e308": (
        BASE.replace("tokens: 1e9", "tokens: 1e308") + "cluster: {gpu: a100-80gb}\n",
        "training.tokens",
        3,
        "at most 1e+16",
    ),
    "negative_tflops": (
        BASE + "cluster:\n  gpu: {preset: a100-80gb, dense_tflops: {bf16: -300}}\n",
        "cluster.gpu[0].dense_tflops.bf16",
        5,
        "must be > 0",
    ),
    "contingency_true": (
        BASE + "cluster: {gpu: a100-80gb}\nreport: {contingency: true}\n",
        "report.contingency",
        5,
        "must be a number, not true",
    ),
    "hidden_1e30": (
        "name: h\nmodel: {preset: llama-2-7b, hidden_size: 1e30}\n"
        "training: {sequence_length: 4096, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n",
        "model.hidden_size",
        2,
        "less than or equal to 1048576",
    ),
    "batch_1e9": (
        BASE.replace("tokens: 1e9", "tokens: 1e9, global_batch_size: 1e9")
        + "cluster: {gpu: a100-80gb}\n",
        "training.global_batch_size",
        3,
        "at most 1,048,576",
    ),
    "layers_1e9": (
        "name: h\nmodel: {preset: llama-2-7b, num_layers: 1e9}\n"
        "training: {sequence_length: 4096, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n",
        "model.num_layers",
        2,
        "less than or equal to 4096",
    ),
    "too_many_gpus": (
        BASE + "cluster:\n  gpu: [" + ", ".join(["h100-sxm"] * 200) + "]\n",
        "cluster.gpu",
        5,
        "at most 16 candidate GPUs",
    ),
    # 6. validate said ok and a later stage crashed
    "cuda_context_inf": (
        BASE + "cluster: {gpu: a100-80gb}\nassumptions: {cuda_context_gib: .inf}\n",
        "assumptions.cuda_context_gib",
        5,
        "finite number",
    ),
    "memory_inf": (
        BASE + "cluster:\n  gpu: {preset: a100-80gb, memory_gib: .inf}\n",
        "cluster.gpu.memory_gib",
        5,
        "finite number",
    ),
    "empty_tflops": (
        BASE + "cluster:\n  gpu: {name: x, memory_gib: 80, dense_tflops: {},"
        " memory_bandwidth_gb_s: 2000}\n",
        "cluster.gpu.dense_tflops",
        5,
        "must give bf16, fp16 or fp32",
    ),
    "same_gpu_other_figures": (
        BASE + "cluster:\n  gpu: [a100-80gb, {preset: a100-80gb, memory_gib: 40}]\n",
        "cluster.gpu[1]",
        5,
        "list each GPU type once",
    ),
    # 7. fixed layouts checked against the model
    "tensor_parallel_3": (
        BASE + "cluster: {gpu: a100-80gb}\nparallelism: {tensor_parallel: 3}\n",
        "parallelism.tensor_parallel",
        5,
        "must divide the attention heads (32)",
    ),
    "context_parallel_3": (
        BASE + "cluster: {gpu: a100-80gb}\nparallelism: {context_parallel: 3}\n",
        "parallelism.context_parallel",
        5,
        "must divide training.sequence_length (4096)",
    ),
    "virtual_stages_1e6": (
        BASE + "cluster: {gpu: a100-80gb}\nparallelism: {virtual_pipeline_stages: 1e6}\n",
        "parallelism.virtual_pipeline_stages",
        5,
        "at most 4,096",
    ),
    "virtual_stages_over_layers": (
        BASE + "cluster: {gpu: a100-80gb}\n"
        "parallelism: {pipeline_parallel: 8, virtual_pipeline_stages: 8}\n",
        "parallelism.virtual_pipeline_stages",
        5,
        "must be <= the model's 32 layers",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_spec_is_refused_at_validation(case: str, tmp_path: Path) -> None:
    text, field, line, phrase = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for command in ("validate", "plan"):
        t0 = time.perf_counter()
        r = CliRunner().invoke(main, [command, str(path)])
        assert time.perf_counter() - t0 < 10, (case, command)
        assert r.exit_code == 2, (case, command, r.output)
        assert "Traceback" not in r.output and "internal error" not in r.output, r.output
        where = f"{path}:{line}: {field}: " if line else f"{path}: {field}: "
        hits = [ln for ln in r.output.splitlines() if ln.startswith(where)]
        assert hits and any(phrase in ln for ln in hits), (case, r.output)


def test_all_layout_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        BASE + "cluster: {gpu: a100-80gb}\n"
        "parallelism: {tensor_parallel: 3, context_parallel: 3, pipeline_parallel: 64}\n"
    )
    r = CliRunner().invoke(main, ["validate", str(path)])
    assert r.exit_code == 2
    for field in ("tensor_parallel", "context_parallel", "pipeline_parallel"):
        assert f"parallelism.{field}:" in r.output, r.output


@pytest.mark.parametrize("special", ["directory", "fifo", "/dev/zero", "/dev/urandom"])
def test_only_regular_files_are_read(special: str, tmp_path: Path) -> None:
    if special == "directory":
        target = str(tmp_path)
    elif special == "fifo":
        target = str(tmp_path / "pipe")
        os.mkfifo(target)
    else:
        target = special
    spec = tmp_path / "hf.yaml"
    spec.write_text(
        f"name: h\nmodel: {{hf_config: {target}}}\n"
        "training: {sequence_length: 4096, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n"
    )
    kind = {"directory": "a directory", "fifo": "a FIFO"}.get(special, "a device")
    for path, field in ((target, "<top level>"), (str(spec), "model.hf_config")):
        if special == "directory" and path == target:
            continue  # click refuses a directory argument itself
        r = CliRunner().invoke(main, ["validate", path])
        assert r.exit_code == 2 and kind in r.output and field in r.output, r.output


def test_size_limits_name_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(BASE + "#" * (1 << 20) + "\n")
    r = CliRunner().invoke(main, ["validate", str(big)])
    assert r.exit_code == 2 and "more than the 1 MiB a spec may have" in r.output
    cfg = tmp_path / "config.json"
    with open(cfg, "wb") as f:
        f.write(b"{" + b" " * (16 << 20) + b"}")
    spec = tmp_path / "hf.yaml"
    spec.write_text(
        "name: h\nmodel: {hf_config: config.json}\n"
        "training: {sequence_length: 4096, tokens: 1e9}\ncluster: {gpu: a100-80gb}\n"
    )
    r = CliRunner().invoke(main, ["validate", str(spec)])
    assert r.exit_code == 2 and "16 MiB a config.json may have" in r.output, r.output


def test_a_file_that_is_not_a_spec_is_not_echoed(tmp_path: Path) -> None:
    secret = "root:$6$saltsaltsalt$hashhashhashhashhashhashhashhash:19000:0:99999:7:::"
    path = tmp_path / "shadow"
    path.write_text("\n".join([secret] * 5) + "\n")
    r = CliRunner().invoke(main, ["validate", str(path)])
    assert r.exit_code == 2 and "hashhashhash" not in r.output, r.output
    path.write_text(f'name: "{secret * 3}"\n')
    r = CliRunner().invoke(main, ["validate", str(path)])
    assert r.exit_code == 2 and secret not in r.output and "..." in r.output, r.output


def test_yaml_12_semantics() -> None:
    data, _, _ = parse_yaml(
        "a: 1:30\nb: yes\nc: off\nd: 010\ne: 7e9\nf: 2024-01-01\ng: ~\nh: true\n", "t"
    )
    assert data == {
        "a": "1:30", "b": "yes", "c": "off", "d": 10, "e": 7e9, "f": "2024-01-01",
        "g": None, "h": True,
    }  # fmt: skip
    ok, _, _ = parse_yaml("a: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n", "t")
    assert isinstance(ok, dict)


def test_every_limit_is_documented() -> None:
    from planner.spec.limits import SPEC_LIMITS, _fmt

    doc = (Path(__file__).resolve().parent.parent / "docs" / "spec.md").read_text()
    limits = doc.split("## Limits", 1)[1]
    for key, (lo, hi, exclusive) in SPEC_LIMITS.items():
        # The row states the limit itself, not only the field's name.
        row = f"| `{key}` | {'>' if exclusive else '>='} {_fmt(lo)} | {_fmt(hi)} |"
        assert row in limits, row
