// The checkpoint quantizer end to end on the tiny-qwen35-dev fixture: which
// tensors are quantized / kept, the config blocks, every packed word and
// scale byte against mx_format_sim.py, cosine bounds, determinism across
// thread counts, and the failure modes (NaN, aliasing, existing output,
// interrupted writes) leaving no complete-looking output behind.
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "quant/quantize.h"
#include "quant_test_util.h"

#include <gtest/gtest.h>
#include <json-c/json.h>

#include <cmath>
#include <cstring>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

using namespace mlxmtp::detail;
using qtest::temp_dir;

namespace {

const std::string kDev = qtest::fixture("tiny-qwen35-dev");

quantize_report run(const std::string &src, const std::string &dst, mx_mode m, unsigned threads = 2,
                    bool verify = false, bool force = false, mx_scale_rule rule = mx_scale_rule::mlx_round) {
    quantize_options o;
    o.mode = m;
    o.rule = rule;
    o.threads = threads;
    o.verify = verify;
    o.force = force;
    return quantize_checkpoint(src, dst, o, nullptr);
}

struct err_outcome {
    mlxmtp_status status = MLXMTP_OK;
    std::string message;
};

template <class F>
err_outcome catch_error(F f) {
    err_outcome o;
    try {
        f();
    } catch (const error &e) {
        o.status = e.status();
        o.message = e.what();
    }
    return o;
}

std::vector<std::string> list_dir(const std::string &d) {
    std::vector<std::string> out;
    if (DIR *dd = opendir(d.c_str())) {
        while (dirent *e = readdir(dd))
            if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
        closedir(dd);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Copies the fixture's config and writes `tensors` as model.safetensors.
void make_checkpoint(const std::string &dir, const std::vector<st_tensor_data> &tensors) {
    ::mkdir(dir.c_str(), 0755);
    qtest::write_bytes(dir + "/config.json", qtest::read_bytes(kDev + "/config.json"));
    write_safetensors_file(dir + "/model.safetensors", tensors, {{"format", "pt"}});
}

json_object *load_json(const std::string &path) { return json_object_from_file(path.c_str()); }

}  // namespace

TEST(QuantCheckpoint, WhichTensorsAreQuantizedAndKept) {
    temp_dir d;
    quantize_report rep = run(kDev, d / "out", mx_mode::mxfp4);
    auto src = checkpoint::open(kDev);
    auto out = checkpoint::open(d / "out");
    // Named by the issue: quantized -> U32 weight + U8 scales; kept -> same dtype/shape/bytes.
    const char *quantized[] = {"model.language_model.embed_tokens.weight", "lm_head.weight",
                               "model.language_model.layers.0.linear_attn.in_proj_qkv.weight",
                               "model.language_model.layers.0.linear_attn.in_proj_a.weight",
                               "model.language_model.layers.0.mlp.down_proj.weight",
                               "model.language_model.layers.3.self_attn.q_proj.weight"};
    const char *kept[] = {"mtp.fc.weight", "mtp.layers.0.self_attn.q_proj.weight", "mtp.norm.weight",
                          "model.visual.blocks.0.attn.qkv.weight", "model.visual.merger.linear_fc1.weight",
                          "model.visual.patch_embed.proj.weight", "model.language_model.layers.0.linear_attn.A_log",
                          "model.language_model.layers.0.linear_attn.dt_bias",
                          "model.language_model.layers.0.linear_attn.conv1d.weight",
                          "model.language_model.layers.0.linear_attn.norm.weight",
                          "model.language_model.layers.0.input_layernorm.weight",
                          "model.language_model.layers.3.self_attn.q_norm.weight", "model.language_model.norm.weight"};
    for (const char *q : quantized) {
        const tensor_info *s = src->find(q);
        ASSERT_NE(s, nullptr) << q;
        const tensor_info *w = out->find(q);
        std::string base = std::string(q).substr(0, std::strlen(q) - 7);
        const tensor_info *sc = out->find(base + ".scales");
        ASSERT_TRUE(w && sc) << q;
        EXPECT_EQ(w->type, dtype::u32);
        EXPECT_EQ(w->shape, (std::vector<int64_t>{s->shape[0], s->shape[1] / 8}));
        EXPECT_EQ(sc->type, dtype::u8);
        EXPECT_EQ(sc->shape, (std::vector<int64_t>{s->shape[0], s->shape[1] / 32}));
        EXPECT_EQ(out->find(base + ".biases"), nullptr);
    }
    for (const char *k : kept) {
        const tensor_info *s = src->find(k);
        ASSERT_NE(s, nullptr) << k;
        const tensor_info *o = out->find(k);
        ASSERT_NE(o, nullptr) << k;
        EXPECT_EQ(o->type, s->type) << k;
        EXPECT_EQ(o->shape, s->shape) << k;
        EXPECT_EQ(0, std::memcmp(o->data, s->data, s->nbytes)) << k;
    }
    // Invariants over every tensor: all 2-D float .weight outside vision/mtp/norm/recurrent are quantized,
    // every source tensor appears exactly once, every 1-D tensor is kept.
    size_t n_scales = 0;
    for (auto *t : out->tensors()) n_scales += t->name.size() > 7 && t->name.compare(t->name.size() - 7, 7, ".scales") == 0;
    EXPECT_EQ(n_scales, rep.n_quantized);
    EXPECT_EQ(out->tensors().size(), src->tensors().size() + rep.n_quantized);
    for (auto *t : src->tensors()) {
        if (t->shape.size() == 1) EXPECT_EQ(out->find(t->name)->type, t->type) << t->name;
        bool is_q = out->find(t->name)->type == dtype::u32 && t->type != dtype::u32;
        bool special = t->name.find("visual") != std::string::npos || t->name.rfind("mtp.", 0) == 0 ||
                       t->name.find("norm") != std::string::npos || t->name.find("conv1d") != std::string::npos;
        bool eligible = t->shape.size() == 2 && t->shape[1] % 32 == 0 &&
                        t->name.compare(t->name.size() - 7, 7, ".weight") == 0 && !special;
        EXPECT_EQ(is_q, eligible) << t->name;
    }
    EXPECT_EQ(src->find("mtp.fc.weight")->type, dtype::bf16);
    // metadata and layout rules of the output
    for (auto &f : out->files()) EXPECT_EQ(f->metadata().at("format"), "mlx");
    // side files copied
    EXPECT_EQ(qtest::read_bytes(d / "out/preprocessor_config.json"), qtest::read_bytes(kDev + "/preprocessor_config.json"));
    EXPECT_FALSE(qtest::exists(d / "out/reference.safetensors"));
}

TEST(QuantCheckpoint, ConfigBlocks) {
    temp_dir d;
    run(kDev, d / "o4", mx_mode::mxfp4);
    run(kDev, d / "o8", mx_mode::mxfp8);
    for (auto [dir, bits, mode] : {std::tuple<std::string, int, const char *>{d / "o4", 4, "mxfp4"},
                                   std::tuple<std::string, int, const char *>{d / "o8", 8, "mxfp8"}}) {
        json_object *root = load_json(dir + "/config.json");
        ASSERT_NE(root, nullptr);
        for (const char *key : {"quantization", "quantization_config"}) {
            json_object *q = nullptr, *v = nullptr;
            ASSERT_TRUE(json_object_object_get_ex(root, key, &q)) << key;
            ASSERT_TRUE(json_object_object_get_ex(q, "group_size", &v));
            EXPECT_EQ(json_object_get_int(v), 32);
            ASSERT_TRUE(json_object_object_get_ex(q, "bits", &v));
            EXPECT_EQ(json_object_get_int(v), bits);
            ASSERT_TRUE(json_object_object_get_ex(q, "mode", &v));
            EXPECT_STREQ(json_object_get_string(v), mode);
        }
        json_object *tc = nullptr, *v = nullptr;
        ASSERT_TRUE(json_object_object_get_ex(root, "text_config", &tc));
        ASSERT_TRUE(json_object_object_get_ex(tc, "mtp_num_hidden_layers", &v));
        EXPECT_EQ(json_object_get_int(v), 1);  // the source has MTP tensors
        ASSERT_TRUE(json_object_object_get_ex(root, "vision_config", &v));
        json_object_put(root);
    }
    // re-quantizing a quantized checkpoint is refused
    err_outcome e = catch_error([&] { run(d / "o4", d / "again", mx_mode::mxfp4); });
    EXPECT_NE(e.status, MLXMTP_OK);
}

TEST(QuantCheckpoint, MtpLayersZeroWithoutMtpTensors) {
    temp_dir d;
    std::vector<uint16_t> w(64 * 32, 0x3f80);
    make_checkpoint(d / "src", {{{"model.language_model.layers.0.mlp.up_proj.weight", dtype::bf16, {64, 32}, w.size() * 2},
                                 w.data()}});
    run(d / "src", d / "out", mx_mode::mxfp4);
    json_object *root = load_json(d / "out/config.json");
    json_object *tc = nullptr, *v = nullptr;
    ASSERT_TRUE(json_object_object_get_ex(root, "text_config", &tc));
    ASSERT_TRUE(json_object_object_get_ex(tc, "mtp_num_hidden_layers", &v));
    EXPECT_EQ(json_object_get_int(v), 0);
    json_object_put(root);
}

class QuantVsSim : public ::testing::TestWithParam<mx_mode> {};

// Every packed word and scale byte equals what mx_format_sim.py produces for
// the same source values; cosine per tensor above the bounds.
TEST_P(QuantVsSim, EveryWordAndScaleOfTheFixture) {
    const mx_mode m = GetParam();
    temp_dir d;
    quantize_report rep = run(kDev, d / "out", m, 2, /*verify=*/true);
    auto src = checkpoint::open(kDev);
    auto out = checkpoint::open(d / "out");
    std::vector<float> vals;
    std::vector<std::pair<std::string, size_t>> spans;  // tensor -> group count
    for (auto *t : src->tensors()) {
        const tensor_info *o = out->find(t->name);
        if (o->type != dtype::u32 || t->type == dtype::u32) continue;
        for (int64_t i = 0; i < t->numel(); ++i) vals.push_back(load_as_f32(t->type, t->data, i));
        spans.emplace_back(t->name, static_cast<size_t>(t->numel() / 32));
    }
    ASSERT_EQ(spans.size(), rep.n_quantized);
    qtest::temp_dir sd;
    qtest::write_bytes(sd / "in.f32", std::string(reinterpret_cast<const char *>(vals.data()), vals.size() * 4));
    std::string cmd = std::string("/usr/bin/python3 '") + MLXMTP_SOURCE_DIR + "/tests/tools/mx_sim_quantize.py' '" +
                      MLXMTP_FIXTURES_DIR + "/mx' '" + (sd / "in.f32") + "' '" + (sd / "out.bin") + "' " +
                      (m == mx_mode::mxfp4 ? "4" : "8") + " metal";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::string sim = qtest::read_bytes(sd / "out.bin");
    const size_t gb = m == mx_mode::mxfp4 ? 16 : 32;
    ASSERT_EQ(sim.size(), vals.size() / 32 * (1 + gb));
    size_t g0 = 0, mismatches = 0;
    for (auto &[name, ng] : spans) {
        const tensor_info *w = out->find(name);
        const tensor_info *sc = out->find(name.substr(0, name.size() - 7) + ".scales");
        ASSERT_EQ(w->nbytes, ng * gb);
        ASSERT_EQ(sc->nbytes, ng);
        for (size_t g = 0; g < ng; ++g) {
            const char *rec = sim.data() + (g0 + g) * (1 + gb);
            bool ok = static_cast<uint8_t>(rec[0]) == sc->data[g] && std::memcmp(rec + 1, w->data + g * gb, gb) == 0;
            if (!ok && ++mismatches < 5) ADD_FAILURE() << name << " group " << g << " differs from the emulator";
        }
        g0 += ng;
    }
    EXPECT_EQ(mismatches, 0u);
    // cosine bounds of the issue, per tensor
    const double bound = m == mx_mode::mxfp4 ? 0.99 : 0.997;
    ASSERT_TRUE(rep.verified);
    for (auto &t : rep.tensors)
        if (t.reason == keep_reason::quantize) EXPECT_GE(t.cosine, bound) << t.name;
    EXPECT_GE(rep.cos_min, bound);
    // independent recomputation of one tensor's cosine from the file and the E2M1/E4M3 value tables
    const std::string probe = "model.language_model.layers.0.mlp.down_proj.weight";
    const tensor_info *s = src->find(probe), *w = out->find(probe),
                      *sc = out->find("model.language_model.layers.0.mlp.down_proj.scales");
    static const double fp4[16] = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6};
    double dot = 0, aa = 0, bb = 0;
    for (int64_t i = 0; i < s->numel(); ++i) {
        double scale = std::ldexp(1.0, static_cast<int>(sc->data[i / 32]) - 127);
        uint8_t code = m == mx_mode::mxfp4 ? ((w->data[i / 2] >> (4 * (i % 2))) & 0xF) : w->data[i];
        double e;
        if (m == mx_mode::mxfp4) {
            e = fp4[code];
        } else {
            int ex = (code >> 3) & 0xF, mant = code & 7;
            e = ex == 0 ? mant / 8.0 * std::ldexp(1.0, -6) : (1 + mant / 8.0) * std::ldexp(1.0, ex - 7);
            if (code & 0x80) e = -e;
        }
        double a = load_as_f32(s->type, s->data, i), b = e * scale;
        dot += a * b;
        aa += a * a;
        bb += b * b;
    }
    double cos = dot / std::sqrt(aa * bb);
    for (auto &t : rep.tensors)
        if (t.name == probe) EXPECT_NEAR(t.cosine, cos, 1e-9);
}

INSTANTIATE_TEST_SUITE_P(Modes, QuantVsSim, ::testing::Values(mx_mode::mxfp4, mx_mode::mxfp8));

TEST(QuantCheckpoint, DeterministicAcrossThreadCounts) {
    temp_dir d;
    quantize_options o;
    o.shard_bytes = 700000;  // several shards
    for (unsigned t : {1u, 2u, 5u}) {
        o.threads = t;
        quantize_checkpoint(kDev, d / ("out" + std::to_string(t)), o, nullptr);
    }
    auto files = list_dir(d / "out1");
    EXPECT_GT(files.size(), 4u);  // config, index, preprocessor, >= 2 shards
    EXPECT_EQ(files, list_dir(d / "out2"));
    EXPECT_EQ(files, list_dir(d / "out5"));
    for (auto &f : files) {
        std::string a = qtest::read_bytes(d / ("out1/" + f));
        EXPECT_EQ(a, qtest::read_bytes(d / ("out2/" + f))) << f;
        EXPECT_EQ(a, qtest::read_bytes(d / ("out5/" + f))) << f;
    }
    auto ck = checkpoint::open(d / "out1");
    EXPECT_GE(ck->files().size(), 2u);
    for (auto &f : ck->files()) EXPECT_NE(f->path().find("-of-0000"), std::string::npos);
}

TEST(QuantCheckpoint, NanOrInfRefusedNamingTheTensor) {
    temp_dir d;
    std::vector<float> w(4 * 64, 0.5f);
    w[64 + 7] = NAN;
    make_checkpoint(d / "src", {{{"model.language_model.layers.0.mlp.up_proj.weight", dtype::f32, {4, 64}, w.size() * 4},
                                 w.data()}});
    err_outcome e = catch_error([&] { run(d / "src", d / "out", mx_mode::mxfp8); });
    EXPECT_EQ(e.status, MLXMTP_ERR_FORMAT);
    EXPECT_NE(e.message.find("model.language_model.layers.0.mlp.up_proj.weight"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("NaN at [1, 7]"), std::string::npos) << e.message;
    EXPECT_FALSE(qtest::exists(d / "out"));
    EXPECT_EQ(list_dir(d.path), std::vector<std::string>{"src"});  // no temporary directory left

    w[64 + 7] = -INFINITY;
    make_checkpoint(d / "src2", {{{"lm_head.weight", dtype::f32, {4, 64}, w.size() * 4}, w.data()}});
    e = catch_error([&] { run(d / "src2", d / "out", mx_mode::mxfp4); });
    EXPECT_NE(e.message.find("\"lm_head.weight\" contains Inf"), std::string::npos) << e.message;
    // Inf in a kept tensor is fine (copied as is)
    make_checkpoint(d / "src3", {{{"model.visual.x.weight", dtype::f32, {4, 64}, w.size() * 4}, w.data()}});
    run(d / "src3", d / "out3", mx_mode::mxfp4);
}

// Finite weights so large that their MX scale is past what the engine runs
// exactly (mx_max_engine_scale_byte: 2^113 for MXFP4) are refused as NaN is,
// naming tensor, row and group, with nothing written; the same tensor
// quantizes in MXFP8, whose range (2^119) covers it.
TEST(QuantCheckpoint, ScaleBeyondEngineRangeRefused) {
    temp_dir d;
    std::vector<float> w(4 * 64, 0.5f);
    w[64 + 40] = std::ldexp(1.0f, 120);  // row 1, group 1: an MXFP4 scale near 2^117
    make_checkpoint(d / "src", {{{"model.language_model.layers.0.mlp.up_proj.weight", dtype::f32, {4, 64}, w.size() * 4},
                                 w.data()}});
    err_outcome e = catch_error([&] { run(d / "src", d / "out", mx_mode::mxfp4); });
    EXPECT_EQ(e.status, MLXMTP_ERR_FORMAT);
    EXPECT_NE(e.message.find("model.language_model.layers.0.mlp.up_proj.weight"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("at row 1, columns 32..63 (largest magnitude 1.32923e+36)"), std::string::npos)
        << e.message;
    EXPECT_NE(e.message.find("at most 2^113"), std::string::npos) << e.message;
    EXPECT_FALSE(qtest::exists(d / "out"));
    EXPECT_EQ(list_dir(d.path), std::vector<std::string>{"src"});  // no temporary directory left
    run(d / "src", d / "out8", mx_mode::mxfp8);
    auto ck = checkpoint::open(d / "out8");
    const tensor_info *sc = ck->find("model.language_model.layers.0.mlp.up_proj.scales");
    ASSERT_NE(sc, nullptr);
    EXPECT_GT(sc->data[2 + 1], 127 + 100);  // row 1, group 1: the large value's scale, within MXFP8's range
    EXPECT_LE(sc->data[2 + 1], mx_max_engine_scale_byte(mx_mode::mxfp8));
}

TEST(QuantCheckpoint, OutputPathSafety) {
    temp_dir d;
    ASSERT_EQ(std::system(("cp -r '" + kDev + "' '" + (d / "src") + "'").c_str()), 0);
    err_outcome e = catch_error([&] { run(d / "src", d / "src", mx_mode::mxfp4); });
    EXPECT_EQ(e.status, MLXMTP_ERR_INVALID_ARG) << e.message;
    e = catch_error([&] { run(d / "src", d / "src/sub", mx_mode::mxfp4); });
    EXPECT_EQ(e.status, MLXMTP_ERR_INVALID_ARG) << e.message;
    ASSERT_EQ(::symlink((d / "src").c_str(), (d / "link").c_str()), 0);
    e = catch_error([&] { run(d / "src", d / "link", mx_mode::mxfp4, 2, false, true); });
    EXPECT_EQ(e.status, MLXMTP_ERR_INVALID_ARG) << e.message;
    e = catch_error([&] { run(d / "src/..", d / "x", mx_mode::mxfp4); });  // output inside... the source's parent
    EXPECT_NE(e.status, MLXMTP_OK);
    e = catch_error([&] { run(d / "missing", d / "x", mx_mode::mxfp4); });
    EXPECT_EQ(e.status, MLXMTP_ERR_NOT_FOUND);

    // existing non-empty output: refused without force, replaced whole with force
    ::mkdir((d / "out").c_str(), 0755);
    qtest::write_bytes(d / "out/old.txt", "old");
    e = catch_error([&] { run(d / "src", d / "out", mx_mode::mxfp4); });
    EXPECT_EQ(e.status, MLXMTP_ERR_EXISTS) << e.message;
    EXPECT_TRUE(qtest::exists(d / "out/old.txt"));
    run(d / "src", d / "out", mx_mode::mxfp4, 2, false, /*force=*/true);
    EXPECT_FALSE(qtest::exists(d / "out/old.txt"));
    EXPECT_TRUE(qtest::exists(d / "out/model.safetensors"));
    // an empty existing directory is fine without force
    ::mkdir((d / "empty").c_str(), 0755);
    run(d / "src", d / "empty", mx_mode::mxfp8);
    auto names = list_dir(d.path);
    for (auto &n : names) EXPECT_EQ(n.find("mlxmtp-tmp"), std::string::npos) << n;
}

TEST(QuantCheckpoint, InterruptedWriteLeavesNoCompleteLookingOutput) {
    temp_dir d;
    // 1. a write failure in the middle of the run (test hook): nothing at the output path
    quantize_set_fail_after_tasks(10);
    err_outcome e = catch_error([&] { run(kDev, d / "out", mx_mode::mxfp4, 2); });
    quantize_set_fail_after_tasks(0);
    EXPECT_EQ(e.status, MLXMTP_ERR_IO) << e.message;
    EXPECT_FALSE(qtest::exists(d / "out"));
    EXPECT_TRUE(list_dir(d.path).empty());
    // 2. the same with an old output in place and --force: the old output survives unchanged
    run(kDev, d / "out", mx_mode::mxfp8);
    std::string before = qtest::read_bytes(d / "out/model.safetensors");
    quantize_set_fail_after_tasks(3);
    e = catch_error([&] { run(kDev, d / "out", mx_mode::mxfp4, 1, false, true); });
    quantize_set_fail_after_tasks(0);
    EXPECT_EQ(e.status, MLXMTP_ERR_IO);
    EXPECT_EQ(qtest::read_bytes(d / "out/model.safetensors"), before);
    EXPECT_EQ(list_dir(d.path), std::vector<std::string>{"out"});
    // 3. abort from the progress callback
    quantize_options o;
    o.force = true;
    e = catch_error([&] { quantize_checkpoint(kDev, d / "out", o, [](quantize_phase, uint64_t, uint64_t) { return false; }); });
    EXPECT_EQ(e.status, MLXMTP_ERR_ABORTED);
    EXPECT_EQ(qtest::read_bytes(d / "out/model.safetensors"), before);
    // 4. disk full (RLIMIT_FSIZE, SIGXFSZ ignored -> EFBIG) in a child process
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {300000, 300000};
        setrlimit(RLIMIT_FSIZE, &rl);
        try {
            run(kDev, d / "full", mx_mode::mxfp8, 1);
        } catch (const error &ex) {
            _exit(ex.status() == MLXMTP_ERR_NO_SPACE ? 3 : 4);
        }
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 3);
    EXPECT_FALSE(qtest::exists(d / "full"));
    // 5. kill -9 at several moments: the output is absent or complete; a re-run cleans up and succeeds
    for (int k = 0; k < 6; ++k) {
        std::string dst = d / ("killed" + std::to_string(k));
        pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            try {
                run(kDev, dst, mx_mode::mxfp4, 1, /*verify=*/true);
            } catch (...) {
                _exit(1);
            }
            _exit(0);
        }
        usleep(static_cast<useconds_t>(k * 15000));
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (qtest::exists(dst)) {
            auto ck = checkpoint::open(dst);  // complete and valid, or this throws
            EXPECT_TRUE(qtest::exists(dst + "/config.json"));
        }
        run(kDev, dst, mx_mode::mxfp4, 2, false, true);
        EXPECT_TRUE(qtest::exists(dst + "/model.safetensors"));
    }
    for (auto &n : list_dir(d.path)) EXPECT_EQ(n.find("mlxmtp-tmp"), std::string::npos) << n;
}

TEST(SafetensorsWrite, RoundTripAndShardPlan) {
    temp_dir d;
    std::vector<uint8_t> a(3, 7);
    std::vector<float> b = {1, 2, 3, 4};
    write_safetensors_file(d / "t.safetensors",
                           {{{"a", dtype::u8, {3}, 3}, a.data()}, {{"b", dtype::f32, {2, 2}, 16}, b.data()}},
                           {{"format", "mlx"}});
    auto f = safetensors_file::open(d / "t.safetensors");
    EXPECT_EQ(f->metadata().at("format"), "mlx");
    const tensor_info *tb = f->find("b");
    ASSERT_NE(tb, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(tb->data) % 4, 0u) << "f32 data aligned (alignment-sorted layout)";
    EXPECT_EQ(0, std::memcmp(tb->data, b.data(), 16));
    EXPECT_EQ(f->find("a")->data[2], 7);
    EXPECT_EQ(list_dir(d.path), std::vector<std::string>{"t.safetensors"});

    std::vector<st_entry> es;
    for (int i = 0; i < 5; ++i) es.push_back({"t" + std::to_string(4 - i), dtype::u8, {100}, 100});
    auto plans = plan_shards(es, 250, {});
    ASSERT_EQ(plans.size(), 3u);
    EXPECT_EQ(plans[0].file_name, "model-00001-of-00003.safetensors");
    EXPECT_EQ(plans[0].entries[0].name, "t0");
    EXPECT_EQ(plans[2].entries.size(), 1u);
    EXPECT_EQ(plan_shards(es, 0, {}).at(0).file_name, "model.safetensors");
    std::string idx = build_index_json(plans);
    EXPECT_NE(idx.find("\"total_size\": 500"), std::string::npos);
    EXPECT_LT(idx.find("\"t0\""), idx.find("\"t4\""));
}
