// Fuzz targets for the parsers that read untrusted bytes: safetensors
// headers and checkpoint indexes, JSON, config.json, tokenizer.json / tokenizer.model, chat
// templates and the variables rendered through one, generated-text parsing.  Each target takes one input and
// returns normally when the input is accepted or rejected with a
// detail::error; any other exception, a crash or a sanitizer report is a
// bug.  The same functions run under libFuzzer (scripts/fuzz.sh, clang
// with ASan + UBSan) and, deterministically, in the unit tests
// (tests/unit/test_fuzz_replay.cpp: the seed corpus in tests/fuzz/corpus/
// plus seeded mutations of it).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mlxmtp::fuzz {

struct target {
    const char *name;  // also the corpus directory: tests/fuzz/corpus/<name>/
    void (*run)(const uint8_t *data, size_t size);
};

// Every target.  Inputs are capped at kMaxInput bytes (larger ones return at once).
const std::vector<target> &targets();
constexpr size_t kMaxInput = 1 << 20;

// Runs `t` on one input, turning detail::error into a normal return.
// Returns "" or a description of the unexpected exception.
std::string run_one(const target &t, const uint8_t *data, size_t size);

}  // namespace mlxmtp::fuzz
