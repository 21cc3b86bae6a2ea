#include "ref/ref_model.h"

#include "io/safetensors.h"
#include "ref/embedding.h"
#include "ref/norm.h"
#include "util/error.h"
#include "util/half.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mlxmtp::detail::ref {

int64_t ref_tensor::cols() const {
    int64_t n = 1;
    for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
    return n;
}

namespace {

std::string shape_str(const std::vector<int64_t> &s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}

// Converts one checkpoint tensor to fp32; MX-quantized weights (U32 + U8 .scales) are
// dequantized and reported with their logical [rows, cols] shape.
ref_tensor to_f32(const checkpoint &ck, const tensor_info &ti) {
    ref_tensor r;
    r.shape = ti.shape;
    const int64_t n = ti.numel();
    switch (ti.type) {
    case dtype::f32:
        r.data.resize(n);
        std::memcpy(r.data.data(), ti.data, n * sizeof(float));
        return r;
    case dtype::bf16:
    case dtype::f16: {
        r.data.resize(n);
        for (int64_t i = 0; i < n; ++i) {
            uint16_t h;
            std::memcpy(&h, ti.data + 2 * i, 2);
            r.data[i] = ti.type == dtype::bf16 ? bf16_to_f32(h) : f16_to_f32(h);
        }
        return r;
    }
    case dtype::u32: {
        const std::string suffix = ".weight";
        if (ti.name.size() < suffix.size() ||
            ti.name.compare(ti.name.size() - suffix.size(), suffix.size(), suffix) != 0)
            break;
        std::string base = ti.name.substr(0, ti.name.size() - suffix.size());
        const tensor_info *sc = ck.find(base + ".scales");
        if (!sc || sc->type != dtype::u8 || ti.shape.size() != 2 || sc->shape.size() != 2 ||
            sc->shape[0] != ti.shape[0] || sc->shape[1] <= 0)
            fail(MLXMTP_ERR_FORMAT, "ref: %s is U32 without a matching U8 %s.scales", ti.name.c_str(),
                 base.c_str());
        if (ck.find(base + ".biases"))
            fail(MLXMTP_ERR_UNSUPPORTED, "ref: %s is affine-quantized (has .biases); only MX is supported",
                 ti.name.c_str());
        const int64_t words = ti.shape[1], groups = sc->shape[1];
        if (words % groups != 0 || (words / groups != 4 && words / groups != 8))
            fail(MLXMTP_ERR_FORMAT, "ref: %s: %lld words per row and %lld scale groups fit neither mxfp4 nor mxfp8",
                 ti.name.c_str(), static_cast<long long>(words), static_cast<long long>(groups));
        const int64_t bits = words / groups;
        std::vector<uint32_t> w(static_cast<size_t>(ti.numel()));
        std::memcpy(w.data(), ti.data, w.size() * 4);
        weight_view v{bits == 4 ? wformat::mxfp4 : wformat::mxfp8, ti.shape[0], groups * 32, w.data(),
                      sc->data};
        r.shape = {ti.shape[0], groups * 32};
        r.data = dequantize(v);
        return r;
    }
    default:
        break;
    }
    fail(MLXMTP_ERR_UNSUPPORTED, "ref: tensor %s has unsupported dtype %s", ti.name.c_str(),
         dtype_name(ti.type));
}

}  // namespace

const ref_tensor &ref_model::tensor(const std::string &name) const {
    auto it = t_.find(name);
    if (it == t_.end()) fail(MLXMTP_ERR_NOT_FOUND, "ref: no tensor %s", name.c_str());
    return it->second;
}

