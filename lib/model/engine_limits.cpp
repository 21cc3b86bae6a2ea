// check_engine_limits: the shapes a config may ask for that the kernels do not
// take, refused at open (MLXMTP_ERR_UNSUPPORTED naming the field) instead of
// failing inside the first evaluation.  config.cpp checks what makes a config
// well formed; this file checks what this engine can run.
#include "model/model.h"
#include "ops/layer_ops.h"

namespace mlxmtp::detail {

namespace {

void need(bool ok, const char *field, long long value, const char *what) {
    if (!ok) fail(MLXMTP_ERR_UNSUPPORTED, "config.json: %s = %lld is not supported (%s)", field, value, what);
}

}  // namespace

void check_engine_limits(const text_config &c) {
    bool any_linear = false, any_full = false;
    for (layer_kind k : c.layer_types) (k == layer_kind::linear_attention ? any_linear : any_full) = true;
    if (any_linear) {
        need(c.linear_conv_kernel_dim >= 1 && c.linear_conv_kernel_dim <= ops::kMaxConvK, "linear_conv_kernel_dim",
             c.linear_conv_kernel_dim, "the conv kernels take 1..8");
        need(c.linear_key_head_dim <= ops::kMaxGdnKeyDim, "linear_key_head_dim", c.linear_key_head_dim,
             "the recurrence takes at most 256");
    }
    if (any_full || c.mtp_num_hidden_layers > 0) {
        need(c.attn_output_gate, "attn_output_gate", 0, "the attention kernels apply the output gate");
        need(c.head_dim <= ops::kMaxAttnHeadDim, "head_dim", c.head_dim, "attention takes at most 1024");
        need(c.rotary_dim() % 2 == 0, "head_dim * partial_rotary_factor", c.rotary_dim(),
             "rotary dims come in pairs");
    }
    // The matrix-vector kernels read whole 8-element units of every input row
    // (bf16; MX checkpoints already need groups of 32): the input widths of
    // the projections.
    need(c.hidden_size % 8 == 0, "hidden_size", c.hidden_size, "a multiple of 8 is needed");
    need(c.intermediate_size % 8 == 0, "intermediate_size", c.intermediate_size, "a multiple of 8 is needed");
    if (any_full)
        need(c.num_attention_heads * c.head_dim % 8 == 0, "num_attention_heads * head_dim",
             c.num_attention_heads * c.head_dim, "a multiple of 8 is needed");
    if (any_linear)
        need(c.linear_num_value_heads * c.linear_value_head_dim % 8 == 0,
             "linear_num_value_heads * linear_value_head_dim", c.linear_num_value_heads * c.linear_value_head_dim,
             "a multiple of 8 is needed");
}

}  // namespace mlxmtp::detail
