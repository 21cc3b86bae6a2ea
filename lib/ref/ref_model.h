// Scalar CPU reference of the Qwen3.5 / Qwen3.6 text model and its MTP head.
//
// Everything is fp32 with double accumulation; weights are converted to fp32 once at load
// (bf16, f16, f32, and MXFP4 / MXFP8 tensors, recognised by a U32 `.weight` with a U8
// `.scales` beside it, are all dequantized exactly).  Meant to be obviously correct, not
// fast: it is the oracle the Vulkan engine is compared against, layer by layer.
//
// Layouts: activations are row-major [tokens, features]; logits [T, vocab].
#pragma once
#include "model/config.h"
#include "ref/attention.h"
#include "ref/gdn_layer.h"
#include "ref/mlp.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlxmtp::detail::ref {

// A dequantized tensor owned by the model.
struct ref_tensor {
    std::vector<int64_t> shape;
    std::vector<float> data;
    int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
    int64_t cols() const;  // product of the remaining dims
    weight_view view() const { return {wformat::f32, rows(), cols(), data.data(), nullptr}; }
};

// Per-sequence state: everything a forward needs to continue a sequence.  A plain value:
// copy it to snapshot, assign it back to roll back.
struct ref_cache {
    int64_t pos = 0;                    // tokens processed by the backbone
    std::vector<gdn_state> gdn;         // per layer (empty for attention layers)
    std::vector<kv_cache> kv;           // per layer (empty for GDN layers)
    kv_cache mtp_kv;                    // the MTP layer's own cache; mtp_kv.len rows so far
};

struct forward_options {
    bool layer_outputs = false;  // fill forward_result::layer_out
    bool gdn_chunked = false;    // chunked (64) GDN form instead of the token recurrence
    bool logits = true;          // compute logits (false: only hidden states)
};

struct forward_result {
    std::vector<float> logits;                 // [T, V]
    std::vector<float> hidden_prenorm;         // [T, H] last decoder layer output
    std::vector<float> hidden;                 // [T, H] after the final norm (what lm_head reads, MTP's h[t])
    std::vector<std::vector<float>> layer_out; // [L][T, H] residual stream after layer i
};

struct mtp_result {
    std::vector<float> logits;   // [T, V]
    std::vector<float> hidden;   // [T, H] after mtp.norm (feeds the next draft step as h)
};

class ref_model {
public:
    // dir holds config.json and model.safetensors(.index.json).
    static std::unique_ptr<ref_model> load(const std::string &dir);

    const text_config &config() const { return cfg_.text; }
    int64_t hidden_size() const { return cfg_.text.hidden_size; }
    int64_t vocab_size() const { return cfg_.text.vocab_size; }
    int64_t num_layers() const { return cfg_.text.num_hidden_layers; }
    bool has_mtp() const { return has_mtp_; }

    ref_cache new_cache() const;

    // Runs T tokens at positions cache.pos .. cache.pos+T-1 and advances the cache.
    forward_result forward(ref_cache &cache, const int32_t *ids, int64_t T,
                           const forward_options &opt = {}) const;

    // MTP head over T rows continuing cache.mtp_kv (row t at position mtp_kv.len + t):
    //   e = pre_fc_norm_embedding(embed(next_ids[t])); h = pre_fc_norm_hidden(hidden[t])
    //   z = fc([e ; h])  (embedding FIRST); z = decoder_layer(z) (gated full attention + MLP);
    //   hidden_out = mtp.norm(z); logits = lm_head(hidden_out)
    // `hidden` is the backbone output AFTER its final norm at the same positions (or, for
    // draft step j+1, this head's own hidden_out of step j); next_ids[t] is the token at
    // position + 1.  Row t's logits predict the token at position + 2.
    mtp_result mtp_forward(ref_cache &cache, const float *hidden, const int32_t *next_ids,
                           int64_t T, bool logits = true) const;

