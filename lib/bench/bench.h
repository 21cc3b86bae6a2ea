// The benchmark harness behind `mlxmtp bench` and mlxmtp_bench_run: runs
// arms (vanilla, MTP with k drafts, ...) on the same prompts and settings and
// reports timings, acceptance, output match and bandwidth as JSON
// (schema: docs/bench-report.schema.json, "mlxmtp-bench/1").
#pragma once
#include "model/model.h"
#include "tok/tokenizer.h"

#include <functional>
#include <memory>
#include <string>

namespace mlxmtp::detail {

// options_json: see docs/performance.md.  Returns the report as JSON text.
// progress(fraction, label) returns false to abort.
std::string run_bench(const engine_model &m, const tokenizer *tok, const std::string &options_json,
                      const std::function<bool(double, const std::string &)> &progress);

}  // namespace mlxmtp::detail
