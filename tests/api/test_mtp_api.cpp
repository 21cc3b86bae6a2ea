// The MTP decoder through the public C API: session selection, steps of
// 1..k+1 tokens equal to vanilla greedy, per-step k, statistics, teacher-forced
// MTP logits, rollback between speculative steps.
#include <mlxmtp.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

const std::string kTrained = std::string(MLXMTP_FIXTURES_DIR) + "/tiny-qwen35-trained";

std::vector<int32_t> run(mlxmtp_session *s, const std::vector<int32_t> &prompt, uint32_t n, int32_t draft,
                         uint32_t *max_step) {
    EXPECT_EQ(mlxmtp_session_prefill(s, prompt.data(), prompt.size()), MLXMTP_OK);
    mlxmtp_generate_params gp;
    mlxmtp_generate_params_init(&gp);
    gp.max_tokens = n;
    gp.draft_tokens = draft;
    std::vector<int32_t> out;
    *max_step = 0;
    for (;;) {
        mlxmtp_step_result r;
        mlxmtp_step_result_init(&r);
        EXPECT_EQ(mlxmtp_generate_step(s, &gp, &r), MLXMTP_OK) << mlxmtp_session_last_error(s);
        out.insert(out.end(), r.tokens, r.tokens + r.n_tokens);
        *max_step = std::max(*max_step, r.n_tokens);
        if (r.finish_reason != MLXMTP_FINISH_NONE || r.n_tokens == 0) break;
    }
    return out;
}

}  // namespace

TEST(MtpApi, GreedyStepsStatsAndLogits) {
    mlxmtp_model *m = nullptr;
    ASSERT_EQ(mlxmtp_model_open(kTrained.c_str(), nullptr, &m), MLXMTP_OK) << mlxmtp_last_error();
    mlxmtp_model_info info;
    mlxmtp_model_info_init(&info);
    ASSERT_EQ(mlxmtp_model_get_info(m, &info), MLXMTP_OK);
    ASSERT_EQ(info.has_mtp, 1u);
    std::vector<int32_t> prompt = {785, 279, 1882, 315, 264, 13, 198, 750};
    for (auto &t : prompt) t %= info.usable_vocab;

    mlxmtp_session *v = nullptr, *s = nullptr;
    ASSERT_EQ(mlxmtp_session_create(m, nullptr, &v), MLXMTP_OK);
    mlxmtp_session_params sp;
    mlxmtp_session_params_init(&sp);
    EXPECT_EQ(sp.decoder, (uint32_t)MLXMTP_DECODER_VANILLA);
    sp.decoder = MLXMTP_DECODER_MTP;
    sp.draft_tokens = 3;
    ASSERT_EQ(mlxmtp_session_create(m, &sp, &s), MLXMTP_OK) << mlxmtp_model_last_error(m);

    uint32_t step_v = 0, step_s = 0;
    auto want = run(v, prompt, 16, -1, &step_v);
    auto got = run(s, prompt, 16, -1, &step_s);
    EXPECT_EQ(got, want);
    EXPECT_EQ(step_v, 1u);
    EXPECT_GE(step_s, 2u);
    EXPECT_LE(step_s, 4u);

    mlxmtp_session_stats st;
    mlxmtp_session_stats_init(&st);
    ASSERT_EQ(mlxmtp_session_get_stats(s, &st), MLXMTP_OK);
    EXPECT_EQ(st.decoder, (uint32_t)MLXMTP_DECODER_MTP);
    EXPECT_EQ(st.draft_tokens, 3u);
    EXPECT_GT(st.rounds, 0u);
    EXPECT_EQ(st.drafted >= st.accepted, true);
    EXPECT_GT(st.snapshot_bytes, 0u);
    EXPECT_GE(st.n_positions, 1u);
    EXPECT_NEAR(st.tokens_per_round, double(st.accepted + st.rounds) / st.rounds, 1e-9);

    // Rollback between speculative steps, then the same continuation again.
    ASSERT_EQ(mlxmtp_rollback(s, 5), MLXMTP_OK);
    mlxmtp_generate_params gp;
    mlxmtp_generate_params_init(&gp);
    gp.draft_tokens = 2;  // per-step override
    std::vector<int32_t> again;
    while (again.size() < 5) {
        mlxmtp_step_result r;
        mlxmtp_step_result_init(&r);
        ASSERT_EQ(mlxmtp_generate_step(s, &gp, &r), MLXMTP_OK);
        EXPECT_LE(r.n_tokens, 3u);
        again.insert(again.end(), r.tokens, r.tokens + r.n_tokens);
    }
    again.resize(5);
    EXPECT_EQ(again, std::vector<int32_t>(want.end() - 5, want.end()));

    mlxmtp_session_reset_stats(s);
    ASSERT_EQ(mlxmtp_session_get_stats(s, &st), MLXMTP_OK);
    EXPECT_EQ(st.rounds, 0u);

    // Teacher-forced MTP logits: row t predicts ids[t+2]; the vanilla session refuses.
    std::vector<int32_t> seq = prompt;
    seq.insert(seq.end(), want.begin(), want.end());
    std::vector<uint32_t> pos = {0, static_cast<uint32_t>(seq.size() - 2)};
    std::vector<float> l(pos.size() * info.vocab_size);
    ASSERT_EQ(mlxmtp_session_mtp_logits(s, seq.data(), seq.size(), pos.data(), pos.size(), l.data()), MLXMTP_OK)
        << mlxmtp_session_last_error(s);
    EXPECT_EQ(mlxmtp_session_mtp_logits(v, seq.data(), seq.size(), pos.data(), pos.size(), l.data()),
              MLXMTP_ERR_BAD_STATE);
    uint32_t bad = static_cast<uint32_t>(seq.size() - 1);
    EXPECT_EQ(mlxmtp_session_mtp_logits(s, seq.data(), seq.size(), &bad, 1, l.data()), MLXMTP_ERR_INVALID_ARG);

    mlxmtp_session_destroy(s);
    mlxmtp_session_destroy(v);
    mlxmtp_model_destroy(m);
}

