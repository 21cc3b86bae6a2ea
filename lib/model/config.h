// Typed configuration of a Qwen3.5 / Qwen3.6 checkpoint (config.json, with the
// text settings under "text_config" or at the top level).  parse_* throw
// detail::error(MLXMTP_ERR_CONFIG / MLXMTP_ERR_FORMAT) naming the field.
#pragma once
#include "util/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlxmtp::detail {

enum class layer_kind : uint8_t { linear_attention, full_attention };

struct rope_config {
    double theta = 1e7;
    double partial_rotary_factor = 0.25;
    std::vector<int> mrope_section;  // e.g. {11, 11, 10}; sums to rotary_dim / 2
    bool mrope_interleaved = true;
    std::string type = "default";
};

struct quant_config {
    bool present = false;  // a "quantization" block exists
    int group_size = 0;    // 32 for mx modes
    int bits = 0;          // 4 or 8
    std::string mode;      // "mxfp4", "mxfp8", "affine", ...
};

struct text_config {
    std::string model_type;       // qwen3_5_text, ...
    int64_t vocab_size = 0;
    int64_t hidden_size = 0;
    int64_t intermediate_size = 0;
    int64_t num_hidden_layers = 0;
    int64_t num_attention_heads = 0;
    int64_t num_key_value_heads = 0;
    int64_t head_dim = 0;
    int64_t linear_num_key_heads = 0;
    int64_t linear_num_value_heads = 0;
    int64_t linear_key_head_dim = 0;
    int64_t linear_value_head_dim = 0;
    int64_t linear_conv_kernel_dim = 4;
    int64_t max_position_embeddings = 0;
    double rms_norm_eps = 1e-6;
    bool attn_output_gate = true;
    bool tie_word_embeddings = false;
    int64_t mtp_num_hidden_layers = 0;
    bool mtp_use_dedicated_embeddings = false;
    std::vector<layer_kind> layer_types;   // size num_hidden_layers
    std::vector<int64_t> eos_token_ids;    // may be empty
    rope_config rope;

    int64_t rotary_dim() const;            // head_dim * partial_rotary_factor
};

struct vision_config {
    bool present = false;
    int64_t depth = 0, hidden_size = 0, intermediate_size = 0, num_heads = 0, in_channels = 3;
    int64_t patch_size = 16, temporal_patch_size = 2, spatial_merge_size = 2;
    int64_t out_hidden_size = 0, num_position_embeddings = 0;
    std::string hidden_act;
};

struct model_config {
    std::vector<std::string> architectures;
    std::string model_type;
    text_config text;
    vision_config vision;
    quant_config quant;
    int64_t image_token_id = -1, video_token_id = -1;
    int64_t vision_start_token_id = -1, vision_end_token_id = -1;
};

model_config parse_model_config_json(const std::string &json_text, const std::string &where);
model_config load_model_config(const std::string &dir);  // reads dir/config.json
model_config load_model_config_file(const std::string &path);  // reads a config.json file

}  // namespace mlxmtp::detail
