// Byte-level BPE against the reference `tokenizers` output (fixtures nobody
// here wrote): qwen3-tokenizer/tokenizer_cases.json (313 cases) and the
// trained fixture's reference generations.
#include "tok/detokenizer.h"
#include "tok/tokenizer.h"
#include "tok/utf8.h"
#include "tok_test_util.h"
#include "util/error.h"

#include <gtest/gtest.h>

using namespace mlxmtp::detail;
using namespace tok_test;

namespace {

const tokenizer &qwen3() {
    static std::unique_ptr<tokenizer> t = tokenizer::open(fixture("qwen3-tokenizer"));
    return *t;
}
const tokenizer &trained() {
    static std::unique_ptr<tokenizer> t = tokenizer::open(fixture("tiny-qwen35-trained"));
    return *t;
}

std::string show(const std::vector<int32_t> &v) {
    std::string s;
    for (int32_t x : v) s += std::to_string(x) + " ";
    return s;
}

}  // namespace

TEST(TokBpe, Qwen3ReferenceCasesEncodeExactly) {
    auto doc = load_json("qwen3-tokenizer/tokenizer_cases.json");
    size_t n = json_object_array_length(doc.get());
    ASSERT_EQ(n, 313u);
    size_t ok = 0;
    for (size_t i = 0; i < n; ++i) {
        json_object *c = json_object_array_get_idx(doc.get(), i);
        std::string text = str(get(c, "text"));
        std::vector<int32_t> want = ids(get(c, "ids"));
        std::vector<int32_t> got = qwen3().encode(text);
        EXPECT_EQ(got, want) << "case " << i << " text: " << text << "\n got:  " << show(got) << "\n want: " << show(want);
        ok += got == want;
    }
    EXPECT_EQ(ok, n);
}

TEST(TokBpe, Qwen3ReferenceCasesDecodeExactly) {
    auto doc = load_json("qwen3-tokenizer/tokenizer_cases.json");
    size_t n = json_object_array_length(doc.get());
    for (size_t i = 0; i < n; ++i) {
        json_object *c = json_object_array_get_idx(doc.get(), i);
        std::vector<int32_t> v = ids(get(c, "ids"));
        EXPECT_EQ(qwen3().decode(v.data(), v.size()), str(get(c, "decoded"))) << "case " << i;
    }
}

TEST(TokBpe, Qwen3IncrementalDecodeMatchesBatchOneIdAtATime) {
    auto doc = load_json("qwen3-tokenizer/tokenizer_cases.json");
    size_t n = json_object_array_length(doc.get());
    for (size_t i = 0; i < n; ++i) {
        json_object *c = json_object_array_get_idx(doc.get(), i);
        std::vector<int32_t> v = ids(get(c, "ids"));
        detokenizer d(qwen3(), false);
        std::string all;
        for (int32_t id : v) {
            std::string piece;
            d.push(&id, 1, piece);
            EXPECT_TRUE(utf8_valid(piece)) << "case " << i << " emitted broken UTF-8";
            all += piece;
        }
        std::string tail;
        d.flush(tail);
        all += tail;
        EXPECT_EQ(all, str(get(c, "decoded"))) << "case " << i;
    }
}

TEST(TokBpe, Qwen3ChatCaseIdsEncodeExactly) {
    auto doc = load_json("qwen3-tokenizer/chat_cases.json");
    size_t n = json_object_array_length(doc.get());
    ASSERT_EQ(n, 8u);
    for (size_t i = 0; i < n; ++i) {
        json_object *c = json_object_array_get_idx(doc.get(), i);
        std::vector<int32_t> want = ids(get(c, "ids"));
        std::vector<int32_t> got = qwen3().encode(str(get(c, "rendered")));
        EXPECT_EQ(got, want) << "chat case " << i;
        EXPECT_EQ(qwen3().decode(want.data(), want.size()), str(get(c, "rendered")));
    }
}

