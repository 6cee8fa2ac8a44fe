"""The Hugging Face families of issue 9, each read from a config.json in
tests/data/hf (written from the model's published config.json on the
Hugging Face Hub, repo id in its ``_name_or_path``).

Expected totals are transformers' own count: ``sum(p.numel() for p in
model.parameters())`` of ``AutoModelForCausalLM.from_config`` (or
``AutoModelForImageTextToText`` for gemma3) built on the meta device with
transformers 5.24 (test_meta_device_count_equals_planner rebuilds them when the
measure extra is installed). Where a model card or DeepSeek's report
publishes the count, the test names it too: they agree, except DeepSeek-V3
whose checkpoint also stores the router's ``e_score_correction_bias`` (a
buffer in transformers).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.architecture import Architecture
from planner.catalog import model_presets
from planner.errors import SpecError
from planner.estimate.compute import attention_flops_per_token
from planner.estimate.inference import kv_cache_bytes, kv_cache_per_token
from planner.estimate.params import count_parameters
from planner.spec.loader import load_spec_text

HF_DIR = Path(__file__).parent / "data" / "hf"
PLANNER_DATA = Path(__file__).resolve().parent.parent / "planner" / "data"

# file -> transformers 5.24 meta-device count (comments: the published figure)
TRANSFORMERS_COUNTS = {
    "gemma2_2b": 2_614_341_888,  # HF Hub safetensors: 2.61B
    "gemma2_9b": 9_241_705_984,  # HF Hub safetensors: 9,241,705,984
    "gemma2_27b": 27_227_128_320,  # HF Hub safetensors: 27,227,128,320
    "gemma3_1b": 999_885_952,  # HF Hub safetensors: 999,885,952
    "gemma3_4b": 4_300_079_472,  # HF Hub safetensors: 4.30B (text + SigLIP)
    "gemma3_27b": 27_432_406_640,  # HF Hub safetensors: 27,432,406,640
    "qwen1_5_moe_a2_7b": 14_315_784_192,  # model card: 14.3B total, 2.7B active
    "qwen2_57b_a14b": 57_408_658_944,  # model card: 57B total, 14B active
    "deepseek_v2_lite": 15_706_484_224,  # model card: 15.7B total, 2.4B active
    "deepseek_v2": 235_741_434_880,  # DeepSeek-V2 s1: 236B total, 21B active
    "deepseek_v3": 671_026_404_352,  # DeepSeek-V3 report s1: 671B (+14B MTP)
    "gpt_oss_20b": 20_914_757_184,  # model card Table 1: 20.91B
    "gpt_oss_120b": 116_829_156_672,  # model card Table 1: 116.83B
    "pythia_160m": 162_322_944,  # Biderman et al. 2023 Table 1: 162,322,944
    "gpt_neox_20b": 20_554_567_680,  # Black et al. 2022 Table 1: 20,554,567,680
    "starcoder2_3b": 3_030_371_328,  # HF Hub safetensors: 3.03B
    "starcoder2_15b": 15_655_899_136,  # HF Hub safetensors: 16B
    "command_r": 34_980_831_232,  # model card: 35B
    "command_r_plus": 103_810_674_688,  # model card: 104B
    "granite_3_8b": 8_170_848_256,  # HF Hub safetensors: 8.17B
    "olmo2_7b": 7_298_617_344,  # HF Hub safetensors: 7.3B
    "olmo2_13b": 13_716_198_400,  # HF Hub safetensors: 13.7B
    "olmoe_1b_7b": 6_919_161_856,  # Muennighoff et al. 2024 Table 1: 6.9B, 1.3B active
    "phi3_5_moe": 41_873_153_344,  # model card: 42B total, 6.6B active
    "falcon_7b": 6_921_720_704,  # HF Hub safetensors: 6.92B
    "falcon_40b": 41_303_293_952,  # HF Hub safetensors: 41.8B
    "falcon_180b": 178_557_088_768,  # Almazrouei et al. 2023 Table 1: 180B
    "bloom_560m": 559_214_592,  # HF Hub: 559,214,592
    "bloom_7b1": 7_069_016_064,  # BigScience 2022 Table 3: 7,069,016,064
    "opt_125m": 125_239_296,  # HF Hub: 125,239,296
    "opt_350m": 331_196_416,  # HF Hub: 331,196,416
    "starcoderbase_1b": 1_137_207_296,  # HF Hub: 1.14B
    "starcoder": 15_517_456_384,  # Li et al. 2023 s5: 15.5B
    "qwen2_5_72b": 72_706_203_648,  # HF Hub safetensors: 72,706,203,648
    "qwen3_235b_a22b": 235_093_634_560,  # HF Hub safetensors: 235,093,634,560
    "mixtral_8x22b": 140_630_071_296,  # HF Hub safetensors: 141B
    "phi4": 14_659_507_200,  # HF Hub safetensors: 14,659,507,200
    "mamba_130m": 129_135_360,  # HF Hub safetensors: 129M
    "mamba_2_8b": 2_768_345_600,  # HF Hub safetensors: 2.77B
    "jamba_v0_1": 51_570_323_328,  # Lieber et al. 2024 s3.1: 52B total, 12B active
}


def model(name: str) -> Architecture:
    text = f"""
