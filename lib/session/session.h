// One conversation on a model: the KV caches of the full-attention layers,
// the recurrent and conv state of the Gated DeltaNet layers, a ring of
// per-token snapshots of that state (exact rollback without recomputation),
// scratch activations, and the forward pass that ties the kernels together.
// Not thread-safe: one session per thread (the model is shared).
#pragma once
#include "model/model.h"
#include "ops/layer_ops.h"
#include "ops/linear_frag.h"
#include "vk/command.h"

#include <functional>
#include <memory>
#include <vector>

namespace mlxmtp::detail {

struct session_options {
    uint32_t n_ctx = 0;            // context limit in tokens (0 = min(model max, 4096))
    uint32_t snapshot_window = 16; // rollback without recompute for up to this many tokens
    uint32_t max_batch = 256;      // tokens per forward chunk (prefill is chunked to this)
    std::function<bool()> abort;   // polled between submissions; true = stop
    bool mtp = false;              // keep the MTP head's KV cache in step with the backbone (drafting)
};

// Which logits an eval produces: none, the last row (host copy + argmax),
// only the last row's argmax (no host copy), or every evaluated row.
// argmax_all: every row's argmax (row_argmax()), no host copy.
enum class logits_rows { none, last, argmax, all, argmax_all };

class engine_session {
public:
    engine_session(const engine_model &m, const session_options &opt);
    ~engine_session();

    const engine_model &model() const { return m_; }
    uint32_t position() const { return static_cast<uint32_t>(history_.size()); }
    uint32_t n_ctx() const { return n_ctx_; }
    uint32_t snapshot_window() const { return window_; }
    const std::vector<int32_t> &history() const { return history_; }

    // Evaluates `ids` after the current position (prefill in chunks of
    // max_batch).  Afterwards logits() holds the rows asked for: the last
    // token's, or one row per evaluated token (`all`).
    void eval(const int32_t *ids, uint32_t n, logits_rows rows);

    // The logits of the last eval: rows x vocab_size, row-major.
    const std::vector<float> &logits() const { return logits_; }
    uint32_t logits_row_count() const { return logits_rows_; }

    // Greedy next token after the last eval's last row, computed on the device.
    int32_t last_argmax() const { return last_argmax_; }

    // Removes the last n tokens.  Within the snapshot window this restores
    // the saved state (no recomputation); further back it re-evaluates the
    // remaining history.  Either way the state equals a fresh session fed the
    // shorter sequence.
    void rollback(uint32_t n);
    // True when rollback(n) needs no recomputation.
    bool rollback_is_exact(uint32_t n) const;

    uint64_t state_bytes() const;      // KV + recurrent + snapshots
    uint64_t snapshot_bytes() const;

    void reset();

    // The producers of the fragment products' inputs write (hi, lo) pair
    // words that the products read (x pre-split; tests).
    bool presplit() const { return presplit_; }
    bool spread_norm() const { return spread_; }
    bool spread_norm_gdn() const { return spread_gdn_; }

    // Development profiling of every later eval (vk/profile.h); nullptr: off.
    void set_profile(gpu_profile *p) { cs_->set_profile(p); }

