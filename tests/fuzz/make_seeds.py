#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/)
from the project's fixtures and small hand-made inputs.  Run from the
repository root; the output is checked in (tests/unit/test_fuzz_replay.cpp
replays it, scripts/fuzz.sh starts libFuzzer from it).  Files named crash-*
are inputs that once failed (found by scripts/fuzz.sh, fixed, kept as
regressions): this script never writes or removes them."""
import json, os, shutil, struct, subprocess, tempfile

OUT = "tests/fuzz/corpus"
FIX = "tests/fixtures"


def copy(src, target, name):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    shutil.copy(src, os.path.join(OUT, target, name))


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None, pad=0):
    header, blob = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    h = json.dumps(header, separators=(",", ":")).encode() + b" " * pad
    return struct.pack("<Q", len(h)) + h + blob


# safetensors headers
put("safetensors_header", "two_tensors", safetensors({
    "a.weight": ("F32", [2, 3], struct.pack("<6f", *range(6))),
    "b.bias": ("BF16", [4], b"\x80\x3f" * 4)}, {"format": "pt"}))
put("safetensors_header", "u8_and_empty", safetensors({
    "q": ("U8", [2, 16], bytes(range(32))), "e": ("F32", [0, 5], b"")}, pad=7))
put("safetensors_header", "scalar_i64", safetensors({"s": ("I64", [], struct.pack("<q", -5))}))

# checkpoint index (the shards the target writes: a.safetensors holds x, y; b.safetensors holds z)
put("checkpoint_index", "valid", json.dumps({"metadata": {"total_size": 27},
                                             "weight_map": {"x": "a.safetensors", "y": "a.safetensors", "z": "b.safetensors"}}))
put("checkpoint_index", "escape", json.dumps({"weight_map": {"x": "../a.safetensors", "z": "b.safetensors"}}))

# JSON
for i, doc in enumerate([
        '{"a": [1, 2.5e-3, -0, true, false, null], "b": {"c": "\\u00e9\\ud83d\\ude00"}}',
        '[[[[[]]]], {}, "", "\\n\\t\\"", 1e308, -1e-308]',
        '"just a string"', '123456789012345678901234567890']):
    put("json", f"doc{i}", doc)

# config.json
for name in ["tiny-qwen35-dev/config.json", "tiny-qwen35-trained/config.json",
             "configs/qwen3.5-27b.config.json", "configs/qwen3.5-9b.config.json"]:
    copy(os.path.join(FIX, name), "model_config", name.replace("/", "_"))

# tokenizer.json: the Qwen3 tokenizer cut to its first 600 ids and the merges among them.
t = json.load(open(os.path.join(FIX, "qwen3-tokenizer/tokenizer.json")))
vocab = {k: v for k, v in t["model"]["vocab"].items() if v < 600}
merges = [m for m in t["model"]["merges"] if (m[0] + m[1] if isinstance(m, list) else m.replace(" ", "")) in vocab]
t["model"]["vocab"], t["model"]["merges"] = vocab, merges
for i, a in enumerate(t["added_tokens"]):
    a["id"] = 600 + i
put("tokenizer_json", "qwen3_small", json.dumps(t, ensure_ascii=False))

# tokenizer.model: a tiny SentencePiece model (Debian's spm_train).
with tempfile.TemporaryDirectory() as d:
    txt = os.path.join(d, "t.txt")
    with open(txt, "w") as f:
        for c in json.load(open(os.path.join(FIX, "qwen3-tokenizer/tokenizer_cases.json"))):
            line = "".join(ch for ch in c["text"].replace("\n", " ") if ord(ch) < 0x250)  # few characters: a small model
            f.write(line + "\n")
    # identity normalization keeps the models small; one keeps the NFKC charsmap (its own parser)
    for name, kind, norm in [("unigram", "unigram", "identity"), ("bpe", "bpe", "identity"),
                             ("unigram_nfkc", "unigram", "nmt_nfkc")]:
        subprocess.run(["spm_train", f"--input={txt}", f"--model_prefix={d}/{name}", "--vocab_size=500",
                        f"--model_type={kind}", "--character_coverage=0.99", "--byte_fallback=true",
                        "--hard_vocab_limit=false", f"--normalization_rule_name={norm}", "--minloglevel=2"],
                       check=True, capture_output=True)
        copy(f"{d}/{name}.model", "tokenizer_model", name)

# chat templates
for name in os.listdir(os.path.join(FIX, "chat_templates")):
    copy(os.path.join(FIX, "chat_templates", name), "chat_template", name)
put("chat_template", "small",
    "{%- for m in messages %}{{ m.role | upper }}: {{ m.content | trim }}{% if not loop.last %}\n{% endif %}"
    "{%- endfor %}{% set ns = namespace(x=0) %}{% for t in tools %}{% set ns.x = ns.x + 1 %}"
    "{{ t.function.name ~ (t | tojson) }}{% endfor %}{{ ns.x if add_generation_prompt else '' }}")
put("chat_template", "macro", "{% macro f(a, b=2) %}{{ a * b }}{% endmacro %}{{ f(3) }}{{ 'a-%d' | format(1) if false else 'a' ~ 1 }}"
    "{{ messages[0]['content'][1:] }}{{ {'k': [1, 2]}.items() | list }}")

# chat variables for the Qwen3.5 template (the last byte's low bit: parse tool arguments)
put("chat_input", "basic", json.dumps({"messages": [{"role": "system", "content": "be brief"},
                                                    {"role": "user", "content": "hi"}], "add_generation_prompt": True}))
put("chat_input", "tools", json.dumps({
    "messages": [{"role": "user", "content": "weather?"},
                 {"role": "assistant", "content": "", "reasoning_content": "look it up",
                  "tool_calls": [{"type": "function", "function": {"name": "get", "arguments": "{\"city\": \"Paris\"}"}}]},
                 {"role": "tool", "content": "sunny"}, {"role": "user", "content": [{"type": "text", "text": "thanks"}]}],
    "tools": [{"type": "function", "function": {"name": "get", "description": "weather",
                                                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
    "add_generation_prompt": True, "enable_thinking": False}))  # ends in "}": parse the arguments string
put("chat_input", "tool_object_args", json.dumps({
    "messages": [{"role": "user", "content": "x"},
                 {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"a": [1, {"b": None}]}}}]},
                 {"role": "tool", "content": "done"}], "add_generation_prompt": False}) + " ")

# generated text (first byte: options and feed size, see fuzz_targets.cpp)
put("output_parser", "think_content", "\x05<think>\nreasoning here\n</think>\n\nThe answer is 4.")
put("output_parser", "tool_json", "\x0a<tool_call>\n{\"name\": \"f\", \"arguments\": {\"n\": 3}}\n</tool_call>")
put("output_parser", "tool_xml", "\x06<tool_call>\n<function=f>\n<parameter=n>\n42\n</parameter>\n"
    "<parameter=s>\ntext\n</parameter>\n</function>\n</tool_call>trailing")
put("output_parser", "open_reasoning", "\x01still thinking </think> done <tool_call>{\"name\": \"g\"")