std::unique_ptr<ref_model> ref_model::load(const std::string &dir) {
    std::unique_ptr<ref_model> m(new ref_model());
    m->cfg_ = load_model_config(dir);
    const text_config &c = m->cfg_.text;
    auto ck = checkpoint::open(dir);

    std::string prefix;
    if (ck->find("model.language_model.embed_tokens.weight")) prefix = "model.language_model.";
    else if (ck->find("model.embed_tokens.weight")) prefix = "model.";
    else fail(MLXMTP_ERR_NOT_FOUND, "ref: %s has no model.language_model.embed_tokens.weight", dir.c_str());

    // Loads `name` into the map, checking its (logical) shape.
    auto get = [&](const std::string &name, std::vector<int64_t> shape) -> const ref_tensor & {
        const tensor_info *ti = ck->find(name);
        if (!ti) fail(MLXMTP_ERR_NOT_FOUND, "ref: %s: missing tensor %s", dir.c_str(), name.c_str());
        ref_tensor r = to_f32(*ck, *ti);
        if (r.shape != shape)
            fail(MLXMTP_ERR_FORMAT, "ref: tensor %s has shape %s, expected %s", name.c_str(),
                 shape_str(r.shape).c_str(), shape_str(shape).c_str());
        return m->t_[name] = std::move(r);
    };
    auto f = [&](const std::string &name, std::vector<int64_t> shape) { return get(name, shape).data.data(); };
    auto wv = [&](const std::string &name, int64_t rows, int64_t cols) { return get(name, {rows, cols}).view(); };

    const int64_t H = c.hidden_size, V = c.vocab_size, I = c.intermediate_size;
    const float eps = static_cast<float>(c.rms_norm_eps);
    if (static_cast<int64_t>(c.layer_types.size()) != c.num_hidden_layers)
        fail(MLXMTP_ERR_CONFIG, "ref: layer_types has %zu entries for %lld layers", c.layer_types.size(),
             static_cast<long long>(c.num_hidden_layers));

    rope_params rope;
    rope.head_dim = c.head_dim;
    rope.rotary_dim = static_cast<int64_t>(std::llround(c.head_dim * c.rope.partial_rotary_factor));
    rope.theta = c.rope.theta;
    rope.mrope_section = c.rope.mrope_section;
    rope.interleaved = c.rope.mrope_interleaved;

    auto attn_of = [&](const std::string &p) {
        attn_weights a;
        a.hidden = H;
        a.Hq = c.num_attention_heads;
        a.Hkv = c.num_key_value_heads;
        a.hd = c.head_dim;
        a.eps = eps;
        a.output_gate = c.attn_output_gate;
        a.rope = rope;
        a.q_proj = wv(p + "q_proj.weight", a.Hq * a.hd * (a.output_gate ? 2 : 1), H);
        a.k_proj = wv(p + "k_proj.weight", a.Hkv * a.hd, H);
        a.v_proj = wv(p + "v_proj.weight", a.Hkv * a.hd, H);
        a.o_proj = wv(p + "o_proj.weight", H, a.Hq * a.hd);
        a.q_norm = f(p + "q_norm.weight", {a.hd});
        a.k_norm = f(p + "k_norm.weight", {a.hd});
        return a;
    };
    auto mlp_of = [&](const std::string &p) {
        mlp_weights w;
        w.gate_proj = wv(p + "gate_proj.weight", I, H);
        w.up_proj = wv(p + "up_proj.weight", I, H);
        w.down_proj = wv(p + "down_proj.weight", H, I);
        return w;
    };

    m->embed_ = &get(prefix + "embed_tokens.weight", {V, H});
    m->norm_ = &get(prefix + "norm.weight", {H});
    if (ck->find("lm_head.weight")) m->lm_head_ = &get("lm_head.weight", {V, H});
    else m->lm_head_ = m->embed_;  // tied (tie_word_embeddings), or a checkpoint without it

    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const std::string p = prefix + "layers." + std::to_string(i) + ".";
        layer L;
        L.kind = c.layer_types[i];
        L.input_norm = f(p + "input_layernorm.weight", {H});
        L.post_norm = f(p + "post_attention_layernorm.weight", {H});
        L.mlp = mlp_of(p + "mlp.");
        if (L.kind == layer_kind::full_attention) {
            L.attn = attn_of(p + "self_attn.");
        } else {
            gdn_weights &g = L.gdn;
            const std::string q = p + "linear_attn.";
            g.hidden = H;
            g.Hk = c.linear_num_key_heads;
            g.Hv = c.linear_num_value_heads;
            g.dk = c.linear_key_head_dim;
            g.dv = c.linear_value_head_dim;
            g.K = c.linear_conv_kernel_dim;
            g.eps = eps;
            const int64_t C = g.conv_channels(), Vd = g.Hv * g.dv;
            g.in_proj_qkv = wv(q + "in_proj_qkv.weight", C, H);
            g.in_proj_z = wv(q + "in_proj_z.weight", Vd, H);
            g.in_proj_b = wv(q + "in_proj_b.weight", g.Hv, H);
            g.in_proj_a = wv(q + "in_proj_a.weight", g.Hv, H);
            g.out_proj = wv(q + "out_proj.weight", H, Vd);
            g.conv_w = f(q + "conv1d.weight", {C, 1, g.K});
            g.A_log = f(q + "A_log", {g.Hv});
            g.dt_bias = f(q + "dt_bias", {g.Hv});
            g.norm_w = f(q + "norm.weight", {g.dv});
        }
        m->layers_.push_back(L);
    }

    m->has_mtp_ = c.mtp_num_hidden_layers > 0 && ck->find("mtp.fc.weight") != nullptr;
    if (m->has_mtp_) {
        if (c.mtp_use_dedicated_embeddings)
            fail(MLXMTP_ERR_UNSUPPORTED, "ref: mtp_use_dedicated_embeddings is not supported");
        m->mtp_fc_ = &get("mtp.fc.weight", {H, 2 * H});
        m->mtp_norm_ = &get("mtp.norm.weight", {H});
        m->mtp_pre_e_ = &get("mtp.pre_fc_norm_embedding.weight", {H});
        m->mtp_pre_h_ = &get("mtp.pre_fc_norm_hidden.weight", {H});
        layer &L = m->mtp_layer_;
        L.kind = layer_kind::full_attention;
        L.input_norm = f("mtp.layers.0.input_layernorm.weight", {H});
        L.post_norm = f("mtp.layers.0.post_attention_layernorm.weight", {H});
        L.attn = attn_of("mtp.layers.0.self_attn.");
        L.mlp = mlp_of("mtp.layers.0.mlp.");
    }
    return m;
}

