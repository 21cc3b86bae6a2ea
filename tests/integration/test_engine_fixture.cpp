// The Vulkan engine against the Hugging Face reference fixtures: prompt
// logits, greedy continuations, rollback, and the trained model's greedy
// generations.  Runs on lavapipe with validation on.
#include "fixture_data.h"
#include "model/model.h"
#include "ops/tuning.h"
#include "session/session.h"
#include "engine_models.h"
#include "test_env.h"

#include <cmath>
#include <cstdio>
#include <cstring>

using namespace mlxmtp;
using namespace mlxmtp::detail;

namespace {

const engine_model &dev_model() { return test::dev_engine_model(); }

const engine_model &trained_model() { return test::trained_engine_model(); }

std::vector<float> prompt_logits(const engine_model &m, const std::vector<int32_t> &ids, uint32_t max_batch = 64) {
    session_options so;
    so.max_batch = max_batch;
    engine_session s(m, so);
    s.eval(ids.data(), static_cast<uint32_t>(ids.size()), logits_rows::all);
    return s.logits();
}

}  // namespace

class EngineDevPrompt : public ::testing::TestWithParam<int> {};

TEST_P(EngineDevPrompt, LogitsMatchReference) {
    test::validation_scope vs;
    const std::string p = "p" + std::to_string(GetParam());
    auto ids = test::dev_references().i32(p + ".ids");
    auto want = test::dev_references().f32(p + ".logits");
    auto got = prompt_logits(dev_model(), ids);
    test::rel_err e = test::compare(got, want);
    std::printf("  %s (%zu tokens): max rel err %.3e, max abs %.3e\n", p.c_str(), ids.size(), e.rel, e.abs);
    EXPECT_LT(e.rel, 1e-3);
}

TEST_P(EngineDevPrompt, LogitsIndependentOfChunking) {
    // Prefill in chunks of 16 and token by token give the same logits as one pass.
    test::validation_scope vs;
    const std::string p = "p" + std::to_string(GetParam());
    auto ids = test::dev_references().i32(p + ".ids");
    auto a = prompt_logits(dev_model(), ids, 64);
    auto b = prompt_logits(dev_model(), ids, 16);
    EXPECT_LT(test::compare(b, a).rel, 1e-5);
}

TEST_P(EngineDevPrompt, LastRowLogitsMatchReferenceInOneLargeChunk) {
    // The default chunk (256) takes the whole prompt in one pass while only
    // the last row's logits come back; chunks of 1 token must agree, and
    // every-row logits with a large max_batch run in logits-sized chunks.
    test::validation_scope vs;
    const std::string p = "p" + std::to_string(GetParam());
    auto ids = test::dev_references().i32(p + ".ids");
    auto want = test::dev_references().f32(p + ".logits");
    const size_t V = want.size() / ids.size();
    std::vector<float> want_last(want.end() - V, want.end());
    for (uint32_t mb : {256u, 1u}) {
        session_options so;
        so.max_batch = mb;
        engine_session s(dev_model(), so);
        s.eval(ids.data(), static_cast<uint32_t>(ids.size()), logits_rows::last);
        ASSERT_EQ(s.logits().size(), V) << mb;
        EXPECT_LT(test::compare(s.logits(), want_last).rel, 1e-3) << mb;
    }
    auto all = prompt_logits(dev_model(), ids, 4096);
    ASSERT_EQ(all.size(), want.size());
    EXPECT_LT(test::compare(all, want).rel, 1e-3);
}

TEST_P(EngineDevPrompt, GreedyContinuationFollowsMarginRule) {
    test::validation_scope vs;
    const std::string p = "p" + std::to_string(GetParam());
    auto ids = test::dev_references().i32(p + ".ids");
    auto want = test::dev_references().i32(p + ".greedy");
    auto margin = test::dev_references().f32(p + ".greedy_margin");
    auto ref_logits = test::dev_references().f32(p + ".logits");
    double max_abs = test::compare(prompt_logits(dev_model(), ids), ref_logits).abs;

    engine_session s(dev_model(), {});
    s.eval(ids.data(), static_cast<uint32_t>(ids.size()), logits_rows::argmax);
    size_t agreed = 0, required = want.size();
    for (size_t i = 0; i < want.size(); ++i)
        if (margin[i] < 2 * max_abs) {
            required = i;
            break;
        }
    for (size_t i = 0; i < want.size(); ++i) {
        int32_t tok = s.last_argmax();
        if (tok != want[i]) break;
        ++agreed;
        s.eval(&tok, 1, logits_rows::argmax);
    }
    std::printf("  %s: greedy agreed for %zu of %zu steps (required %zu; 2 x max abs err = %.2e)\n", p.c_str(),
                agreed, want.size(), required, 2 * max_abs);
    EXPECT_GE(agreed, required);
}

