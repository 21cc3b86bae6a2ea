// engine_model::open: validates every expected tensor of a checkpoint against
// the config (name, dtype, shape) and uploads it to the device.
#include "io/safetensors.h"
#include "model/model.h"
#include "quant/mx.h"
#include "util/fs.h"
#include "util/half.h"

#include <json-c/json.h>

#include <algorithm>
#include <cstring>

namespace mlxmtp::detail {

class model_loader {
public:
    model_loader(engine_model &m, const checkpoint &ck, const model_open_options &opt)
        : m_(m), ck_(ck), opt_(opt) {}

    void run();

private:
    const tensor_info *find(const std::string &name) const;
    const tensor_info &need(const std::string &name) const;
    // `repackable`: the matrix may be staged and repacked for the tensor-core
    // kernel with its standard codes dropped (engine_model::frag_drops_codes);
    // not the embedding, which the gather reads.
    ops::device_weight matrix(const std::string &name, int64_t rows, int64_t cols, bool repackable = true);
    buffer_span vector_f32(const std::string &name, const std::vector<int64_t> &shape);
    layer_weights decoder_layer(const std::string &prefix, layer_kind kind);
    void progress(const std::string &what);
    void upload_bytes(const buffer_span &dst, const uint8_t *src, uint64_t n) { upload(m_.device(), dst, src, n); }