name: t
model: {{hf_config: {name}.json}}
training: {{sequence_length: 512, tokens: 1e9}}
cluster: {{gpu: h100}}
"""
    spec = load_spec_text(text, "t.yaml", HF_DIR)
    return spec.model


@pytest.mark.parametrize(("name", "expected"), sorted(TRANSFORMERS_COUNTS.items()))
def test_parameters_equal_transformers_count(name: str, expected: int) -> None:
    assert count_parameters(model(name)).total == expected


def test_at_least_25_configs() -> None:
    assert len(TRANSFORMERS_COUNTS) >= 25
    assert {p.stem for p in HF_DIR.glob("*.json")} >= set(TRANSFORMERS_COUNTS)


def test_named_from_name_or_path() -> None:
    assert model("gemma2_9b").name == "google/gemma-2-9b"


# --- KV cache per attention kind, by hand ----------------------------------


def test_mla_kv_cache_is_the_latent() -> None:
    """DeepSeek-V3 (kv_lora_rank 512, qk_rope_head_dim 64, 61 layers), bf16:
    (512 + 64) x 61 x 2 = 70,272 B per token (issue 9; V2 paper s2.1.2)."""
    a = model("deepseek_v3")
    assert kv_cache_per_token(a, "bf16") == (512 + 64) * 61 * 2 == 70_272
    assert kv_cache_bytes(a, 1000, "bf16") == 70_272 * 1000  # no window


def test_gemma2_alternating_windows() -> None:
    """Gemma-2-9B: 42 layers, every other one sliding over 4096 tokens
    (Gemma 2 report s2), K and V of 8 heads x 256 in bf16 = 8192 B per
    layer per token. 8192 tokens: 21 x 8192 x 8192 + 21 x 8192 x 4096."""
    a = model("gemma2_9b")
    per = 2 * 8 * 256 * 2
    assert kv_cache_per_token(a, "bf16") == 42 * per
    assert kv_cache_bytes(a, 8192, "bf16") == 21 * per * 8192 + 21 * per * 4096
    assert kv_cache_bytes(a, 1000, "bf16") == 42 * per * 1000  # below the window


def test_gemma3_five_local_per_global() -> None:
    """Gemma-3-1B: 26 layers, pattern 6 (layers 6, 12, 18, 24 global: 4),
    22 sliding over 512 tokens; 1 KV head x 256, bf16: 1024 B per layer."""
    a = model("gemma3_1b")
    per = 2 * 1 * 256 * 2
    assert kv_cache_bytes(a, 32768, "bf16") == 4 * per * 32768 + 22 * per * 512


def test_gpt_oss_sliding_128() -> None:
    """gpt-oss-120b: 36 layers alternating 128-token windows and full
    attention, 8 KV heads x 64, bf16 = 2048 B per layer per token."""
    a = model("gpt_oss_120b")
    per = 2 * 8 * 64 * 2
    assert kv_cache_bytes(a, 100_000, "bf16") == 18 * per * 100_000 + 18 * per * 128


def test_starcoder2_every_layer_slides() -> None:
    """StarCoder2-15B: sliding_window 4096 on all 40 layers, 4 KV heads x 128."""
    a = model("starcoder2_15b")
    assert kv_cache_bytes(a, 16384, "fp16") == 40 * 2 * 4 * 128 * 2 * 4096


def test_multi_query_kv() -> None:
    """Falcon-7B and StarCoderBase: multi-query, one K and one V head."""
    assert kv_cache_per_token(model("falcon_7b"), "bf16") == 32 * 2 * 64 * 2
    assert kv_cache_per_token(model("starcoderbase_1b"), "bf16") == 24 * 2 * 128 * 2


def test_mamba_recurrent_state_in_place_of_kv() -> None:
    """Mamba-130M: 24 layers, d_inner = 2 x 768 = 1536, conv_kernel 4,
    state_size 16: conv + SSM state 24 x 1536 x (4 + 16) x 2 B (bf16) per
    sequence, whatever its length (Gu & Dao 2023 s3.4); no attention FLOPs."""
    a = model("mamba_130m")
    state = 24 * 1536 * (4 + 16) * 2
    assert kv_cache_bytes(a, 10, "bf16") == kv_cache_bytes(a, 100_000, "bf16") == state
    assert attention_flops_per_token(a, 4096) == 0


def test_jamba_cache_is_kv_of_attention_layers_plus_mamba_state() -> None:
    """Jamba-v0.1: 32 layers, 1 in 8 attention (4 layers; 8 KV heads x 128,
    bf16: 4096 B per layer per token), 28 Mamba layers with d_inner 8192,
    conv 4, state 16 (Lieber et al. 2024 s2)."""
    a = model("jamba_v0_1")
    state = 28 * 8192 * (4 + 16) * 2
    assert kv_cache_per_token(a, "bf16") == 4 * 4096
    assert kv_cache_bytes(a, 256_000, "bf16") == 4 * 4096 * 256_000 + state
    assert attention_flops_per_token(a, 1000) == 4.0 * 4 * 1000 * 32 * 128


# --- attention FLOPs --------------------------------------------------------


def test_attention_flops_per_layer_kind() -> None:
    """4 x span x heads x head_dim per layer (PaLM App. B); gpt-oss-120b
    (64 heads x 64) at 8192 tokens: 18 layers x 8192 + 18 x 128."""
    a = model("gpt_oss_120b")
    assert attention_flops_per_token(a, 8192) == 4.0 * 64 * 64 * (18 * 8192 + 18 * 128)


def test_mla_attention_flops() -> None:
    """MLA: QK^T over qk_nope + qk_rope = 192, attention over v_head_dim 128:
    2 x s x 128 heads x (192 + 128) per layer, 61 layers."""
    a = model("deepseek_v3")
    assert attention_flops_per_token(a, 4096) == 61 * 2.0 * 4096 * 128 * (192 + 128)


# --- what the planner says about them --------------------------------------


def test_mtp_counted_apart() -> None:
    """DeepSeek-V3 s2.2: MTP depth 1 = two RMSNorms, M (7168 x 14336), one
    MoE block (like layer 60) and the head's norm; not in the total."""
    a = model("deepseek_v3")
    fam = a.family_impl
    h = 7168
    attn = 1536 * h + 1536 + 128 * 192 * 1536 + 576 * h + 512 + 128 * 256 * 512 + h * 128 * 128
    moe = 256 * 3 * h * 2048 + 256 * h + 3 * h * 2048
    assert fam.mtp_parameters(a) == 5 * h + 2 * h * h + attn + moe
    assert any("multi-token-prediction" in n for n in fam.approximations(a))