INSTANTIATE_TEST_SUITE_P(Prompts, EngineDevPrompt, ::testing::Values(0, 1, 2));

TEST(EngineRollback, WithinWindowIsExactAndMatchesFreshSession) {
    test::validation_scope vs;
    auto ids = test::dev_references().i32("p1.ids");  // 37 tokens
    const uint32_t n = static_cast<uint32_t>(ids.size());
    engine_session s(dev_model(), {});
    s.eval(ids.data(), 20, logits_rows::none);
    for (uint32_t i = 20; i < n; ++i) s.eval(&ids[i], 1, logits_rows::last);  // decode steps
    for (uint32_t back : {1u, 5u, 16u}) {
        ASSERT_TRUE(s.rollback_is_exact(back)) << back;
        s.rollback(back);
        uint32_t keep = n - back;
        ASSERT_EQ(s.position(), keep);
        // Continue with the next token and compare with a fresh session on the same prefix.
        s.eval(&ids[keep], 1, logits_rows::last);
        engine_session fresh(dev_model(), {});
        fresh.eval(ids.data(), keep + 1, logits_rows::last);
        EXPECT_LT(test::compare(s.logits(), fresh.logits()).rel, 1e-5) << "rollback " << back;
        for (uint32_t i = keep + 1; i < n; ++i) s.eval(&ids[i], 1, logits_rows::none);  // restore the length
    }
}

TEST(EngineRollback, SmallWindowWithMultiTokenEvals) {
    // A snapshot window smaller than the evals (ring of 4 slots, evals of up
    // to 9 tokens): the first tokens of an eval skip their snapshots, the
    // state then passes through the scratch state, and the conv epilogue of
    // the qkv product (evals <= 16 tokens) starts mid-ring.  Every row's
    // logits must still match the reference, and rollbacks inside and
    // beyond the window must continue like a fresh session.
    test::validation_scope vs;
    auto ids = test::dev_references().i32("p1.ids");  // 37 tokens
    auto want = test::dev_references().f32("p1.logits");
    const size_t V = dev_model().text().vocab_size;
    session_options so;
    so.snapshot_window = 2;
    engine_session s(dev_model(), so);
    uint32_t at = 0;
    for (uint32_t piece : {7u, 1u, 9u, 3u, 2u, 5u}) {
        s.eval(&ids[at], piece, logits_rows::all);
        ASSERT_EQ(s.logits().size(), piece * V);
        std::vector<float> rows(want.begin() + at * V, want.begin() + (at + piece) * V);
        EXPECT_LT(test::compare(s.logits(), rows).rel, 1e-3) << "piece at " << at;
        at += piece;
    }
    for (uint32_t back : {2u, 5u}) {
        EXPECT_EQ(s.rollback_is_exact(back), back <= 2) << back;
        s.rollback(back);
        const uint32_t keep = at - back;
        s.eval(&ids[keep], 3, logits_rows::all);
        engine_session fresh(dev_model(), {});
        fresh.eval(ids.data(), keep + 3, logits_rows::all);
        std::vector<float> tail(fresh.logits().end() - 3 * V, fresh.logits().end());
        EXPECT_LT(test::compare(s.logits(), tail).rel, 1e-5) << "rollback " << back;
        at = keep + 3;
    }
}

TEST(EngineRollback, BeyondWindowRecomputes) {
    test::validation_scope vs;
    auto ids = test::dev_references().i32("p2.ids");  // 130 tokens
    session_options so;
    so.snapshot_window = 16;
    engine_session s(dev_model(), so);
    s.eval(ids.data(), 100, logits_rows::none);
    EXPECT_FALSE(s.rollback_is_exact(40));
    s.rollback(40);
    EXPECT_EQ(s.position(), 60u);
    s.eval(&ids[60], 1, logits_rows::last);
    engine_session fresh(dev_model(), {});
    fresh.eval(ids.data(), 61, logits_rows::last);
    EXPECT_LT(test::compare(s.logits(), fresh.logits()).rel, 1e-5);
    // The reference logits of the full prompt's row 60 agree too.
    auto want = test::dev_references().f32("p2.logits");
    const size_t V = dev_model().text().vocab_size;
    std::vector<float> row(want.begin() + 60 * V, want.begin() + 61 * V);
    EXPECT_LT(test::compare(s.logits(), row).rel, 1e-3);
}

