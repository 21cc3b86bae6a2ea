// Loading broken checkpoints (issue 5: "a missing or mis-shaped tensor is a
// clear error naming it"; wrong configs are errors, never crashes): the dev
// fixture rewritten with one tensor gone, one tensor reshaped (same bytes,
// another shape, so only the loader's check can catch it), and seeded
// mutations of config.json's numbers.  Every open must succeed or throw a
// library error; afterwards the device still opens and runs the real model.
#include "engine_models.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "model/model.h"
#include "session/session.h"
#include "test_env.h"
#include "util/error.h"
#include "util/fs.h"

#include <gtest/gtest.h>
#include <json-c/json.h>

#include <functional>
#include <random>

using namespace mlxmtp;
using namespace mlxmtp::detail;

namespace {

struct tensor_copy {
    st_entry e;
    std::vector<uint8_t> bytes;
};

std::vector<tensor_copy> dev_tensors() {
    auto ck = checkpoint::open(test::fixture("tiny-qwen35-dev"));
    std::vector<tensor_copy> out;
    for (const tensor_info *t : ck->tensors()) {
        tensor_copy c;
        c.e.name = t->name, c.e.type = t->type, c.e.shape = t->shape, c.e.nbytes = t->nbytes;
        c.bytes.assign(t->data, t->data + t->nbytes);
        out.push_back(std::move(c));
    }
    return out;
}

std::string dev_config_text() {
    std::string text;
    EXPECT_TRUE(read_text_file(test::fixture("tiny-qwen35-dev/config.json"), &text));
    return text;
}

void write_model(const std::string &dir, const std::vector<tensor_copy> &ts, const std::string &config) {
    write_file_atomic(dir + "/config.json", config.data(), config.size(), false);
    std::vector<st_tensor_data> data;
    for (const auto &t : ts) data.push_back({t.e, t.bytes.data()});
    write_safetensors_file(dir + "/model.safetensors", data, {});
}

// Opens `dir`; returns the error (status, message), or status OK when it opened.
std::pair<mlxmtp_status, std::string> try_open(const std::string &dir) {
    try {
        auto m = engine_model::open(dir, test::validated_device_ptr(), {});
        return {MLXMTP_OK, ""};
    } catch (const error &e) {
        return {e.status(), e.what()};
    }
}

// config.json text with its text_config edited by `edit` (json-c objects).
std::string edit_text_config(const std::string &text, const std::function<void(json_object *tc)> &edit) {
    json_object *root = json_tokener_parse(text.c_str());
    EXPECT_NE(root, nullptr);
    if (!root) return text;
    edit(json_object_object_get(root, "text_config"));
    const std::string edited = json_object_to_json_string(root);
    json_object_put(root);
    return edited;
}

size_t find_tensor(const std::vector<tensor_copy> &ts, const std::string &suffix) {
    for (size_t i = 0; i < ts.size(); ++i)
        if (ts[i].e.name.size() >= suffix.size() &&
            ts[i].e.name.compare(ts[i].e.name.size() - suffix.size(), suffix.size(), suffix) == 0)
            return i;
    ADD_FAILURE() << "no tensor ending in " << suffix;
    return 0;
}

}  // namespace

TEST(ModelLoadErrors, MissingTensorIsNamed) {
    test::validation_scope vs;
    test::temp_dir tmp;
    const auto ts = dev_tensors();
    const std::string config = dev_config_text();
    for (const char *suffix : {"layers.1.linear_attn.in_proj_qkv.weight", "layers.3.self_attn.k_norm.weight",
                               "mlp.down_proj.weight"}) {
        auto broken = ts;
        const size_t i = find_tensor(broken, suffix);
        const std::string name = broken[i].e.name;
        broken.erase(broken.begin() + static_cast<long>(i));
        write_model(tmp.path(), broken, config);
        auto [st, msg] = try_open(tmp.path());
        EXPECT_EQ(st, MLXMTP_ERR_NOT_FOUND) << msg;
        EXPECT_NE(msg.find(name), std::string::npos) << msg;
    }
}