    engine_model &m_;
    const checkpoint &ck_;
    const model_open_options &opt_;
    std::string lm_prefix_;  // "model.language_model." or a variant
    uint64_t done_bytes_ = 0, total_bytes_ = 0;
};

const tensor_info *model_loader::find(const std::string &name) const { return ck_.find(name); }

const tensor_info &model_loader::need(const std::string &name) const {
    const tensor_info *t = ck_.find(name);
    if (!t) fail(MLXMTP_ERR_NOT_FOUND, "%s: tensor %s is missing", ck_.dir().c_str(), name.c_str());
    return *t;
}

static std::string shape_str(const std::vector<int64_t> &s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}

void model_loader::progress(const std::string &what) {
    if (opt_.progress && total_bytes_ &&
        !opt_.progress(static_cast<double>(done_bytes_) / static_cast<double>(total_bytes_), what))
        fail(MLXMTP_ERR_ABORTED, "model loading aborted by the progress callback");
}

ops::device_weight model_loader::matrix(const std::string &name, int64_t rows, int64_t cols, bool repackable) {
    const tensor_info &t = need(name);
    std::string base = name.substr(0, name.size() - (name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0 ? 7 : 0));
    const tensor_info *scales = find(base + ".scales");
    ops::device_weight w;
    w.rows = static_cast<uint32_t>(rows);
    w.cols = static_cast<uint32_t>(cols);
    std::vector<uint8_t> converted;
    const uint8_t *src = t.data;
    if (scales) {  // MX: U32 packed words + U8 scales
        if (t.type != dtype::u32 || scales->type != dtype::u8)
            fail(MLXMTP_ERR_FORMAT, "%s: quantized tensor must be U32 with U8 scales", name.c_str());
        int64_t packed_cols = 0;
        if (t.shape.size() == 2 && t.shape[0] == rows) packed_cols = t.shape[1];
        if (packed_cols * 8 == cols) w.format = ops::wformat::mxfp4;
        else if (packed_cols * 4 == cols) w.format = ops::wformat::mxfp8;
        else
            fail(MLXMTP_ERR_FORMAT, "%s: packed shape %s does not fit [%lld, %lld] in MXFP4 or MXFP8", name.c_str(),
                 shape_str(t.shape).c_str(), static_cast<long long>(rows), static_cast<long long>(cols));
        if (scales->shape != std::vector<int64_t>{rows, cols / 32})
            fail(MLXMTP_ERR_FORMAT, "%s: scales have shape %s, expected [%lld, %lld]", name.c_str(),
                 shape_str(scales->shape).c_str(), static_cast<long long>(rows), static_cast<long long>(cols / 32));
        const quant_config &q = m_.config().quant;
        if (q.present && !q.mode.empty() && q.mode != ops::wformat_name(w.format))
            fail(MLXMTP_ERR_CONFIG, "%s: stored as %s but config.json says mode %s", name.c_str(),
                 ops::wformat_name(w.format), q.mode.c_str());
    } else {
        if (t.shape != std::vector<int64_t>{rows, cols})
            fail(MLXMTP_ERR_FORMAT, "%s: shape %s, expected [%lld, %lld]", name.c_str(), shape_str(t.shape).c_str(),
                 static_cast<long long>(rows), static_cast<long long>(cols));
        if (t.type == dtype::bf16) {
            w.format = ops::wformat::bf16;
        } else if (t.type == dtype::f32) {
            w.format = ops::wformat::f32;
        } else if (t.type == dtype::f16) {
            w.format = ops::wformat::f32;
            converted.resize(size_t(rows) * cols * 4);
            for (int64_t i = 0; i < rows * cols; ++i) {
                uint16_t h;
                std::memcpy(&h, t.data + 2 * i, 2);
                float f = f16_to_f32(h);
                std::memcpy(converted.data() + 4 * i, &f, 4);
            }
            src = converted.data();
        } else {
            fail(MLXMTP_ERR_FORMAT, "%s: dtype %s is not supported for a weight matrix", name.c_str(), dtype_name(t.type));
        }
    }
    const uint64_t rb = ops::row_bytes(w.format, cols), sb = ops::row_scale_bytes(w.format, cols);
    if (scales) {  // the matrix-vector kernel's scale range (ops::max_scale_byte)
        const mx_mode mode = w.format == ops::wformat::mxfp4 ? mx_mode::mxfp4 : mx_mode::mxfp8;
        const uint8_t lim = mx_max_engine_scale_byte(mode);
        const int64_t bad = mx_first_scale_beyond_engine(scales->data, uint64_t(rows) * sb, mode);
        if (bad >= 0) {
            const uint64_t i = static_cast<uint64_t>(bad);
            fail(MLXMTP_ERR_FORMAT,
                 "%s: scale byte %u (2^%d) at row %llu, group %llu is out of range: %s scales above %u (2^%d) are "
                 "not supported (a broken checkpoint: real weights sit near 2^0)",
                 name.c_str(), unsigned(scales->data[i]), int(scales->data[i]) - 127,
                 static_cast<unsigned long long>(i / sb), static_cast<unsigned long long>(i % sb),
                 ops::wformat_name(w.format), unsigned(lim), int(lim) - 127);
        }
    }
    uint32_t per = ops::rows_per_chunk(w.format, cols, m_.device().max_binding_range());
    const bool staged = repackable && m_.frag_drops_codes(w.format, w.rows, w.cols, per);
    for (uint32_t r0 = 0; r0 < w.rows; r0 += per) {
        ops::weight_chunk c;
        c.row0 = r0;
        c.rows = std::min<uint32_t>(per, w.rows - r0);
        c.data = staged ? m_.frag_scratch(c.rows * rb) : m_.arena_->alloc(c.rows * rb, name.c_str());
        upload_bytes(c.data, src + r0 * rb, c.rows * rb);
        if (sb) {
            c.scales = staged && m_.frag_drops_scales() ? m_.frag_scratch(c.rows * sb, false)
                                                        : m_.arena_->alloc(c.rows * sb, name.c_str());
            upload_bytes(c.scales, scales->data + r0 * sb, c.rows * sb);
        }
        w.chunks.push_back(c);
    }
    if (staged) m_.frag_repack_and_drop(w);
    done_bytes_ += t.nbytes + (scales ? scales->nbytes : 0);
    progress(name);
    return w;
}

buffer_span model_loader::vector_f32(const std::string &name, const std::vector<int64_t> &shape) {
    const tensor_info &t = need(name);
    if (t.shape != shape)
        fail(MLXMTP_ERR_FORMAT, "%s: shape %s, expected %s", name.c_str(), shape_str(t.shape).c_str(),
             shape_str(shape).c_str());
    int64_t n = t.numel();
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        switch (t.type) {
        case dtype::f32: std::memcpy(&v[i], t.data + 4 * i, 4); break;
        case dtype::bf16: {
            uint16_t h;
            std::memcpy(&h, t.data + 2 * i, 2);
            v[i] = bf16_to_f32(h);
            break;
        }
        case dtype::f16: {
            uint16_t h;
            std::memcpy(&h, t.data + 2 * i, 2);
            v[i] = f16_to_f32(h);
            break;
        }
        default: fail(MLXMTP_ERR_FORMAT, "%s: dtype %s is not supported here", name.c_str(), dtype_name(t.type));
        }
    }
    buffer_span s = m_.arena_->alloc(n * 4, name.c_str());
    upload_bytes(s, reinterpret_cast<const uint8_t *>(v.data()), n * 4);
    done_bytes_ += t.nbytes;
    return s;
}

