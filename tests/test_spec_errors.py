"""Malformed specs: every file in tests/data/bad_specs gives exit status 2
from `planner validate` and `planner estimate`, with one clean message that
names the file, the field path, the line and what is allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main

BAD = Path(__file__).parent / "data" / "bad_specs"

# file -> (field path, line or None, a phrase saying what is allowed or wrong)
EXPECTED: dict[str, tuple[str, int | None, str]] = {
    "unknown_top_key": ("clustr_size", 8, "did you mean `cluster`?"),
    "unknown_top_key_typo": ("constrains", 8, "did you mean `constraints`?"),
    "unknown_nested_key": ("training.micro_batch", 6, "did you mean `micro_batch_size`?"),
    "unknown_model_field": ("model.hidden", 4, "allowed here: preset, hf_config"),
    "wrong_type_seq": ("training.sequence_length", 4, "valid integer"),
    "wrong_type_bool": ("model.tie_word_embeddings", 4, "valid boolean"),
    "negative_batch": ("training.micro_batch_size", 5, "greater than or equal to 1"),
    "zero_tokens": ("training.tokens", 5, "greater than or equal to 1"),
    "number_overflow": ("training.sequence_length", 5, "finite number"),
    "bool_as_count": ("training.micro_batch_size", 6, "must be a number, not true"),
    "gpu_null": ("cluster.gpu", 8, "a catalog name, a mapping, or a list"),
    "negative_price": ("cluster.price_per_gpu_hour", 8, "greater than or equal to 0"),
    "negative_max_days": ("constraints.max_days", 9, "greater than 0"),
    "missing_name": ("name", None, "required"),
    "missing_model": ("model", None, "required"),
    "missing_cluster": ("cluster", None, "required"),
    "missing_sequence_length": ("training.sequence_length", 3, "required"),
    "both_workloads": ("training", 3, "exactly one workload"),
    "no_workload": ("training", None, "exactly one workload"),
    "unknown_preset": ("model.preset", 2, "did you mean `llama-2-7b`?"),
    "unknown_gpu": ("cluster.gpu", 7, "unknown GPU 'h1000'"),
    "unknown_gpu_in_list": ("cluster.gpu[2]", 7, "unknown GPU 'h300'"),
    "bad_precision": ("training.precision", 6, "'bf16-mixed'"),
    "bad_optimizer": ("training.optimizer", 6, "'adamw-8bit'"),
    "bad_attention": ("training.attention", 6, "'flash' or 'eager'"),
    "bad_recompute": ("training.recompute", 6, "'none', 'selective' or 'full'"),
    "bad_weight_precision": ("inference.weight_precision", 6, "'int4'"),
    "bad_kv_cache_precision": ("inference.kv_cache_precision", 6, "'fp8' or 'int8'"),
    "bad_objective": ("objective", 8, "'fewest-gpus'"),
    "duplicate_key": ("training.sequence_length", 6, "duplicate key"),
    "invalid_yaml": ("<top level>", 5, "not valid YAML"),
    "not_a_mapping": ("<top level>", 1, "must be a YAML mapping"),
    "empty": ("<top level>", None, "must be a YAML mapping"),
    "global_batch_not_multiple": ("training.global_batch_size", 6, "multiple of micro_batch_size"),
    "kv_heads_not_dividing": ("model.num_key_value_heads", 7, "must divide num_attention_heads"),
    "heads_not_dividing_hidden": ("model.num_attention_heads", 6, "give `head_dim`"),
    "experts_per_tok_too_many": ("model.num_experts_per_tok", 10, "<= num_local_experts"),
    "hf_config_missing": ("model.hf_config", 3, "file not found"),
    "hf_config_not_json": ("model.hf_config", 3, "cannot import"),
    "preset_and_hf_config": ("model", 2, "either `preset` or `hf_config`"),
    "sequence_too_long": ("training.sequence_length", 4, "learned positions (1024)"),
    "inference_too_long_gpt2": ("inference.generated_tokens", 5, "learned positions (1024)"),
    "mfu_above_one": ("cluster.mfu.expected", 8, "less than or equal to 1"),
    "mfu_low_above_high": ("cluster.mfu", 8, "low <= expected <= high"),
    "bad_name_slug": ("name", 1, "must be a slug"),
    "zero_stage_4": ("parallelism.zero_stage", 9, "less than or equal to 3"),
    "adafactor_count_only": ("training.optimizer", 6, "give the model's architecture"),
    "list_for_mapping": ("training", 3, "must be a mapping"),
    "custom_model_missing_fields": ("model.vocab_size", None, "required for architecture"),
    "custom_gpu_missing_fields": ("cluster.gpu.dense_tflops", None, "required for a GPU"),
    "dropout_one": ("training.dropout", 6, "less than 1"),
    "fragmentation_above_one": ("assumptions.allocator_fragmentation", 9, "less than 1"),
}

FILES = sorted(p.stem for p in BAD.glob("*.yaml"))


def test_corpus_size_and_coverage() -> None:
    assert len(FILES) >= 25
    assert set(FILES) == set(EXPECTED), "every bad spec needs an expected field path"


def _invoke(command: str, name: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [command, str(BAD / f"{name}.yaml")])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


@pytest.mark.parametrize("command", ["validate", "estimate"])
@pytest.mark.parametrize("name", FILES)
def test_bad_spec_exits_2_with_located_message(command: str, name: str) -> None:
    code, out = _invoke(command, name)
    assert code == 2, out
    assert "Traceback" not in out
    path, line, phrase = EXPECTED[name]
    filename = str(BAD / f"{name}.yaml")
    # One problem per line: "<file>[:<line>]: <field path>: <message>"
    pattern = re.escape(filename) + (f":{line}" if line else r"(:\d+)?") + ": " + re.escape(path)
    matching = [ln for ln in out.splitlines() if re.match(pattern + ": ", ln)]
    assert matching, f"no line for {path!r} at line {line} in:\n{out}"
    assert any(phrase in ln for ln in matching), out


def test_several_problems_reported_at_once(tmp_path: Path) -> None:
    spec = tmp_path / "many.yaml"
    spec.write_text(
        "name: Many Problems\n"  # 1 bad slug
        "model: lama-2-7b\n"  # 2 unknown preset
        "training:\n"
        "  sequence_length: 0\n"  # 4 must be >= 1
        "  tokens: 1e9\n"
        "  optimizer: adamax\n"  # 6 bad enum
        "cluster:\n"
        "  gpu: h100\n"
        "  mfu: 2\n"  # 9 > 1
        "flavour: spicy\n"  # 10 unknown key
    )
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 2
    out = result.output
    for where in (
        ":1: name:",
        ":2: model",  # `model: <name>` (reported as model or model.preset)
        ":4: training.sequence_length:",
        ":6: training.optimizer:",
        ":9: cluster.mfu.expected:",
        ":10: flavour:",
    ):
        assert where in out, where
    assert "6 problem(s)" in out


def test_validate_reports_each_file(tmp_path: Path) -> None:
    good = Path(__file__).parents[1] / "specs" / "seed-7b.yaml"
    result = CliRunner().invoke(main, ["validate", str(good), str(BAD / "empty.yaml")])
    assert result.exit_code == 2
    assert f"{good}: ok" in result.output
    assert "empty.yaml" in result.output


def test_missing_spec_file() -> None:
    result = CliRunner().invoke(main, ["estimate", "no/such/spec.yaml"])
    assert result.exit_code == 2
    assert "no/such/spec.yaml" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [
        ("hidden_size", "1e30", "1048576"),
        ("num_layers", "100000", "4096"),
        ("num_attention_heads", "1e9", "16384"),
        ("vocab_size", "1e12", "16777216"),
    ],
)
def test_absurd_model_shapes_are_refused_at_validation(
    tmp_path: Path, field: str, value: str, limit: str
) -> None:
    # Issue 8: `hidden_size: 1e30` used to give exit 0 and a report.
    spec = tmp_path / "absurd.yaml"
    spec.write_text(
        f"name: a\nmodel: {{preset: llama-2-7b, {field}: {value}}}\n"
        "training: {sequence_length: 1024, tokens: 1e9}\ncluster: {gpu: h100}\n"
    )
    r = CliRunner().invoke(main, ["validate", str(spec)])
    assert r.exit_code == 2
    assert f"absurd.yaml:2: model.{field}" in r.output and limit in r.output
    assert "Traceback" not in r.output


def test_cross_field_checks_reported_with_schema_errors(tmp_path: Path) -> None:
    """Batch divisibility is reported in the same run as a schema error and an
    unknown preset, not only after they are fixed (issue 14)."""
    spec = tmp_path / "both.yaml"
    spec.write_text(
        "name: both\n"
        "model: lama-2-7b\n"  # 2 unknown preset (resolved after the schema)
        "training:\n"
        "  sequence_length: 2048\n"
        "  micro_batch_size: 3\n"
        "  global_batch_size: 8\n"  # 6 not a multiple of 3
        "  tokens: 1e9\n"
        "  optimizer: adamax\n"  # 8 bad enum (a schema error)
        "cluster:\n"
        "  gpu: h100\n"
        "parallelism: {data_parallel: 6, zero_shard_group: 4}\n"  # 11 4 does not divide 6
    )
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 2
    out = result.output
    for where in (
        ":6: training.global_batch_size: must be a multiple of micro_batch_size (3); got 8",
        ":8: training.optimizer:",
        ":11: parallelism.zero_shard_group: must divide data_parallel (6); got 4",
    ):
        assert where in out, (where, out)
    # With the schema error fixed, the preset and the batch are still both reported.
    spec.write_text(spec.read_text().replace("adamax", "adamw"))
    out = CliRunner().invoke(main, ["validate", str(spec)]).output
    assert "unknown model preset" in out and ":6: training.global_batch_size:" in out, out