def test_underived_profile_says_approximate() -> None:
    """A family whose saved tensors are not derived says so; llama's are."""
    gemma, phi4 = model("gemma2_9b"), model("phi4")
    assert any("activations" in n for n in gemma.family_impl.approximations(gemma))
    assert phi4.family_impl.approximations(phi4) == ()


def test_config_only_family_needs_a_config() -> None:
    text = """
name: t
model: {architecture: deepseek, hidden_size: 64, num_layers: 2, num_attention_heads: 4,
        vocab_size: 100}
training: {sequence_length: 512, tokens: 1e9}
cluster: {gpu: h100}
"""
    with pytest.raises(SpecError, match=r"read from their config\.json"):
        load_spec_text(text, "t.yaml")


# --- with the measure extra: transformers builds each on the meta device ---


def _meta_count(name: str) -> int:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    cfg = json.loads((HF_DIR / f"{name}.json").read_text(encoding="utf-8"))
    hf = transformers.AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    with torch.device("meta"):  # no weights, no network
        try:
            m = transformers.AutoModelForCausalLM.from_config(hf)
        except ValueError:  # gemma3: an image-text model
            m = transformers.AutoModelForImageTextToText.from_config(hf)
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name", sorted(TRANSFORMERS_COUNTS))
def test_meta_device_count_equals_planner(name: str) -> None:
    assert _meta_count(name) == count_parameters(model(name)).total == TRANSFORMERS_COUNTS[name]


# --- presets read from a shipped config.json -------------------------------