TEST(EngineContext, FullContextIsAClearError) {
    session_options so;
    so.n_ctx = 8;
    engine_session s(dev_model(), so);
    auto ids = test::dev_references().i32("p1.ids");
    try {
        s.eval(ids.data(), 9, logits_rows::none);
        FAIL() << "expected a context-full error";
    } catch (const error &e) {
        EXPECT_EQ(e.status(), MLXMTP_ERR_CONTEXT_FULL);
    }
    s.eval(ids.data(), 8, logits_rows::last);  // exactly full is fine
    EXPECT_EQ(s.position(), 8u);
}

TEST(EngineTrained, GreedyMatchesReference) {
    test::validation_scope vs;
    auto cases = test::load_trained_cases();
    ASSERT_EQ(cases.size(), 27u);
    int matched = 0;
    for (const auto &c : cases) {
        engine_session s(trained_model(), {});
        s.eval(c.prompt.data(), static_cast<uint32_t>(c.prompt.size()), logits_rows::argmax);
        std::vector<int32_t> out;
        while (out.size() < c.greedy.size()) {
            int32_t tok = s.last_argmax();
            out.push_back(tok);
            s.eval(&tok, 1, logits_rows::argmax);
        }
        matched += out == c.greedy;
    }
    std::printf("  trained model: %d of 27 greedy continuations equal the reference\n", matched);
    EXPECT_GE(matched, 25);
}

// Issue 6's verify contract at the session level: a chunk of n tokens (an
// MTP verify) gives each row's logits bit for bit as the same tokens decoded
// one at a time, for chunk sizes across everything a verify can take (every
// matvec column count, the fused conv / gated-norm / SwiGLU epilogues, and
// the unfused MLP past ops::glu_fused_max_cols).
TEST(EngineBatchInvariance, ChunkRowsEqualSingleTokenDecodeBitForBit) {
    test::validation_scope vs;
    const engine_model &m = dev_model();
    const auto ids = test::dev_references().i32("p1.ids");
    ASSERT_GE(ids.size(), 28u);
    const uint32_t P = 12, V = static_cast<uint32_t>(m.text().vocab_size);
    for (uint32_t n : {2u, 3u, 4u, 5u, 9u, 16u}) {
        engine_session chunk(m, {}), single(m, {});
        chunk.eval(ids.data(), P, logits_rows::last);
        single.eval(ids.data(), P, logits_rows::last);
        chunk.eval(ids.data() + P, n, logits_rows::all);
        const std::vector<float> rows = chunk.logits();
        ASSERT_EQ(rows.size(), size_t(n) * V);
        for (uint32_t i = 0; i < n; ++i) {
            single.eval(ids.data() + P + i, 1, logits_rows::last);
            ASSERT_EQ(single.logits().size(), size_t(V));
            EXPECT_EQ(std::memcmp(single.logits().data(), rows.data() + size_t(i) * V, size_t(V) * 4), 0)
                << "chunk of " << n << ", row " << i;
        }
    }
}

// Split-K attention (decode and verify chunks at long contexts) at tiny split
// sizes, so that the fixture's short prompts run as up to 7 splits: prompt
// logits in chunks of 16 against the reference, and chunk rows bit for bit
// as single-token decodes.
TEST(EngineSplitAttention, SmallSplitsMatchReferenceAndStayBatchInvariant) {
    test::validation_scope vs;
    struct restore {
        ~restore() { ops::tuning().attn_split_keys = 0, ops::tuning().attn_max_splits = 0; }
    } r;
    ops::tuning().attn_split_keys = 5;
    ops::tuning().attn_max_splits = 7;
    const engine_model &m = dev_model();
    const auto ids = test::dev_references().i32("p2.ids");
    test::rel_err e = test::compare(prompt_logits(m, ids, 16), test::dev_references().f32("p2.logits"));
    std::printf("  p2 in chunks of 16, split attention: max rel err %.3e\n", e.rel);
    EXPECT_LT(e.rel, 1e-3);
    const uint32_t P = 40, n = 9, V = static_cast<uint32_t>(m.text().vocab_size);
    engine_session chunk(m, {}), single(m, {});
    chunk.eval(ids.data(), P, logits_rows::last);
    single.eval(ids.data(), P, logits_rows::last);
    chunk.eval(ids.data() + P, n, logits_rows::all);
    const std::vector<float> rows = chunk.logits();
    for (uint32_t i = 0; i < n; ++i) {
        single.eval(ids.data() + P + i, 1, logits_rows::last);
        EXPECT_EQ(std::memcmp(single.logits().data(), rows.data() + size_t(i) * V, size_t(V) * 4), 0) << "row " << i;
    }
}