// MLXMTP_INSTANCE_TENSOR_CORES / MLXMTP_MODEL_TENSOR_CORES (the default) and
// the NO_TENSOR_CORES opt-outs (and MLXMTP_MODEL_PRECISE_ACTIVATIONS):
// accepted flags, not together; a model opened
// with MLXMTP_MODEL_NO_TENSOR_CORES never uses them, and where the device has
// no VK_NV_cooperative_matrix (lavapipe) no model does, and all generate the
// same tokens.
TEST(MtpApi, TensorCoreFlagsFallBackWhereTheDeviceLacksThem) {
    mlxmtp_instance_params ip;
    mlxmtp_instance_params_init(&ip);
    ip.flags = MLXMTP_INSTANCE_TENSOR_CORES;
    mlxmtp_instance *inst = nullptr;
    ASSERT_EQ(mlxmtp_instance_create(&ip, &inst), MLXMTP_OK) << mlxmtp_last_error();
    mlxmtp_model_params mp;
    mlxmtp_model_params_init(&mp);
    mp.instance = inst;
    mp.flags = MLXMTP_MODEL_TENSOR_CORES;
    mlxmtp_model *tc = nullptr, *plain = nullptr;
    ASSERT_EQ(mlxmtp_model_open(kTrained.c_str(), &mp, &tc), MLXMTP_OK) << mlxmtp_last_error();
    ASSERT_EQ(mlxmtp_model_open(kTrained.c_str(), nullptr, &plain), MLXMTP_OK) << mlxmtp_last_error();
    mlxmtp_device_info di;
    mlxmtp_device_info_init(&di);
    ASSERT_EQ(mlxmtp_instance_device_info(inst, 0, &di), MLXMTP_OK);
    mlxmtp_model_info info;
    mlxmtp_model_info_init(&info);
    ASSERT_EQ(mlxmtp_model_get_info(tc, &info), MLXMTP_OK);
    if (!(di.features & MLXMTP_FEATURE_COOPMAT_NV)) EXPECT_EQ(info.tensor_cores, 0u);
    std::vector<int32_t> prompt = {785, 279, 1882, 315, 264, 13, 198, 750};
    for (auto &t : prompt) t %= info.usable_vocab;
    mlxmtp_session *a = nullptr, *b = nullptr;
    ASSERT_EQ(mlxmtp_session_create(tc, nullptr, &a), MLXMTP_OK);
    ASSERT_EQ(mlxmtp_session_create(plain, nullptr, &b), MLXMTP_OK);
    uint32_t sa = 0, sb = 0;
    if (!info.tensor_cores) EXPECT_EQ(run(a, prompt, 8, -1, &sa), run(b, prompt, 8, -1, &sb));
    mlxmtp_session_destroy(a);
    mlxmtp_session_destroy(b);
    mlxmtp_model_destroy(tc);
    mlxmtp_model_destroy(plain);
    // Opted out: never tensor cores.
    mp.flags = MLXMTP_MODEL_NO_TENSOR_CORES;
    mlxmtp_model *off = nullptr;
    ASSERT_EQ(mlxmtp_model_open(kTrained.c_str(), &mp, &off), MLXMTP_OK) << mlxmtp_last_error();
    ASSERT_EQ(mlxmtp_model_get_info(off, &info), MLXMTP_OK);
    EXPECT_EQ(info.tensor_cores, 0u);
    EXPECT_EQ(info.tensor_core_x_bits, 0u);
    mlxmtp_model_destroy(off);
    // MLXMTP_MODEL_PRECISE_ACTIVATIONS: accepted; x bits 22 on tensor cores,
    // else 0 (lavapipe) with the same tokens as the plain model.
    mp.flags = MLXMTP_MODEL_PRECISE_ACTIVATIONS;
    mlxmtp_model *precise = nullptr;
    ASSERT_EQ(mlxmtp_model_open(kTrained.c_str(), &mp, &precise), MLXMTP_OK) << mlxmtp_last_error();
    ASSERT_EQ(mlxmtp_model_get_info(precise, &info), MLXMTP_OK);
    EXPECT_EQ(info.tensor_core_x_bits, info.tensor_cores ? 22u : 0u);
    mlxmtp_model_destroy(precise);
    // Unknown model flags and contradicting ones are rejected.
    mlxmtp_model *bad = nullptr;
    for (uint32_t flags : {0x80000000u, MLXMTP_MODEL_TENSOR_CORES | MLXMTP_MODEL_NO_TENSOR_CORES}) {
        mp.flags = flags;
        EXPECT_EQ(mlxmtp_model_open(kTrained.c_str(), &mp, &bad), MLXMTP_ERR_INVALID_ARG);
        EXPECT_EQ(bad, nullptr);
    }
    mlxmtp_instance_destroy(inst);
    ip.flags = MLXMTP_INSTANCE_TENSOR_CORES | MLXMTP_INSTANCE_NO_TENSOR_CORES;
    EXPECT_EQ(mlxmtp_instance_create(&ip, &inst), MLXMTP_ERR_INVALID_ARG);
    ip.flags = MLXMTP_INSTANCE_NO_TENSOR_CORES;
    ASSERT_EQ(mlxmtp_instance_create(&ip, &inst), MLXMTP_OK) << mlxmtp_last_error();
    mlxmtp_instance_destroy(inst);
}