PRESET_FILES = {
    "gemma-2-9b": "gemma2_9b",
    "gemma-2-27b": "gemma2_27b",
    "gemma-3-27b": "gemma3_27b",
    "deepseek-v3": "deepseek_v3",
    "qwen2.5-72b": "qwen2_5_72b",
    "qwen3-235b-a22b": "qwen3_235b_a22b",
    "olmo-2-13b": "olmo2_13b",
    "gpt-oss-120b": "gpt_oss_120b",
    "mixtral-8x22b": "mixtral_8x22b",
    "command-r-plus": "command_r_plus",
    "falcon-180b": "falcon_180b",
    "phi-4": "phi4",
}


@pytest.mark.parametrize(("preset", "file"), sorted(PRESET_FILES.items()))
def test_config_presets(preset: str, file: str) -> None:
    """Each preset counts what transformers counts for its config; an exact
    published count equals it, a rounded one (DeepSeek-V3 671B, Mixtral
    141B, Command-R+ 104B, Falcon 180B: a model's name more than a count) is
    within 1% of it (Falcon-180B counts 178.56e9)."""
    entry = model_presets()[preset]
    shipped = PLANNER_DATA / entry["hf_config"]
    assert json.loads(shipped.read_text()) == json.loads((HF_DIR / f"{file}.json").read_text())
    text = (
        f"name: t\nmodel: {{preset: {preset}}}\n"
        "training: {sequence_length: 512, tokens: 1e9}\ncluster: {gpu: h100}\n"
    )
    a = load_spec_text(text, "t.yaml").model
    total = count_parameters(a).total
    assert a.name == preset and total == TRANSFORMERS_COUNTS[file]
    if "published_parameters" in entry:
        assert total == entry["published_parameters"]
    else:
        assert abs(total / float(entry["published_parameters_rounded"]) - 1) < 0.01


# --- any other model_type ---------------------------------------------------

OTHER = Path(__file__).parent / "data" / "hf_other"
MPT_SPEC = """
name: t
model: {hf_config: tiny_mpt.json}
training: {sequence_length: 256, tokens: 1e9}
cluster: {gpu: h100}
"""


def test_other_type_without_the_extra_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """No family lists mpt: without torch and transformers the import is
    refused, saying the measure extra would count it exactly and that
    reading it as another family would miscount it."""
    monkeypatch.setattr("planner.spec.hf_config._measure_extra_installed", lambda: False)
    with pytest.raises(SpecError) as err:
        load_spec_text(MPT_SPEC, "t.yaml", OTHER)
    msg = str(err.value)
    assert "pip install 'planner[measure]'" in msg and "meta device" in msg
    assert "would miscount" in msg and "architecture: llama" not in msg


def test_other_type_counted_on_the_meta_device() -> None:
    """With the extra: MPT (d_model 256, 4 heads, 3 layers, expansion 4,
    vocab 1000; HF MptForCausalLM: tied head, LayerNorms without bias,
    no biases): per block Wqkv 3 x 256^2, out_proj 256^2, up/down
    2 x 4 x 256^2, two norm weights; embedding 1000 x 256; final norm."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    a = load_spec_text(MPT_SPEC, "t.yaml", OTHER).model
    h = 256
    hand = 3 * (12 * h * h + 2 * h) + 1000 * h + h
    assert count_parameters(a).total == hand == 2_617_088
    assert a.name == "test/tiny-mpt" and a.family == "hf_counted"
    assert any("meta device" in n for n in a.family_impl.approximations(a))


def test_layer_pattern_follows_a_num_layers_override() -> None:
    """Gemma-2-9B cut to 4 layers (a spec's num_layers next to hf_config):
    the alternating pattern repeats, 2 sliding + 2 global layers."""
    text = (
        "name: t\nmodel: {hf_config: gemma2_9b.json, num_layers: 4}\n"
        "training: {sequence_length: 512, tokens: 1e9}\ncluster: {gpu: h100}\n"
    )
    a = load_spec_text(text, "t.yaml", HF_DIR).model
    per = 2 * 8 * 256 * 2
    assert kv_cache_bytes(a, 8192, "bf16") == 2 * per * 8192 + 2 * per * 4096


def test_measure_refuses_a_family_whose_profile_is_not_derived() -> None:
    """`planner measure` traces only families whose saved tensors are
    derived; for the others it says so (exit 2) instead of failing."""
    from click.testing import CliRunner

    from planner.cli import main

    res = CliRunner().invoke(main, ["measure", str(HF_DIR / "measure_gemma2.yaml")])
    assert res.exit_code == 2
    assert "not derived yet" in res.output