TEST(TokBpe, TrainedFixtureDecodesReferenceGenerations) {
    auto doc = load_json("tiny-qwen35-trained/reference_generation.json");
    json_object *cases = get(doc.get(), "cases");
    size_t n = json_object_array_length(cases);
    ASSERT_EQ(n, 27u);
    for (size_t i = 0; i < n; ++i) {
        json_object *c = json_object_array_get_idx(cases, i);
        std::vector<int32_t> p = ids(get(c, "prompt_ids")), g = ids(get(c, "greedy_ids"));
        EXPECT_EQ(trained().decode(p.data(), p.size()), str(get(c, "prompt_text"))) << "case " << i;
        EXPECT_EQ(trained().decode(g.data(), g.size()), str(get(c, "greedy_text"))) << "case " << i;
        // Streaming the generation gives the same text.
        detokenizer d(trained(), false);
        std::string all;
        d.push(g.data(), g.size(), all);
        d.flush(all);
        EXPECT_EQ(all, str(get(c, "greedy_text")));
        // Round trip: encoding the reference text decodes back to it.
        std::string text = str(get(c, "prompt_text"));
        std::vector<int32_t> e = trained().encode(text);
        EXPECT_EQ(trained().decode(e.data(), e.size()), text);
    }
}

TEST(TokBpe, AddedTokensAndSpecialFlags) {
    const tokenizer &t = qwen3();
    EXPECT_EQ(t.token_to_id("<|im_end|>"), 151645);
    EXPECT_EQ(t.eos_token(), "<|im_end|>");
    EXPECT_EQ(t.eos_id(), 151645);
    EXPECT_TRUE(t.is_special(151645));
    std::vector<int32_t> v = t.encode("<|im_start|>user");
    ASSERT_GE(v.size(), 2u);
    EXPECT_EQ(v[0], 151644);
    // With special-token parsing off the marker is plain text.
    encode_options o;
    o.parse_special = false;
    std::vector<int32_t> w = t.encode("<|im_start|>", o);
    EXPECT_GT(w.size(), 1u);
    EXPECT_EQ(t.decode(w.data(), w.size()), "<|im_start|>");
    // skip_special drops special tokens only.
    std::vector<int32_t> x = t.encode("<|im_start|>hi<think>");
    EXPECT_EQ(t.decode(x.data(), x.size(), true), "hi<think>");
}

TEST(TokBpe, DecodeRejectsUnknownIdsAndEncodeRejectsInvalidUtf8) {
    int32_t bad[2] = {1, 1 << 30};
    EXPECT_THROW(qwen3().decode(bad, 2), error);
    int32_t neg = -1;
    EXPECT_THROW(qwen3().decode(&neg, 1), error);
    EXPECT_THROW(qwen3().encode(std::string("a\xC3(", 3)), error);
    EXPECT_TRUE(qwen3().encode("").empty());
}

TEST(TokBpe, IncrementalDecodeSplitsMultiByteCharacters) {
    // "é" + emoji encode to byte-level tokens that may split characters;
    // whatever the split, no chunk is broken UTF-8 and the text is exact.
    std::string text = "naïve 🙂 日本語テキスト ✓";
    std::vector<int32_t> v = qwen3().encode(text);
    detokenizer d(qwen3(), false);
    std::string all;
    for (int32_t id : v) {
        std::string piece;
        d.push(&id, 1, piece);
        EXPECT_TRUE(utf8_valid(piece));
        all += piece;
    }
    d.flush(all);
    EXPECT_EQ(all, text);
}

TEST(TokBpe, OpenErrors) {
    try {
        tokenizer::open(fixture("does-not-exist"));
        FAIL();
    } catch (const error &e) {
        EXPECT_EQ(e.status(), MLXMTP_ERR_NOT_FOUND);
    }
    try {
        tokenizer::open(fixture("qwen3-tokenizer/chat_cases.json"));  // JSON, but not a tokenizer
        FAIL();
    } catch (const error &e) {
        EXPECT_EQ(e.status(), MLXMTP_ERR_FORMAT);
    }
}