layer_weights model_loader::decoder_layer(const std::string &p, layer_kind kind) {
    const text_config &c = m_.text();
    const int64_t H = c.hidden_size, F = c.intermediate_size;
    layer_weights L;
    L.kind = kind;
    L.input_norm = vector_f32(p + "input_layernorm.weight", {H});
    L.post_norm = vector_f32(p + "post_attention_layernorm.weight", {H});
    if (kind == layer_kind::linear_attention) {
        const int64_t Kd = c.linear_num_key_heads * c.linear_key_head_dim;
        const int64_t Vd = c.linear_num_value_heads * c.linear_value_head_dim;
        const int64_t C = 2 * Kd + Vd, Hv = c.linear_num_value_heads;
        const std::string q = p + "linear_attn.";
        L.gdn.qkv = matrix(q + "in_proj_qkv.weight", C, H);
        L.gdn.z = matrix(q + "in_proj_z.weight", Vd, H);
        L.gdn.b = matrix(q + "in_proj_b.weight", Hv, H);
        L.gdn.a = matrix(q + "in_proj_a.weight", Hv, H);
        L.gdn.conv_w = vector_f32(q + "conv1d.weight", {C, 1, c.linear_conv_kernel_dim});
        L.gdn.dt_bias = vector_f32(q + "dt_bias", {Hv});
        L.gdn.A_log = vector_f32(q + "A_log", {Hv});
        L.gdn.norm = vector_f32(q + "norm.weight", {c.linear_value_head_dim});
        L.gdn.out = matrix(q + "out_proj.weight", H, Vd);
    } else {
        const int64_t hd = c.head_dim, Hq = c.num_attention_heads, Hkv = c.num_key_value_heads;
        const std::string q = p + "self_attn.";
        L.attn.q = matrix(q + "q_proj.weight", Hq * hd * (c.attn_output_gate ? 2 : 1), H);
        L.attn.k = matrix(q + "k_proj.weight", Hkv * hd, H);
        L.attn.v = matrix(q + "v_proj.weight", Hkv * hd, H);
        L.attn.o = matrix(q + "o_proj.weight", H, Hq * hd);
        L.attn.q_norm = vector_f32(q + "q_norm.weight", {hd});
        L.attn.k_norm = vector_f32(q + "k_norm.weight", {hd});
    }
    L.gate = matrix(p + "mlp.gate_proj.weight", F, H);
    L.up = matrix(p + "mlp.up_proj.weight", F, H);
    L.down = matrix(p + "mlp.down_proj.weight", H, F);
    return L;
}