    // ---- MTP head (session_options::mtp) ----------------------------------
    // With MTP on, every eval also runs the MTP layer over the rows whose next
    // token became known: the row of backbone position t is computed from
    // (h[t] after the final norm, x[t+1]) at position t, so after any eval or
    // rollback the MTP cache holds rows 0 .. position()-2.
    bool mtp_enabled() const { return mtp_; }
    uint32_t mtp_rows() const { return mtp_len_; }
    // True when drafting can start: position() >= 1, the MTP cache is in step
    // and the hidden state of the last position is kept.
    bool mtp_ready() const;
    // Greedy drafts: k tokens after `next` (the token at position()), on the
    // device in one submission.  Draft rows are written past mtp_rows() and
    // are overwritten later; the cache's length is unchanged.
    std::vector<int32_t> mtp_draft_greedy(int32_t next, uint32_t k);
    // One draft step j (0-based) consuming `tok` (step 0: `next`, then the
    // draft of step j-1); returns the MTP logits row (vocab floats, host).
    const float *mtp_draft_step(int32_t tok, uint32_t j);
    // Keep (append) the MTP logits of every cache row computed by evals.
    void set_capture_mtp_logits(bool on) { capture_mtp_ = on; mtp_logits_.clear(); }
    const std::vector<float> &captured_mtp_logits() const { return mtp_logits_; }
    // Argmax of every row of the last eval with argmax_all.
    const std::vector<int32_t> &row_argmax() const { return row_argmax_; }

private:
    void mtp_rows_forward(command_stream &cs, const buffer_span &hidden, const buffer_span &ids, uint32_t T,
                          uint32_t pos0, const buffer_span &positions, bool logits, const buffer_span &argmax_out);
    // The MTP input hidden row of draft step j: the ring's row of the last
    // position (j = 0), else step j-1's normed output.
    buffer_span draft_hidden(uint32_t j) const;
    // One decoder layer on x_.  Expects xn_ = input_norm(x_) (the caller or
    // the previous layer computed it); with next_norm, leaves xn_ =
    // next_norm(x_) for the next layer (residual add and norm fused).
    void block(command_stream &cs, const layer_weights &L, size_t li, uint32_t T, uint32_t p0,
               const buffer_span &positions, bool is_mtp, const buffer_span *next_norm);
    void forward_chunk(const int32_t *ids, uint32_t T, logits_rows rows);
    // The layers' products.  The spread norm (spread_norm(T)): `out` (the
    // output projections') adds into x_ in place and writes x_'s partials and
    // the next products' u (ops::frag_resid_out); `in`: the layer's input
    // projections (GDN or attention) or the MLP read that u (ops::frag_norm_in).
    void gdn_layer(command_stream &cs, size_t li, uint32_t T, uint32_t p0, const ops::frag_norm_in *in,
                   const ops::frag_resid_out *out);
    void attn_layer(command_stream &cs, const attn_weights &w, buffer_span kc, buffer_span vc, uint32_t T, uint32_t p0,
                    const buffer_span &positions, const ops::frag_norm_in *in, const ops::frag_resid_out *out);
    void mlp(command_stream &cs, const layer_weights &L, uint32_t T, const ops::frag_norm_in *in,
             const ops::frag_resid_out *out);
    // The spread RMSNorm for this evaluation (spread_ at decode / verify sizes).
    bool spread_norm(uint32_t T) const { return spread_ && T <= ops::kMatvecMaxCols; }
    void check_abort();

    const engine_model &m_;
    session_options opt_;
    uint32_t n_ctx_ = 0, window_ = 0, ring_ = 0, max_batch_ = 0;
    // Rows of logits one forward chunk can return (the logits scratch is
    // sized by it, not by max_batch: a vocabulary row is ~1 MB).
    uint32_t logits_cap_ = 0;
    std::unique_ptr<arena> state_arena_, scratch_arena_, io_arena_;
    std::unique_ptr<command_stream> cs_;

    // A GDN layer's state lives in its snapshot ring: after every evaluation
    // the slot of the last position holds it (the chunk's last tokens always
    // write snapshots), so an exact rollback only moves the position.
    struct gdn_state {
        buffer_span state;      // [Hv, dv, dk] (ops::gdn_recurrence's layout): zeros at position 0; the end of a snapshot-less prefill segment
        buffer_span conv;       // [K-1, C]: likewise for the conv window
        buffer_span snap_state; // [ring, Hv, dv, dk]
        buffer_span snap_conv;  // [ring, K-1, C]
    };
    struct kv_state {
        buffer_span k, v;       // [Hkv, n_ctx, hd]
    };
    std::vector<gdn_state> gdn_;
    std::vector<kv_state> kv_;
    // kernel_tuning::l2_prefetch at creation (0: none) and its sinks (two:
    // its dispatches run side by side); see prefetch_weight.
    uint32_t l2_prefetch_groups_ = 0;
    buffer_span prefetch_sinks_[2];
    // Decode / verify sizes with l2_prefetch_groups_: records a read of w's
    // bytes (its frag copy's, else its first chunk's) into the L2 cache.
    void prefetch_weight(command_stream &cs, const ops::device_weight &w, uint32_t T);
    buffer_span gdn_arrivals_;  // [Hv] uint32 zeros: the recurrence's norm epilogue counters (ops::gdn_norm_epilogue)
    uint64_t gdn_arrivals_stage_ = 0;  // their last dispatch's stage (command_stream::claim_stage)
    ops::attn_split attn_split_;  // decode / verify attention split-K scratch (partials, arrival counters)

