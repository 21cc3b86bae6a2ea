// The fuzz targets (tests/fuzz/fuzz_targets.h) without libFuzzer: every
// input of the checked-in corpus (seeds and the crashers that scripts/fuzz.sh
// found, kept as regressions), then a fixed number of seeded mutations of
// it.  Each must be accepted or rejected with a clean error: a crash, a hang
// or another exception type fails.  (Sanitizer findings need
// scripts/fuzz.sh; this build has no sanitizers.)
#include "fuzz_targets.h"
#include "util/fs.h"

#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using mlxmtp::fuzz::target;

namespace {

std::vector<std::string> corpus(const std::string &name) {
    const std::string dir = std::string(MLXMTP_SOURCE_DIR) + "/tests/fuzz/corpus/" + name;
    std::vector<std::string> files;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d))
            if (e->d_name[0] != '.') files.push_back(dir + "/" + e->d_name);
        closedir(d);
    }
    std::sort(files.begin(), files.end());  // a fixed order: the mutations depend on it
    std::vector<std::string> out;
    for (const auto &f : files) {
        std::string text;
        if (mlxmtp::detail::read_text_file(f, &text)) out.push_back(std::move(text));
        else ADD_FAILURE() << "cannot read " << f;
    }
    return out;
}

// A few libFuzzer-like edits: bit flips, random or "interesting" bytes and
// numbers, insertions, deletions, duplicated ranges, splices, truncation.
std::string mutate(const std::vector<std::string> &seeds, std::mt19937_64 &rng) {
    auto pick = [&](size_t n) { return n ? static_cast<size_t>(rng() % n) : 0; };
    std::string s = seeds[pick(seeds.size())];
    static const char *tokens[] = {"99999999999999999999", "-1", "1e309", "-0", "NaN", "\"", "{", "}", "[", "]",
                                   ":", ",", "\\u0000", "\xff\xfe", "{%", "%}", "{{", "}}", "</think>",
                                   "<tool_call>", "</tool_call>", "<parameter=", "\x00\x00\x00\x00\x00\x00\x00\x80"};
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
        const size_t at = pick(s.size() + 1);
        switch (rng() % 8) {
        case 0:
            if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
            break;
        case 1:
            if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng());
            break;
        case 2: s.insert(at, std::string(1 + pick(16), static_cast<char>(rng()))); break;
        case 3: s.erase(at, pick(64)); break;
        case 4: {  // duplicate a range
            const size_t from = pick(s.size() + 1);
            s.insert(at, s.substr(from, pick(256)));
            break;
        }
        case 5: {  // splice another seed's tail
            const std::string &o = seeds[pick(seeds.size())];
            s = s.substr(0, at) + o.substr(pick(o.size() + 1));
            break;
        }
        case 6: s.resize(at); break;
        default: {
            const char *t = tokens[pick(std::size(tokens))];
            s.insert(at, t, t[0] ? std::strlen(t) : 8);
            break;
        }
        }
    }
    return s;
}

// Mutations per target: a few seconds each on two CPU cores.
int mutations(const std::string &name) {
    if (name == "tokenizer_json" || name == "tokenizer_model") return 3000;
    if (name == "safetensors_header" || name == "checkpoint_index") return 5000;
    if (name == "chat_template" || name == "chat_input") return 20000;
    return 100000;
}

class FuzzReplay : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(FuzzReplay, CorpusAndMutationsFailCleanly) {
    const target *t = nullptr;
    for (const auto &x : mlxmtp::fuzz::targets())
        if (GetParam() == x.name) t = &x;
    ASSERT_NE(t, nullptr);
    auto seeds = corpus(t->name);
    ASSERT_FALSE(seeds.empty()) << "no corpus for " << t->name;
    std::vector<std::string> bugs;
    auto run = [&](const std::string &in) {
        std::string bug = mlxmtp::fuzz::run_one(*t, reinterpret_cast<const uint8_t *>(in.data()), in.size());
        if (!bug.empty() && bugs.size() < 5) bugs.push_back(bug);
    };
    for (const auto &s : seeds) run(s);
    std::mt19937_64 rng(std::hash<std::string>{}(t->name) ^ 0x5eed);
    const int n = mutations(t->name);
    for (int i = 0; i < n; ++i) run(mutate(seeds, rng));
    for (const auto &b : bugs) ADD_FAILURE() << t->name << ": " << b;
    std::printf("  %s: %zu corpus inputs, %d mutations\n", t->name, seeds.size(), n);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay,
                         ::testing::Values("safetensors_header", "checkpoint_index", "json", "model_config", "tokenizer_json",
                                           "tokenizer_model", "chat_template", "chat_input", "output_parser"),
                         [](const auto &info) { return info.param; });