ref_cache ref_model::new_cache() const {
    ref_cache c;
    c.gdn.resize(layers_.size());
    c.kv.resize(layers_.size());
    for (size_t i = 0; i < layers_.size(); ++i)
        if (layers_[i].kind == layer_kind::linear_attention) c.gdn[i].reset(layers_[i].gdn);
    return c;
}

void ref_model::embed(const int32_t *ids, int64_t T, float *out) const {
    ref::embed(embed_->view(), ids, T, out);
}

void ref_model::final_norm(const float *x, int64_t T, float *out) const {
    rmsnorm_1p(x, T, hidden_size(), norm_->data.data(), static_cast<float>(cfg_.text.rms_norm_eps), out);
}

void ref_model::lm_head(const float *x, int64_t T, float *logits) const {
    matmul(lm_head_->view(), x, T, logits);
}

void ref_model::block(const layer &L, gdn_state *gs, kv_cache *kv, float *x, int64_t T,
                      const int64_t *pos, bool gdn_chunked) const {
    const int64_t H = hidden_size();
    const float eps = static_cast<float>(cfg_.text.rms_norm_eps);
    std::vector<float> h(T * H), o(T * H);
    rmsnorm_1p(x, T, H, L.input_norm, eps, h.data());
    if (L.kind == layer_kind::full_attention) attention_layer(L.attn, h.data(), T, pos, *kv, o.data());
    else gdn_layer(L.gdn, h.data(), T, *gs, o.data(), gdn_chunked);
    for (int64_t i = 0; i < T * H; ++i) x[i] += o[i];
    rmsnorm_1p(x, T, H, L.post_norm, eps, h.data());
    swiglu_mlp(L.mlp, h.data(), T, o.data());
    for (int64_t i = 0; i < T * H; ++i) x[i] += o[i];
}

void ref_model::decoder_layer(int64_t i, ref_cache &cache, float *x, int64_t T, const int64_t *pos,
                              bool gdn_chunked) const {
    block(layers_.at(i), &cache.gdn.at(i), &cache.kv.at(i), x, T, pos, gdn_chunked);
}

