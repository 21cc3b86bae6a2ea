// config.json parsing: the fixture configs (published values) and the errors
// for missing, mistyped and out-of-range fields.
#include "model/config.h"
#include "quant_test_util.h"

#include <gtest/gtest.h>


using namespace mlxmtp::detail;

TEST(Config, TinyDevFixture) {
    model_config c = load_model_config(qtest::fixture("tiny-qwen35-dev"));
    EXPECT_EQ(c.model_type, "qwen3_5");
    ASSERT_EQ(c.architectures.size(), 1u);
    EXPECT_EQ(c.architectures[0], "Qwen3_5ForConditionalGeneration");
    EXPECT_EQ(c.text.model_type, "qwen3_5_text");
    EXPECT_EQ(c.text.vocab_size, 1024);
    EXPECT_EQ(c.text.hidden_size, 128);
    EXPECT_EQ(c.text.intermediate_size, 320);
    EXPECT_EQ(c.text.num_hidden_layers, 4);
    EXPECT_EQ(c.text.num_attention_heads, 4);
    EXPECT_EQ(c.text.num_key_value_heads, 2);
    EXPECT_EQ(c.text.head_dim, 32);
    EXPECT_EQ(c.text.linear_num_key_heads, 2);
    EXPECT_EQ(c.text.linear_num_value_heads, 4);
    EXPECT_EQ(c.text.linear_key_head_dim, 32);
    EXPECT_EQ(c.text.linear_conv_kernel_dim, 4);
    EXPECT_EQ(c.text.rotary_dim(), 8);
    EXPECT_EQ(c.text.rope.mrope_section, (std::vector<int>{1, 1, 2}));
    EXPECT_TRUE(c.text.rope.mrope_interleaved);
    EXPECT_DOUBLE_EQ(c.text.rope.theta, 1e7);
    EXPECT_EQ(c.text.mtp_num_hidden_layers, 1);
    EXPECT_FALSE(c.text.tie_word_embeddings);
    EXPECT_TRUE(c.text.eos_token_ids.empty());  // "eos_token_id": null
    ASSERT_EQ(c.text.layer_types.size(), 4u);
    EXPECT_EQ(c.text.layer_types[0], layer_kind::linear_attention);
    EXPECT_EQ(c.text.layer_types[3], layer_kind::full_attention);
    EXPECT_TRUE(c.vision.present);
    EXPECT_EQ(c.vision.depth, 2);
    EXPECT_EQ(c.vision.out_hidden_size, 128);
    EXPECT_EQ(c.image_token_id, 1000);
    EXPECT_EQ(c.vision_end_token_id, 1003);
    EXPECT_FALSE(c.quant.present);
}

TEST(Config, PublishedConfigs) {
    std::string text = qtest::read_bytes(qtest::fixture("configs/qwen3.5-27b.config.json"));
    model_config c = parse_model_config_json(text, "27b");
    EXPECT_EQ(c.text.hidden_size, 5120);
    EXPECT_EQ(c.text.num_hidden_layers, 64);
    EXPECT_EQ(c.text.num_attention_heads, 24);
    EXPECT_EQ(c.text.num_key_value_heads, 4);
    EXPECT_EQ(c.text.linear_num_value_heads, 48);
    EXPECT_EQ(c.text.intermediate_size, 17408);
    EXPECT_EQ(c.text.vocab_size, 248320);
    EXPECT_EQ(c.text.rotary_dim(), 64);
    ASSERT_EQ(c.text.eos_token_ids.size(), 1u);
    EXPECT_EQ(c.text.eos_token_ids[0], 248044);
    for (int i = 0; i < 64; ++i)
        EXPECT_EQ(c.text.layer_types[i], i % 4 == 3 ? layer_kind::full_attention : layer_kind::linear_attention);
    EXPECT_EQ(c.vision.depth, 27);
    EXPECT_EQ(c.image_token_id, 248056);

    model_config n = parse_model_config_json(qtest::read_bytes(qtest::fixture("configs/qwen3.5-9b.config.json")), "9b");
    EXPECT_EQ(n.text.hidden_size, 4096);
    EXPECT_EQ(n.text.num_hidden_layers, 32);

    model_config t = load_model_config(qtest::fixture("tiny-qwen35-trained"));
    EXPECT_EQ(t.text.hidden_size, 256);
    EXPECT_EQ(t.text.num_hidden_layers, 8);
}