void model_loader::run() {
    const text_config &c = m_.text();
    for (const char *pre : {"model.language_model.", "language_model.model.", "model."}) {
        if (find(std::string(pre) + "embed_tokens.weight")) {
            lm_prefix_ = pre;
            break;
        }
    }
    if (lm_prefix_.empty())
        fail(MLXMTP_ERR_NOT_FOUND, "%s: no embed_tokens.weight under any known prefix (model.language_model.)",
             ck_.dir().c_str());
    for (const tensor_info *t : ck_.tensors()) total_bytes_ += t->nbytes;

    const int64_t H = c.hidden_size, V = c.vocab_size;
    m_.embed_ = matrix(lm_prefix_ + "embed_tokens.weight", V, H, false);
    m_.layers_.reserve(static_cast<size_t>(c.num_hidden_layers));
    for (int64_t i = 0; i < c.num_hidden_layers; ++i)
        m_.layers_.push_back(decoder_layer(lm_prefix_ + "layers." + std::to_string(i) + ".", c.layer_types[i]));
    m_.final_norm_ = vector_f32(lm_prefix_ + "norm.weight", {H});
    if (find("lm_head.weight"))
        m_.lm_head_ = matrix("lm_head.weight", V, H);
    else if (c.tie_word_embeddings)
        m_.lm_head_ = m_.embed_;  // tied: the embedding table is the output projection
    else
        fail(MLXMTP_ERR_NOT_FOUND, "%s: lm_head.weight is missing and tie_word_embeddings is false", ck_.dir().c_str());
    m_.matrix_format_ = m_.layers_.empty() ? m_.embed_.format : m_.layers_[0].gate.format;

    if (c.mtp_num_hidden_layers > 0 && find("mtp.fc.weight")) {
        mtp_weights &t = m_.mtp_;
        t.fc = matrix("mtp.fc.weight", H, 2 * H);
        t.pre_fc_norm_embedding = vector_f32("mtp.pre_fc_norm_embedding.weight", {H});
        t.pre_fc_norm_hidden = vector_f32("mtp.pre_fc_norm_hidden.weight", {H});
        t.norm = vector_f32("mtp.norm.weight", {H});
        t.layer = decoder_layer("mtp.layers.0.", layer_kind::full_attention);
        t.present = true;
    }
    progress("done");
}

namespace {
void add_eos(json_object *v, std::vector<int32_t> &out) {
    if (!v) return;
    if (json_object_is_type(v, json_type_int)) {
        out.push_back(json_object_get_int(v));
    } else if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); ++i) {
            json_object *e = json_object_array_get_idx(v, i);
            if (json_object_is_type(e, json_type_int)) out.push_back(json_object_get_int(e));
        }
    }
}
}  // namespace

std::unique_ptr<engine_model> engine_model::open(const std::string &dir, std::shared_ptr<vk_device> dev,
                                                 const model_open_options &opt) {
    std::unique_ptr<engine_model> m(new engine_model());
    m->dir_ = dir;
    m->cfg_ = load_model_config(dir);
    check_engine_limits(m->cfg_.text);
    m->dev_ = std::move(dev);
    m->arena_ = std::make_unique<arena>(*m->dev_, false, 0, "model weights");
    std::unique_ptr<checkpoint> ck = checkpoint::open(dir);
    m->plan_frag_copies(opt.tensor_cores, opt.x_split);
    model_loader(*m, *ck, opt).run();
    m->finish_frag_copies();

    for (int64_t id : m->cfg_.text.eos_token_ids) m->eos_ids_.push_back(static_cast<int32_t>(id));
    std::string gen;
    if (read_text_file(dir + "/generation_config.json", &gen)) {
        json_object *j = json_tokener_parse(gen.c_str());
        if (j) {
            json_object *e = nullptr;
            if (json_object_object_get_ex(j, "eos_token_id", &e)) add_eos(e, m->eos_ids_);
            json_object_put(j);
        }
    }
    std::sort(m->eos_ids_.begin(), m->eos_ids_.end());
    m->eos_ids_.erase(std::unique(m->eos_ids_.begin(), m->eos_ids_.end()), m->eos_ids_.end());
    m->usable_vocab_ = static_cast<int32_t>(m->cfg_.text.vocab_size);
    return m;
}

engine_model::~engine_model() = default;

uint64_t engine_model::decode_weight_bytes() const {
    uint64_t n = lm_head_.bytes();
    const text_config &c = cfg_.text;
    for (const layer_weights &L : layers_) {
        n += L.gate.bytes() + L.up.bytes() + L.down.bytes() + 2 * 4 * uint64_t(c.hidden_size);
        if (L.kind == layer_kind::linear_attention) {
            const gdn_weights &g = L.gdn;
            n += g.qkv.bytes() + g.z.bytes() + g.a.bytes() + g.b.bytes() + g.out.bytes();
            n += g.conv_w.size + g.A_log.size + g.dt_bias.size + g.norm.size;
        } else {
            const attn_weights &a = L.attn;
            n += a.q.bytes() + a.k.bytes() + a.v.bytes() + a.o.bytes() + a.q_norm.size + a.k_norm.size;
        }
    }
    return n + final_norm_.size;
}

}  // namespace mlxmtp::detail
