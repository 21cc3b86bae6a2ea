// engine_model::synthetic: a config's shapes with distinct random weights for
// every tensor, generated on the device (no checkpoint on disk), so that large
// shapes (27B) can be benchmarked.  Values are scaled to keep activations
// finite; they carry no meaning.
#include "model/model.h"
#include "ops/basic_ops.h"
#include "vk/command.h"

#include <cmath>

namespace mlxmtp::detail {

class synthetic_builder {
public:
    synthetic_builder(engine_model &m, const synthetic_options &opt) : m_(m), opt_(opt), cs_(m.device()) {}

    void run();

private:
    void fill(const buffer_span &s, uint32_t mode, float scale, float offset, uint32_t lo = 0, uint32_t hi = 0);
    // repackable: as model_loader::matrix's (the embedding gather reads the standard rows).
    ops::device_weight matrix(int64_t rows, int64_t cols, ops::wformat fmt, bool repackable = true);
    buffer_span vec(int64_t n, float scale, float offset);
    layer_weights layer(layer_kind kind);
    void flush() { cs_.submit(); }

    engine_model &m_;
    synthetic_options opt_;
    command_stream cs_;
    uint32_t tensor_ = 0;  // distinct seed per tensor
};

void synthetic_builder::fill(const buffer_span &s, uint32_t mode, float scale, float offset, uint32_t lo, uint32_t hi) {
    struct {
        uint32_t n, seed, mode;
        float scale, offset;
        uint32_t lo, hi;
    } pc{static_cast<uint32_t>(s.size / 4), static_cast<uint32_t>(opt_.seed * 7919u + (++tensor_) * 104729u), mode,
         scale, offset, lo, hi};
    uint32_t gx, gy;
    ops::grid_1d(m_.device(), (pc.n + 255) / 256, &gx, &gy);
    cs_.dispatch(m_.device().kernels().get("fill_random"), {s}, pc, gx, gy);
    if (cs_.recorded() >= 256) flush();
}

ops::device_weight synthetic_builder::matrix(int64_t rows, int64_t cols, ops::wformat fmt, bool repackable) {
    ops::device_weight w;
    w.format = fmt;
    w.rows = static_cast<uint32_t>(rows);
    w.cols = static_cast<uint32_t>(cols);
    const uint64_t rb = ops::row_bytes(fmt, cols), sb = ops::row_scale_bytes(fmt, cols);
    const float scale = 1.0f / std::sqrt(static_cast<float>(cols));
    uint32_t per = ops::rows_per_chunk(fmt, cols, m_.device().max_binding_range());
    // Repacked for the tensor-core kernel at once, its codes dropped (engine_model::frag_drops_codes).
    const bool staged = repackable && m_.frag_drops_codes(fmt, w.rows, w.cols, per);
    for (uint32_t r0 = 0; r0 < w.rows; r0 += per) {
        ops::weight_chunk c;
        c.row0 = r0;
        c.rows = std::min<uint32_t>(per, w.rows - r0);
        c.data = staged ? m_.frag_scratch(c.rows * rb) : m_.arena_->alloc(c.rows * rb, "synthetic weight");
        switch (fmt) {
        case ops::wformat::bf16: fill(c.data, 0, scale, 0); break;
        case ops::wformat::f32: fill(c.data, 1, scale, 0); break;
        default: fill(c.data, 2, 0, 0); break;
        }
        if (sb) {
            // E2M1 elements reach 6 and E4M3 448: pick scales near 1/sqrt(cols) / max.
            int e = static_cast<int>(std::lround(std::log2(scale / (fmt == ops::wformat::mxfp4 ? 6.0 : 448.0))));
            c.scales = staged && m_.frag_drops_scales() ? m_.frag_scratch(c.rows * sb, false)
                                                        : m_.arena_->alloc(c.rows * sb, "synthetic scales");
            fill(c.scales, 3, 0, 0, static_cast<uint32_t>(127 + e - 1), static_cast<uint32_t>(127 + e + 1));
        }
        w.chunks.push_back(c);
    }
    if (staged) {
        flush();  // the codes are filled
        m_.frag_repack_and_drop(w);
    }
    return w;
}

buffer_span synthetic_builder::vec(int64_t n, float scale, float offset) {
    buffer_span s = m_.arena_->alloc(static_cast<uint64_t>(n) * 4, "synthetic vector");
    fill(s, 1, scale, offset);
    return s;
}

layer_weights synthetic_builder::layer(layer_kind kind) {
    const text_config &c = m_.text();
    const int64_t H = c.hidden_size, F = c.intermediate_size;
    const ops::wformat f = opt_.format;
    layer_weights L;
    L.kind = kind;
    L.input_norm = vec(H, 0.1f, 0);
    L.post_norm = vec(H, 0.1f, 0);
    if (kind == layer_kind::linear_attention) {
        const int64_t Kd = c.linear_num_key_heads * c.linear_key_head_dim;
        const int64_t Vd = c.linear_num_value_heads * c.linear_value_head_dim, Hv = c.linear_num_value_heads;
        L.gdn.qkv = matrix(2 * Kd + Vd, H, f);
        L.gdn.z = matrix(Vd, H, f);
        L.gdn.b = matrix(Hv, H, f);
        L.gdn.a = matrix(Hv, H, f);
        L.gdn.conv_w = vec((2 * Kd + Vd) * c.linear_conv_kernel_dim, 0.5f, 0);
        L.gdn.dt_bias = vec(Hv, 0.5f, 0);
        L.gdn.A_log = vec(Hv, 1.0f, 1.4f);  // log of U(1, 16)-like decays
        L.gdn.norm = vec(c.linear_value_head_dim, 0.1f, 1.0f);
        L.gdn.out = matrix(H, Vd, f);
    } else {
        const int64_t hd = c.head_dim, Hq = c.num_attention_heads, Hkv = c.num_key_value_heads;
        L.attn.q = matrix(Hq * hd * 2, H, f);
        L.attn.k = matrix(Hkv * hd, H, f);
        L.attn.v = matrix(Hkv * hd, H, f);
        L.attn.o = matrix(H, Hq * hd, f);
        L.attn.q_norm = vec(hd, 0.1f, 0);
        L.attn.k_norm = vec(hd, 0.1f, 0);
    }
    L.gate = matrix(F, H, f);
    L.up = matrix(F, H, f);
    L.down = matrix(H, F, f);
    return L;
}

void synthetic_builder::run() {
    const text_config &c = m_.text();
    // The embedding stays bf16 (as the quantizer keeps it readable either way).
    m_.embed_ = matrix(c.vocab_size, c.hidden_size, opt_.format == ops::wformat::f32 ? ops::wformat::f32 : ops::wformat::bf16,
                       false);
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) m_.layers_.push_back(layer(c.layer_types[i]));
    m_.final_norm_ = vec(c.hidden_size, 0.1f, 0);
    m_.lm_head_ = c.tie_word_embeddings ? m_.embed_ : matrix(c.vocab_size, c.hidden_size, opt_.format);
    if (c.mtp_num_hidden_layers > 0) {
        mtp_weights &t = m_.mtp_;
        ops::wformat keep = opt_.format == ops::wformat::f32 ? ops::wformat::f32 : ops::wformat::bf16;  // MTP stays bf16
        ops::wformat saved = opt_.format;
        opt_.format = keep;
        t.fc = matrix(c.hidden_size, 2 * c.hidden_size, keep);
        t.pre_fc_norm_embedding = vec(c.hidden_size, 0.1f, 0);
        t.pre_fc_norm_hidden = vec(c.hidden_size, 0.1f, 0);
        t.norm = vec(c.hidden_size, 0.1f, 0);
        t.layer = layer(layer_kind::full_attention);
        opt_.format = saved;
        t.present = true;
    }
    m_.matrix_format_ = opt_.format;
    flush();
}

std::unique_ptr<engine_model> engine_model::synthetic(const model_config &cfg, std::shared_ptr<vk_device> dev,
                                                      const synthetic_options &opt) {
    check_engine_limits(cfg.text);
    std::unique_ptr<engine_model> m(new engine_model());
    m->cfg_ = cfg;
    m->dir_ = "(synthetic)";
    m->dev_ = std::move(dev);
    m->arena_ = std::make_unique<arena>(*m->dev_, false, 0, "synthetic weights");
    m->plan_frag_copies(opt.tensor_cores, opt.x_split);
    synthetic_builder(*m, opt).run();
    m->finish_frag_copies();
    for (int64_t id : cfg.text.eos_token_ids) m->eos_ids_.push_back(static_cast<int32_t>(id));
    m->usable_vocab_ = static_cast<int32_t>(cfg.text.vocab_size);
    return m;
}

}  // namespace mlxmtp::detail
