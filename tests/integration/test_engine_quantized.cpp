// The quantized fixture (MXFP8 / MXFP4 output of the quantizer) runs on the
// engine, and its prompt logits stay close to the bf16 Hugging Face
// reference.  Also: many sessions on many threads give the serial tokens.
#include "fixture_data.h"
#include "model/model.h"
#include "quant/quantize.h"
#include "ref/ref_model.h"
#include "session/session.h"
#include "engine_models.h"
#include "test_env.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

using namespace mlxmtp;
using namespace mlxmtp::detail;

namespace {

double cosine(const std::vector<float> &a, const std::vector<float> &b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        ab += double(a[i]) * b[i];
        aa += double(a[i]) * a[i];
        bb += double(b[i]) * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

std::unique_ptr<engine_model> quantized_model(const std::string &fixture, mx_mode mode, const test::temp_dir &tmp) {
    quantize_options qo;
    qo.mode = mode;
    std::string out = tmp / "q";
    quantize_checkpoint(test::fixture(fixture), out, qo, {});
    return engine_model::open(out, test::validated_device_ptr(), {});
}

const char *mode_name(mx_mode m) { return m == mx_mode::mxfp8 ? "mxfp8" : "mxfp4"; }

}  // namespace

class EngineQuantized : public ::testing::TestWithParam<mx_mode> {};

// The random-weight dev fixture: the engine on the quantized checkpoint equals
// the CPU reference on the same checkpoint (the MX path end to end); cosine to
// the HF bf16 logits is reported (random weights amplify quantization error).
TEST_P(EngineQuantized, DevFixtureMatchesReferenceOnSameWeights) {
    test::validation_scope vs;
    test::temp_dir tmp;
    auto m = quantized_model("tiny-qwen35-dev", GetParam(), tmp);
    EXPECT_EQ(m->matrix_format(), GetParam() == mx_mode::mxfp8 ? ops::wformat::mxfp8 : ops::wformat::mxfp4);
    auto ref = ref::ref_model::load(tmp / "q");
    for (int p : {0, 1, 2}) {
        const std::string name = "p" + std::to_string(p);
        auto ids = test::dev_references().i32(name + ".ids");
        engine_session s(*m, {});
        s.eval(ids.data(), static_cast<uint32_t>(ids.size()), logits_rows::all);
        auto cache = ref->new_cache();
        auto r = ref->forward(cache, ids.data(), static_cast<int64_t>(ids.size()));
        test::rel_err e = test::compare(s.logits(), r.logits);
        std::printf("  %s %s: vs CPU reference on the same weights %.2e; cosine vs HF bf16 logits %.4f\n",
                    mode_name(GetParam()), name.c_str(), e.rel, cosine(s.logits(), test::dev_references().f32(name + ".logits")));
        EXPECT_LT(e.rel, 1e-3);
    }
}

// The trained fixture: quantized logits stay close to the bf16 model's
// (the CPU reference, itself checked against the HF fixtures).
TEST_P(EngineQuantized, TrainedLogitsCloseToBf16) {
    test::validation_scope vs;
    test::temp_dir tmp;
    auto m = quantized_model("tiny-qwen35-trained", GetParam(), tmp);
    static std::unique_ptr<ref::ref_model> bf16 = ref::ref_model::load(test::fixture("tiny-qwen35-trained"));
    auto cases = test::load_trained_cases();
    double worst = 1;
    for (size_t c = 0; c < 4; ++c) {
        const auto &ids = cases[c].prompt;
        engine_session s(*m, {});
        s.eval(ids.data(), static_cast<uint32_t>(ids.size()), logits_rows::all);
        auto cache = bf16->new_cache();
        auto r = bf16->forward(cache, ids.data(), static_cast<int64_t>(ids.size()));
        worst = std::min(worst, cosine(s.logits(), r.logits));
    }
    std::printf("  %s trained model: min logits cosine vs bf16 over 4 prompts %.5f\n", mode_name(GetParam()), worst);
    if (GetParam() == mx_mode::mxfp8) EXPECT_GE(worst, 0.99);
    else EXPECT_GE(worst, 0.95);
}

INSTANTIATE_TEST_SUITE_P(Modes, EngineQuantized, ::testing::Values(mx_mode::mxfp8, mx_mode::mxfp4),
                         [](const ::testing::TestParamInfo<mx_mode> &i) {
                             return std::string(i.param == mx_mode::mxfp8 ? "MXFP8" : "MXFP4");
                         });

// A quantized checkpoint whose E8M0 scale exceeds what the matrix-vector
// kernel takes exactly (ops::max_scale_byte: 2^113 for MXFP4, 2^119 for
// MXFP8; MLX's quantizer never writes such scales for real weights) is a
// clear FORMAT error naming the tensor; the largest allowed byte loads.
TEST(EngineQuantizedScales, OutOfRangeScaleIsRejected) {
    test::temp_dir tmp;
    for (mx_mode mode : {mx_mode::mxfp4, mx_mode::mxfp8}) {
        const std::string dir = tmp / mode_name(mode);
        quantize_options qo;
        qo.mode = mode;
        quantize_checkpoint(test::fixture("tiny-qwen35-dev"), dir, qo, {});
        // The byte offset of the first scale of the first down_proj scales
        // tensor, from the safetensors header ("data_offsets" past 8 + N).
        const std::string file = dir + "/model.safetensors";
        std::FILE *f = std::fopen(file.c_str(), "r+b");
        ASSERT_NE(f, nullptr) << file;
        uint64_t hlen = 0;
        ASSERT_EQ(std::fread(&hlen, 8, 1, f), 1u);
        std::string header(hlen, '\0');
        ASSERT_EQ(std::fread(header.data(), 1, hlen, f), hlen);
        size_t at = header.find("mlp.down_proj.scales\"");
        ASSERT_NE(at, std::string::npos);
        const std::string tensor = header.substr(header.rfind('"', at - 1) + 1, at + 20 - header.rfind('"', at - 1) - 1);
        size_t off = header.find("\"data_offsets\"", at);
        ASSERT_NE(off, std::string::npos);
        const uint64_t pos = 8 + hlen + std::strtoull(header.c_str() + header.find('[', off) + 1, nullptr, 10);
        const uint8_t lim = ops::max_scale_byte(mode == mx_mode::mxfp4 ? ops::wformat::mxfp4 : ops::wformat::mxfp8);
        for (uint8_t b : {uint8_t(lim + 1), lim}) {
            ASSERT_EQ(std::fseek(f, long(pos), SEEK_SET), 0);
            ASSERT_EQ(std::fwrite(&b, 1, 1, f), 1u);
            ASSERT_EQ(std::fflush(f), 0);
            if (b > lim) {
                try {
                    engine_model::open(dir, test::validated_device_ptr(), {});
                    ADD_FAILURE() << mode_name(mode) << ": scale byte " << int(b) << " was accepted";
                } catch (const error &e) {
                    EXPECT_EQ(e.status(), MLXMTP_ERR_FORMAT);
                    EXPECT_NE(std::string(e.what()).find(tensor.substr(0, tensor.size() - 7)), std::string::npos)
                        << e.what();
                    EXPECT_NE(std::string(e.what()).find("scale byte " + std::to_string(b)), std::string::npos) << e.what();
                }
            } else {
                EXPECT_NO_THROW(engine_model::open(dir, test::validated_device_ptr(), {})) << mode_name(mode);
            }
        }
        std::fclose(f);
    }
}

TEST(EngineThreads, FourThreadsTwoSessionsEachMatchSerial) {
    // One shared model; 4 threads x 2 sessions, each greedy-decoding a different
    // prompt; the tokens must equal a serial run of the same prompts.
    test::validation_scope vs;
    const engine_model *m = &test::trained_engine_model();
    auto cases = test::load_trained_cases();
    const int kThreads = 4, kPerThread = 2, kSteps = 12;
    auto run = [&](int idx) {
        engine_session s(*m, {});
        const auto &pr = cases[idx].prompt;
        s.eval(pr.data(), static_cast<uint32_t>(pr.size()), logits_rows::argmax);
        std::vector<int32_t> out;
        for (int i = 0; i < kSteps; ++i) {
            int32_t t = s.last_argmax();
            out.push_back(t);
            s.eval(&t, 1, logits_rows::argmax);
        }
        return out;
    };
    std::vector<std::vector<int32_t>> serial(kThreads * kPerThread), parallel(kThreads * kPerThread);
    for (int i = 0; i < kThreads * kPerThread; ++i) serial[i] = run(i);
    std::vector<std::thread> th;
    std::vector<std::string> errors(kThreads);
    for (int t = 0; t < kThreads; ++t)
        th.emplace_back([&, t] {
            try {
                for (int j = 0; j < kPerThread; ++j) parallel[t * kPerThread + j] = run(t * kPerThread + j);
            } catch (const std::exception &e) {
                errors[t] = e.what();
            }
        });
    for (auto &x : th) x.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
    for (int i = 0; i < kThreads * kPerThread; ++i) EXPECT_EQ(parallel[i], serial[i]) << "prompt " << i;
}
