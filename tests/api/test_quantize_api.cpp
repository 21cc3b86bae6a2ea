// The public quantizer API: defaults, argument checks, stats and per-tensor
// events on the tiny fixture (only include/mlxmtp.h is used).
#include <mlxmtp.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct tmpdir {
    std::string path;
    tmpdir() {
        char t[] = "/tmp/mlxmtp_qapi_XXXXXX";
        path = mkdtemp(t);
    }
    ~tmpdir() { std::string c = "rm -rf '" + path + "'"; if (std::system(c.c_str())) {} }
};

struct events {
    int progress = 0;
    std::vector<std::string> quantized, kept;
    double min_cos = 2;
};

int32_t on_event(const mlxmtp_quantize_event *ev, void *ud) {
    auto *e = static_cast<events *>(ud);
    if (ev->kind == MLXMTP_QUANTIZE_EVENT_PROGRESS) {
        ++e->progress;
        EXPECT_LE(ev->bytes_done, ev->bytes_total);
    } else if (ev->kind == MLXMTP_QUANTIZE_EVENT_TENSOR) {
        (ev->quantized ? e->quantized : e->kept).push_back(ev->tensor);
        if (ev->quantized) {
            EXPECT_EQ(ev->verified, 1u);
            e->min_cos = std::fmin(e->min_cos, ev->cosine);
        }
    }
    return 0;
}

const std::string kDev = std::string(MLXMTP_FIXTURES_DIR) + "/tiny-qwen35-dev";

}  // namespace

TEST(QuantizeApi, DefaultsAndArgumentChecks) {
    mlxmtp_quantize_params p;
    mlxmtp_quantize_params_init(&p);
    EXPECT_EQ(p.struct_size, sizeof p);
    EXPECT_EQ(p.mode, static_cast<uint32_t>(MLXMTP_QUANT_MXFP4));
    EXPECT_EQ(p.scale_rule, static_cast<uint32_t>(MLXMTP_SCALE_RULE_MLX));
    tmpdir d;
    EXPECT_EQ(mlxmtp_quantize_file(nullptr, (d.path + "/o").c_str(), nullptr, nullptr, nullptr), MLXMTP_ERR_INVALID_ARG);
    p.flags = 0x80;
    EXPECT_EQ(mlxmtp_quantize_file(kDev.c_str(), (d.path + "/o").c_str(), &p, nullptr, nullptr), MLXMTP_ERR_INVALID_ARG);
    EXPECT_NE(std::string(mlxmtp_last_error()).find("flag"), std::string::npos);
    mlxmtp_quantize_params_init(&p);
    p.mode = 7;
    EXPECT_EQ(mlxmtp_quantize_file(kDev.c_str(), (d.path + "/o").c_str(), &p, nullptr, nullptr), MLXMTP_ERR_INVALID_ARG);
    EXPECT_EQ(mlxmtp_quantize_file(kDev.c_str(), kDev.c_str(), nullptr, nullptr, nullptr), MLXMTP_ERR_INVALID_ARG);
    EXPECT_EQ(mlxmtp_quantize_file((d.path + "/none").c_str(), (d.path + "/o").c_str(), nullptr, nullptr, nullptr),
              MLXMTP_ERR_NOT_FOUND);
}

TEST(QuantizeApi, StatsAndEvents) {
    tmpdir d;
    for (uint32_t mode : {MLXMTP_QUANT_MXFP4, MLXMTP_QUANT_MXFP8}) {
        mlxmtp_quantize_stats s;
        mlxmtp_quantize_stats_init(&s);
        mlxmtp_quantize_params p;
        mlxmtp_quantize_params_init(&p);
        p.mode = mode;
        p.flags = MLXMTP_QUANTIZE_VERIFY;
        p.stats = &s;
        events e;
        std::string out = d.path + "/out" + std::to_string(mode);
        ASSERT_EQ(mlxmtp_quantize_file(kDev.c_str(), out.c_str(), &p, on_event, &e), MLXMTP_OK) << mlxmtp_last_error();
        EXPECT_GT(e.progress, 0);
        EXPECT_EQ(s.n_quantized, e.quantized.size());
        EXPECT_EQ(s.n_kept, e.kept.size());
        EXPECT_EQ(s.n_tensors, s.n_quantized + s.n_kept);
        EXPECT_EQ(s.verified, 1u);
        EXPECT_DOUBLE_EQ(s.cos_min, e.min_cos);
        EXPECT_GE(s.cos_min, mode == MLXMTP_QUANT_MXFP4 ? 0.99 : 0.997);
        EXPECT_LE(s.cos_min, s.cos_mean);
        // a second run into the same (now non-empty) directory needs FORCE
        EXPECT_EQ(mlxmtp_quantize_file(kDev.c_str(), out.c_str(), &p, nullptr, nullptr), MLXMTP_ERR_EXISTS);
        p.flags |= MLXMTP_QUANTIZE_FORCE;
        EXPECT_EQ(mlxmtp_quantize_file(kDev.c_str(), out.c_str(), &p, nullptr, nullptr), MLXMTP_OK);
    }
}