    // Building blocks, exposed for layer-by-layer comparisons.
    void embed(const int32_t *ids, int64_t T, float *out) const;     // [T, H]
    void final_norm(const float *x, int64_t T, float *out) const;    // [T, H]
    void lm_head(const float *x, int64_t T, float *logits) const;    // [T, V]
    // One decoder layer i on the residual stream x [T, H] in place.
    void decoder_layer(int64_t i, ref_cache &cache, float *x, int64_t T, const int64_t *pos,
                       bool gdn_chunked = false) const;

    const gdn_weights &gdn(int64_t layer) const { return layers_.at(layer).gdn; }
    const attn_weights &attn(int64_t layer) const { return layers_.at(layer).attn; }
    const mlp_weights &mlp(int64_t layer) const { return layers_.at(layer).mlp; }
    const ref_tensor &tensor(const std::string &name) const;  // by checkpoint name

private:
    struct layer {
        layer_kind kind = layer_kind::linear_attention;
        const float *input_norm = nullptr, *post_norm = nullptr;
        gdn_weights gdn;
        attn_weights attn;
        mlp_weights mlp;
    };
    void block(const layer &L, gdn_state *gs, kv_cache *kv, float *x, int64_t T,
               const int64_t *pos, bool gdn_chunked) const;

    model_config cfg_;
    std::map<std::string, ref_tensor> t_;  // node-based: views stay valid
    std::vector<layer> layers_;
    const ref_tensor *embed_ = nullptr, *lm_head_ = nullptr, *norm_ = nullptr;
    bool has_mtp_ = false;
    layer mtp_layer_;
    const ref_tensor *mtp_fc_ = nullptr, *mtp_norm_ = nullptr, *mtp_pre_e_ = nullptr,
                     *mtp_pre_h_ = nullptr;
};

// Index of the largest value (first one on ties).
int32_t argmax(const float *x, int64_t n);
// Largest minus second largest value.
float top2_margin(const float *x, int64_t n);

// Greedy continuation of `prompt` for n tokens: one prefill forward over the prompt, then one
// token per forward (the decode path).  margins (optional) receives top1 - top2 per step.
std::vector<int32_t> greedy_generate(const ref_model &m, const std::vector<int32_t> &prompt,
                                     int64_t n, std::vector<float> *margins = nullptr);

// Teacher-forced MTP drafts over a whole sequence: runs the backbone over seq, then the MTP
// head on rows t = 0 .. len-2 (h[t], seq[t+1]); returns argmax draft per row (predicting
// seq[t+2]).  logits (optional) receives [len-1, V].
std::vector<int32_t> mtp_teacher_forced(const ref_model &m, const std::vector<int32_t> &seq,
                                        std::vector<float> *logits = nullptr);

// Greedy MTP drafting: k tokens after the backbone's last position p = cache.pos - 1, given
// h = the backbone's post-norm hidden at p and next_token = x[p+1] (argmax of p's logits).
// Requires cache.mtp_kv.len == p (MTP rows 0..p-1 filled).  Row p is mtp(h, x[p+1]); row
// p+j reuses the head on its own post-mtp.norm output of row p+j-1 and the draft of that
// row.  Works on a copy: `cache` is unchanged.
std::vector<int32_t> mtp_draft_greedy(const ref_model &m, const ref_cache &cache, const float *h,
                                      int32_t next_token, int64_t k);

struct spec_stats {
    int64_t rounds = 0, drafted = 0, accepted = 0;
    std::vector<int64_t> reached, accepted_at;  // per draft position i: rounds that reached it, accepted there
    double acceptance() const { return drafted ? double(accepted) / drafted : 0.0; }
    double tokens_per_round() const;            // (accepted + rounds) / rounds
};

// Speculative greedy decoding with the MTP head drafting k tokens per round and one backbone
// pass verifying k+1 (accept while draft == argmax, then the backbone's token).  Produces
// exactly greedy_generate's tokens.  The MTP cache holds one row per backbone position,
// computed from the verified hidden states (rows of rejected drafts are dropped); rollback
// here is by snapshot + recompute (the reference is not meant to be fast).
std::vector<int32_t> speculative_greedy(const ref_model &m, const std::vector<int32_t> &prompt,
                                        int64_t n, int64_t k, spec_stats *stats = nullptr);

}  // namespace mlxmtp::detail::ref