forward_result ref_model::forward(ref_cache &cache, const int32_t *ids, int64_t T,
                                  const forward_options &opt) const {
    const int64_t H = hidden_size();
    forward_result r;
    std::vector<int64_t> pos(T);
    for (int64_t t = 0; t < T; ++t) pos[t] = cache.pos + t;
    std::vector<float> x(T * H);
    embed(ids, T, x.data());
    for (int64_t i = 0; i < num_layers(); ++i) {
        decoder_layer(i, cache, x.data(), T, pos.data(), opt.gdn_chunked);
        if (opt.layer_outputs) r.layer_out.push_back(x);
    }
    cache.pos += T;
    r.hidden.resize(T * H);
    final_norm(x.data(), T, r.hidden.data());
    r.hidden_prenorm = std::move(x);
    if (opt.logits) {
        r.logits.resize(T * vocab_size());
        lm_head(r.hidden.data(), T, r.logits.data());
    }
    return r;
}

mtp_result ref_model::mtp_forward(ref_cache &cache, const float *hidden, const int32_t *next_ids,
                                  int64_t T, bool want_logits) const {
    if (!has_mtp_) fail(MLXMTP_ERR_UNSUPPORTED, "ref: the checkpoint has no MTP head");
    const int64_t H = hidden_size();
    const float eps = static_cast<float>(cfg_.text.rms_norm_eps);
    std::vector<float> e(T * H), h(T * H), cat(T * 2 * H), z(T * H);
    embed(next_ids, T, e.data());
    rmsnorm_1p(e.data(), T, H, mtp_pre_e_->data.data(), eps, e.data());
    rmsnorm_1p(hidden, T, H, mtp_pre_h_->data.data(), eps, h.data());
    for (int64_t t = 0; t < T; ++t) {
        std::copy(e.begin() + t * H, e.begin() + (t + 1) * H, cat.begin() + t * 2 * H);
        std::copy(h.begin() + t * H, h.begin() + (t + 1) * H, cat.begin() + t * 2 * H + H);
    }
    matmul(mtp_fc_->view(), cat.data(), T, z.data());
    std::vector<int64_t> pos(T);
    for (int64_t t = 0; t < T; ++t) pos[t] = cache.mtp_kv.len + t;
    block(mtp_layer_, nullptr, &cache.mtp_kv, z.data(), T, pos.data(), false);
    mtp_result r;
    r.hidden.resize(T * H);
    rmsnorm_1p(z.data(), T, H, mtp_norm_->data.data(), eps, r.hidden.data());
    if (want_logits) {
        r.logits.resize(T * vocab_size());
        lm_head(r.hidden.data(), T, r.logits.data());
    }
    return r;
}

int32_t argmax(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return static_cast<int32_t>(best);
}

float top2_margin(const float *x, int64_t n) {
    float a = -INFINITY, b = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
        if (x[i] > a) { b = a; a = x[i]; }
        else if (x[i] > b) b = x[i];
    }
    return a - b;
}

std::vector<int32_t> greedy_generate(const ref_model &m, const std::vector<int32_t> &prompt, int64_t n,
                                     std::vector<float> *margins) {
    const int64_t V = m.vocab_size();
    ref_cache c = m.new_cache();
    forward_result r = m.forward(c, prompt.data(), static_cast<int64_t>(prompt.size()));
    const float *last = r.logits.data() + (prompt.size() - 1) * V;
    std::vector<int32_t> out;
    if (margins) margins->clear();
    for (int64_t i = 0; i < n; ++i) {
        int32_t tok = argmax(last, V);
        if (margins) margins->push_back(top2_margin(last, V));
        out.push_back(tok);
        if (i + 1 == n) break;
        r = m.forward(c, &tok, 1);
        last = r.logits.data();
    }
    return out;
}