    // Scratch (sized for max_batch tokens).
    buffer_span x_, x2_, xn_, mix_, qkv_, z_, a_, b_, u_, o_, y_, qg_, k_, v_, q_, att_, gate_, up_, act_, hn_, logits_dev_;
    buffer_span argmax_part_;  // ops::argmax partials
    // x pre-split (with x-quad frag copies, unless kernel_tuning::frag_no_presplit):
    // the norms that write xn_, the frag SwiGLU epilogue, the GDN gated norm
    // epilogue and the attention core also write their outputs' (hi, lo) pair
    // words for decode / verify chunks, and the fragment products read those.
    bool presplit_ = false;
    bool x16_ = false;  // the pairs as fp16 token-pair halves (frag copies with x16: matvec_frag.comp X16)
    bool prefill_pairs_ = false;  // xnp_ at prefill sizes too (kernel_tuning::frag_prefill_pairs; x16_ only)
    buffer_span xnp_, actp_;  // xn_'s pairs; act_'s (the frag GLU epilogue's, read by the down projection)
    buffer_span mixp_;        // the token mixer's output pairs: y_'s (GDN norm epilogue) or att_'s (attention core)
    // The spread RMSNorm (ops::frag_norm_in; every backbone product through
    // x-quad frag copies, unless kernel_tuning::no_spread_norm): decode and
    // verify run no residual add + norm stage where the norm's consumers are
    // fragment products (the MLP, the layers' input projections); part_ holds
    // x_'s sums of squares per 16 elements [T][H / 16], xnp_ the u.
    bool spread_ = false;
    bool spread_gdn_ = false;  // GDN layers' products too (all four with copies; else their norm stage stays)
    buffer_span part_;
    ops::frag_ksplit ksplit_;  // KSPLIT's scratch, where frag_defines ask for it
    const ops::frag_ksplit *ksplit() const { return ksplit_.arrivals.valid() ? &ksplit_ : nullptr; }
    // `pairs` where its producer should write them at T tokens: for a
    // consumer weight with an x-quad frag copy, at decode / verify sizes.
    buffer_span pairs_for(const ops::device_weight &consumer, uint32_t T, const buffer_span &pairs) const {
        return presplit_ && T <= ops::kMatvecMaxCols && consumer.frag.x_quads ? pairs : buffer_span{};
    }
    // xn_'s pairs: every norm writing xn_ writes them, so any product
    // reading xn_ may take them (those without x-quad copies ignore them).
    // (prefill_pairs_: at every T, xnp_ then holding a whole chunk's halves.)
    buffer_span xnp(uint32_t T) const {
        return presplit_ && (T <= ops::kMatvecMaxCols || prefill_pairs_) ? xnp_ : buffer_span{};
    }
    // Host-visible I/O.
    buffer_span ids_io_, pos_io_, argmax_io_, logits_io_;

    std::vector<int32_t> history_;
    std::vector<int64_t> slot_pos_;  // position whose post-token state each ring slot holds (-1: none)
    std::vector<float> logits_;
    uint32_t logits_rows_ = 0;
    int32_t last_argmax_ = -1;
    std::vector<int32_t> row_argmax_;

    // MTP
    bool mtp_ = false, capture_mtp_ = false;
    uint32_t mtp_len_ = 0;
    kv_state mtp_kv_;
    buffer_span hring_;                  // [ring, H] post-final-norm hidden per ring slot (slot_pos_)
    buffer_span mtp_h_, mtp_cat_, mtp_y_;  // [B, H], [B, 2H], [B, H]
    buffer_span mtp_ids_io_, mtp_pos_io_;  // catch-up rows: ids [B], positions [3, B]
    buffer_span draft_io_, draft_pos_io_;  // per draft step, 256-byte slots: token in / argmax out; positions
    std::vector<float> mtp_logits_, draft_logits_;
};

}  // namespace mlxmtp::detail