namespace {
// The dev fixture's config with `from` replaced by `to` (must occur).
std::string mutate(const std::string &from, const std::string &to) {
    std::string s = qtest::read_bytes(qtest::fixture("tiny-qwen35-dev/config.json"));
    size_t p = s.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    if (p != std::string::npos) s.replace(p, from.size(), to);
    return s;
}
void expect_error(const std::string &text, mlxmtp_status st, const std::string &needle) {
    try {
        parse_model_config_json(text, "cfg.json");
        ADD_FAILURE() << "accepted; expected error containing " << needle;
    } catch (const error &e) {
        EXPECT_EQ(e.status(), st) << e.what();
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos) << e.what();
    }
}
}  // namespace

TEST(Config, Errors) {
    expect_error(mutate("\"hidden_size\": 128", "\"hidden_sizeX\": 128"), MLXMTP_ERR_CONFIG,
                 "text_config.hidden_size: missing");
    expect_error(mutate("\"hidden_size\": 128", "\"hidden_size\": \"128\""), MLXMTP_ERR_CONFIG,
                 "text_config.hidden_size: must be an integer");
    expect_error(mutate("\"num_hidden_layers\": 4", "\"num_hidden_layers\": 0"), MLXMTP_ERR_CONFIG,
                 "text_config.num_hidden_layers: 0 is out of range");
    expect_error(mutate("\"num_hidden_layers\": 4", "\"num_hidden_layers\": 2147483648"), MLXMTP_ERR_CONFIG,
                 "num_hidden_layers");
    expect_error(mutate("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"), MLXMTP_ERR_CONFIG,
                 "does not divide");
    expect_error(mutate("\"vocab_size\": 1024", "\"vocab_size\": -5"), MLXMTP_ERR_CONFIG, "vocab_size");
    expect_error(mutate("\"max_position_embeddings\": 4096", "\"max_position_embeddings\": 1099511627776"),
                 MLXMTP_ERR_CONFIG, "max_position_embeddings");
    expect_error(mutate("\"rope_theta\": 10000000.0", "\"rope_theta\": -1"), MLXMTP_ERR_CONFIG, "rope_theta");
    expect_error(mutate("\"rms_norm_eps\": 1e-06", "\"rms_norm_eps\": 0"), MLXMTP_ERR_CONFIG, "rms_norm_eps");
    expect_error(mutate("\"full_attention\"\n", "\"cross_attention\"\n"), MLXMTP_ERR_CONFIG, "unknown layer type");
    expect_error(mutate("\"linear_attention\",", ""), MLXMTP_ERR_CONFIG, "layer_types has 3 entries");
    expect_error(mutate("\"mrope_section\": [\n        1,", "\"mrope_section\": [\n        2,"), MLXMTP_ERR_CONFIG,
                 "mrope_section sums to 5");
    expect_error(mutate("\"image_token_id\": 1000", "\"image_token_id\": 5000"), MLXMTP_ERR_CONFIG,
                 "image_token_id");
    expect_error(mutate("\"eos_token_id\": null", "\"eos_token_id\": [1, 99999]"), MLXMTP_ERR_CONFIG,
                 "eos_token_id[1]");
    expect_error("{\"a\": 1,}", MLXMTP_ERR_FORMAT, "invalid JSON");
    expect_error("{\"a\": NaN}", MLXMTP_ERR_FORMAT, "invalid JSON");
    expect_error("[1]", MLXMTP_ERR_FORMAT, "not a JSON object");
    expect_error("{} x", MLXMTP_ERR_FORMAT, "invalid JSON");
}

TEST(Config, QuantizationBlock) {
    std::string s = mutate("\"model_type\": \"qwen3_5\",",
                           "\"model_type\": \"qwen3_5\", \"quantization\": {\"group_size\": 32, \"bits\": 8, "
                           "\"mode\": \"mxfp8\"},");
    model_config c = parse_model_config_json(s, "cfg.json");
    EXPECT_TRUE(c.quant.present);
    EXPECT_EQ(c.quant.mode, "mxfp8");
    EXPECT_EQ(c.quant.bits, 8);
    EXPECT_EQ(c.quant.group_size, 32);
    expect_error(mutate("\"model_type\": \"qwen3_5\",",
                        "\"model_type\": \"qwen3_5\", \"quantization\": {\"group_size\": 64, \"bits\": 4, "
                        "\"mode\": \"mxfp4\"},"),
                 MLXMTP_ERR_CONFIG, "mxfp4 needs bits 4 and group_size 32");
}