TEST(ModelLoadErrors, MisShapedTensorIsNamed) {
    test::validation_scope vs;
    test::temp_dir tmp;
    const auto ts = dev_tensors();
    const std::string config = dev_config_text();
    for (const char *suffix : {"layers.0.mlp.down_proj.weight", "layers.2.linear_attn.out_proj.weight",
                               "layers.3.self_attn.q_proj.weight", "linear_attn.conv1d.weight"}) {
        auto broken = ts;
        tensor_copy &t = broken[find_tensor(broken, suffix)];
        // The same bytes under another shape: rows and columns swapped (or a
        // leading dimension folded in), so the file itself stays valid.
        std::vector<int64_t> &s = t.e.shape;
        int64_t numel = 1;
        for (int64_t d : s) numel *= d;
        if (s.size() == 2 && s[0] != s[1]) std::swap(s[0], s[1]);
        else s = {numel, 1};
        write_model(tmp.path(), broken, config);
        auto [st, msg] = try_open(tmp.path());
        EXPECT_NE(st, MLXMTP_OK) << suffix;
        EXPECT_NE(msg.find(t.e.name), std::string::npos) << msg;
    }
}

TEST(ModelLoadErrors, MutatedConfigsFailCleanly) {
    test::validation_scope vs;
    test::temp_dir tmp;
    const auto ts = dev_tensors();
    const std::string text = dev_config_text();
    std::mt19937_64 rng(2026);
    int opened = 0, rejected = 0;
    for (int iter = 0; iter < 40; ++iter) {
        const std::string mutated = edit_text_config(text, [&](json_object *tc) {
            std::vector<std::string> keys;
            json_object_object_foreach(tc, k, v) {
                if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) keys.push_back(k);
            }
            const int edits = 1 + static_cast<int>(rng() % 3);
            for (int e = 0; e < edits; ++e) {
                const std::string &k = keys[rng() % keys.size()];
                const int64_t old = json_object_get_int64(json_object_object_get(tc, k.c_str()));
                json_object *nv;
                switch (rng() % 6) {
                case 0: nv = json_object_new_int64(0); break;
                case 1: nv = json_object_new_int64(-1); break;
                case 2: nv = json_object_new_int64(old + 1); break;
                case 3: nv = json_object_new_int64(old * 2); break;
                case 4: nv = json_object_new_int64(int64_t(1) << 40); break;
                default: nv = json_object_new_double(0.5); break;
                }
                json_object_object_add(tc, k.c_str(), nv);
            }
        });
        write_model(tmp.path(), ts, mutated);
        try {
            auto m = engine_model::open(tmp.path(), test::validated_device_ptr(), {});
            ++opened;  // a change the weights still fit (e.g. max_position_embeddings)
        } catch (const error &) {
            ++rejected;
        } catch (const std::exception &e) {
            ADD_FAILURE() << "not a library error: " << e.what() << "\nconfig: " << mutated;
        }
    }
    std::printf("  mutated configs: %d opened, %d rejected\n", opened, rejected);
    EXPECT_GT(rejected, 0);
    // The device is still fine: the real model opens and evaluates.
    engine_session s(test::dev_engine_model(), {});
    const int32_t ids[3] = {1, 2, 3};
    s.eval(ids, 3, logits_rows::last);
    EXPECT_EQ(s.logits().size(), static_cast<size_t>(test::dev_engine_model().text().vocab_size));
}

// Well-formed configs whose shapes the kernels do not take are refused at
// open with UNSUPPORTED naming the field (before, a conv kernel of 9 opened
// and failed inside the first evaluation with an internal error).
TEST(ModelLoadErrors, UnsupportedShapesRefusedAtOpen) {
    test::validation_scope vs;
    test::temp_dir tmp;
    const auto ts = dev_tensors();
    const std::string text = dev_config_text();
    const struct {
        const char *field;
        int64_t value;
    } cases[] = {{"linear_conv_kernel_dim", 9}, {"linear_key_head_dim", 512}, {"head_dim", 2048}};
    for (const auto &c : cases) {
        const std::string edited = edit_text_config(text, [&](json_object *tc) {
            json_object_object_add(tc, c.field, json_object_new_int64(c.value));
            if (std::string(c.field) == "head_dim")  // keep rotary_dim = 2 * sum(mrope_section) = 8
                json_object_object_add(json_object_object_get(tc, "rope_parameters"), "partial_rotary_factor",
                                       json_object_new_double(8.0 / double(c.value)));
        });
        write_model(tmp.path(), ts, edited);
        auto [st, msg] = try_open(tmp.path());
        EXPECT_EQ(st, MLXMTP_ERR_UNSUPPORTED) << c.field << ": " << msg;
        EXPECT_NE(msg.find(c.field), std::string::npos) << msg;
        // The synthetic-weights path refuses the same config.
        try {
            engine_model::synthetic(load_model_config(tmp.path()), test::validated_device_ptr(), {});
            ADD_FAILURE() << c.field << ": synthetic model opened";
        } catch (const error &e) {
            EXPECT_EQ(e.status(), MLXMTP_ERR_UNSUPPORTED) << e.what();
        }
    }
}