std::vector<int32_t> mtp_teacher_forced(const ref_model &m, const std::vector<int32_t> &seq,
                                        std::vector<float> *logits) {
    const int64_t L = static_cast<int64_t>(seq.size()), V = m.vocab_size();
    if (L < 2) return {};
    ref_cache c = m.new_cache();
    forward_options o;
    o.logits = false;
    forward_result r = m.forward(c, seq.data(), L, o);
    mtp_result mr = m.mtp_forward(c, r.hidden.data(), seq.data() + 1, L - 1);
    std::vector<int32_t> d(L - 1);
    for (int64_t t = 0; t < L - 1; ++t) d[t] = argmax(mr.logits.data() + t * V, V);
    if (logits) *logits = std::move(mr.logits);
    return d;
}

}  // namespace mlxmtp::detail::ref

namespace mlxmtp::detail::ref {

std::vector<int32_t> mtp_draft_greedy(const ref_model &m, const ref_cache &cache, const float *h,
                                      int32_t next_token, int64_t k) {
    const int64_t H = m.hidden_size(), V = m.vocab_size();
    if (cache.mtp_kv.len != cache.pos - 1)
        fail(MLXMTP_ERR_BAD_STATE, "ref: MTP cache has %lld rows, expected %lld",
             static_cast<long long>(cache.mtp_kv.len), static_cast<long long>(cache.pos - 1));
    ref_cache c = cache;
    std::vector<float> hid(h, h + H);
    int32_t tok = next_token;
    std::vector<int32_t> d;
    for (int64_t j = 0; j < k; ++j) {
        mtp_result r = m.mtp_forward(c, hid.data(), &tok, 1);
        tok = argmax(r.logits.data(), V);
        d.push_back(tok);
        hid = std::move(r.hidden);
    }
    return d;
}

double spec_stats::tokens_per_round() const {
    return rounds ? double(accepted + rounds) / rounds : 0.0;
}

std::vector<int32_t> speculative_greedy(const ref_model &m, const std::vector<int32_t> &prompt,
                                        int64_t n, int64_t k, spec_stats *stats) {
    const int64_t H = m.hidden_size(), V = m.vocab_size(), P = static_cast<int64_t>(prompt.size());
    spec_stats st;
    st.reached.assign(k, 0);
    st.accepted_at.assign(k, 0);
    ref_cache c = m.new_cache();
    forward_result r = m.forward(c, prompt.data(), P);
    // MTP rows 0..P-2 (token t+1 known inside the prompt).
    if (P > 1) m.mtp_forward(c, r.hidden.data(), prompt.data() + 1, P - 1, false);
    std::vector<float> h(r.hidden.end() - H, r.hidden.end());  // h[p], p = P-1
    int32_t next = argmax(r.logits.data() + (P - 1) * V, V);   // x[p+1]
    std::vector<int32_t> out{next};
    while (static_cast<int64_t>(out.size()) < n) {
        std::vector<int32_t> d = mtp_draft_greedy(m, c, h.data(), next, k);
        std::vector<int32_t> batch{next};
        batch.insert(batch.end(), d.begin(), d.end());
        ref_cache snap = c;
        forward_result v = m.forward(c, batch.data(), k + 1);
        int64_t a = 0;
        while (a < k) {
            ++st.reached[a];
            if (d[a] != argmax(v.logits.data() + a * V, V)) break;
            ++st.accepted_at[a];
            ++a;
        }
        ++st.rounds;
        st.drafted += k;
        st.accepted += a;
        if (a < k) {  // roll back: recompute the accepted prefix from the snapshot
            c = snap;
            forward_options o;
            o.logits = false;
            m.forward(c, batch.data(), a + 1, o);
        }
        // MTP rows for positions p .. p+a: (h[p], next), (H_0, d_1), ..., (H_{a-1}, d_a).
        std::vector<float> rows(h);
        rows.insert(rows.end(), v.hidden.begin(), v.hidden.begin() + a * H);
        m.mtp_forward(c, rows.data(), batch.data(), a + 1, false);
        for (int64_t i = 0; i < a; ++i) out.push_back(d[i]);
        h.assign(v.hidden.begin() + a * H, v.hidden.begin() + (a + 1) * H);
        next = argmax(v.logits.data() + a * V, V);
        out.push_back(next);
    }
    out.resize(n);
    if (stats) *stats = st;
    return out;
}

}  // namespace mlxmtp::detail::ref
