#!/usr/bin/python3
"""Validates an mlxmtp bench report against docs/bench-report.schema.json with
Debian's python3-jsonschema, checks that a report missing a required field is
rejected, and that every MTP arm's greedy output matches the vanilla arm.
Usage: check_bench_report.py SCHEMA REPORT"""
import copy
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))
jsonschema.Draft7Validator.check_schema(schema)
jsonschema.validate(report, schema)

for path in (["arms", 0, "prompts", 0, "decode_tok_s"], ["model", "decode_weight_bytes"], ["schema"]):
    broken = copy.deepcopy(report)
    node = broken
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    try:
        jsonschema.validate(broken, schema)
    except jsonschema.ValidationError:
        continue
    sys.exit("a report without %s validated" % "/".join(map(str, path)))

arms = {a["name"]: a for a in report["arms"]}
assert "vanilla" in arms, "no vanilla arm"
for a in report["arms"]:
    for p in a["prompts"]:
        if p["output_match"] is not True:
            sys.exit("arm %s prompt %s: output differs from vanilla" % (a["name"], p["prompt"]))
        if a["decoder"] == "mtp":
            assert len(p["acceptance_per_position"]) == a["draft_tokens"], a["name"]
            assert p["tokens_per_round"] > 1.0, (a["name"], p["tokens_per_round"])
print("bench report OK: %d arms, schema valid, broken reports rejected, outputs match" % len(arms))
