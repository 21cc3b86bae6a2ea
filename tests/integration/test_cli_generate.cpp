// `mlxmtp generate` end to end through the real program: --json fields, the
// trained model's reference greedy ids, MTP stats, --dump-logits against the
// Hugging Face logits (default and small prompt chunks), --no-tensor-cores, and a clear error for a
// broken model directory.
#include "fixture_data.h"
#include "io/safetensors.h"
#include "test_env.h"

#include <json-c/json.h>

#include <cstdio>
#include <cstring>
#include <string>

using namespace mlxmtp;

namespace {

int run(const std::string &args, std::string *out) {
    std::string cmd = std::string(MLXMTP_CLI_PATH) + " " + args + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return -1;
    char buf[4096];
    size_t n;
    out->clear();
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string ids_arg(const std::vector<int32_t> &ids) {
    std::string s;
    for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
    return s;
}

}  // namespace

TEST(CliGenerate, JsonGreedyMatchesReferenceAndMtpReportsStats) {
    auto c = test::load_trained_cases()[1];
    for (const char *decoder : {"vanilla", "mtp"}) {
        std::string out;
        int rc = run("generate --model " + test::fixture("tiny-qwen35-trained") + " --prompt-ids " + ids_arg(c.prompt) +
                         " --max-tokens 16 --ignore-eos --json --decoder " + decoder + " --draft 2",
                     &out);
        ASSERT_EQ(rc, 0) << out;
        json_object *j = json_tokener_parse(out.c_str());
        ASSERT_NE(j, nullptr) << out;
        json_object *toks, *fin, *tm, *v;
        ASSERT_TRUE(json_object_object_get_ex(j, "tokens", &toks));
        ASSERT_EQ(json_object_array_length(toks), 16u);
        for (size_t i = 0; i < 16; ++i) EXPECT_EQ(json_object_get_int(json_object_array_get_idx(toks, i)), c.greedy[i]) << decoder << " " << i;
        ASSERT_TRUE(json_object_object_get_ex(j, "finish_reason", &fin));
        EXPECT_STREQ(json_object_get_string(fin), "length");
        ASSERT_TRUE(json_object_object_get_ex(j, "timings", &tm));
        for (const char *k : {"ttft_s", "prefill_s", "decode_s", "prefill_tok_s", "decode_tok_s"})
            EXPECT_TRUE(json_object_object_get_ex(tm, k, &v)) << k;
        json_object *stats;
        ASSERT_TRUE(json_object_object_get_ex(j, "stats", &stats));
        for (const char *k : {"rounds", "drafted", "accepted", "acceptance_rate", "acceptance_per_position", "tokens_per_round"})
            EXPECT_TRUE(json_object_object_get_ex(stats, k, &v)) << k;
        if (std::string(decoder) == "mtp") {
            json_object_object_get_ex(stats, "tokens_per_round", &v);
            EXPECT_GT(json_object_get_double(v), 1.0);
        }
        json_object_put(j);
    }
}

TEST(CliGenerate, DumpLogitsMatchesReference) {
    test::temp_dir tmp;
    auto ids = test::dev_references().i32("p1.ids");
    auto want = test::dev_references().f32("p1.logits");
    // The default prompt chunk and a small one (--max-batch: several chunks).
    for (const char *chunk : {"", " --max-batch 7"}) {
        std::string out;
        ASSERT_EQ(run("generate --model " + test::fixture("tiny-qwen35-dev") + " --prompt-ids " + ids_arg(ids) +
                          " --max-tokens 1 --json --dump-logits " + (tmp / "logits.safetensors") + chunk,
                      &out),
                  0)
            << out;
        auto f = detail::safetensors_file::open(tmp / "logits.safetensors");
        const detail::tensor_info *t = f->find("logits");
        ASSERT_NE(t, nullptr);
        ASSERT_EQ(t->type, detail::dtype::f32);
        ASSERT_EQ(t->shape, (std::vector<int64_t>{static_cast<int64_t>(ids.size()), static_cast<int64_t>(want.size() / ids.size())}));
        std::vector<float> got(want.size());
        std::memcpy(got.data(), t->data, got.size() * 4);
        EXPECT_LT(test::compare(got, want).rel, 1e-3) << chunk;
    }
    std::string out;
    EXPECT_NE(run("generate --model " + test::fixture("tiny-qwen35-dev") + " --prompt-ids 1,2 --max-batch 0", &out), 0)
        << out;
}

// --no-tensor-cores: the reference greedy ids with "tensor_cores": false
// (also where the device has them); with --tensor-cores too, a usage error.
TEST(CliGenerate, NoTensorCoresFlag) {
    auto c = test::load_trained_cases()[2];
    const std::string base = "generate --model " + test::fixture("tiny-qwen35-trained") + " --prompt-ids " +
                             ids_arg(c.prompt) + " --max-tokens 8 --ignore-eos --json --no-tensor-cores";
    std::string out;
    ASSERT_EQ(run(base, &out), 0) << out;
    json_object *j = json_tokener_parse(out.c_str());
    ASSERT_NE(j, nullptr) << out;
    json_object *toks, *tc;
    ASSERT_TRUE(json_object_object_get_ex(j, "tokens", &toks));
    ASSERT_EQ(json_object_array_length(toks), 8u);
    for (size_t i = 0; i < 8; ++i) EXPECT_EQ(json_object_get_int(json_object_array_get_idx(toks, i)), c.greedy[i]) << i;
    ASSERT_TRUE(json_object_object_get_ex(j, "tensor_cores", &tc));
    EXPECT_FALSE(json_object_get_boolean(tc));
    json_object_put(j);
    EXPECT_EQ(run(base + " --tensor-cores", &out), 2) << out;
    EXPECT_NE(out.find("--no-tensor-cores"), std::string::npos) << out;
}

TEST(CliGenerate, BrokenModelIsAClearError) {
    test::temp_dir tmp;
    FILE *f = std::fopen((tmp / "config.json").c_str(), "w");
    std::fputs("{\"text_config\": {\"hidden_size\": ", f);  // truncated JSON
    std::fclose(f);
    std::string out;
    int rc = run("generate --model " + tmp.path() + " --prompt-ids 1,2,3", &out);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("error:"), std::string::npos) << out;
    EXPECT_NE(out.find("config.json"), std::string::npos) << out;
}
