// The MTP head on the device: cache rows computed alongside every eval
// (engine_session::forward_chunk), and the draft steps.
// Math: docs/model-math.md section 7.
#include "ops/basic_ops.h"
#include "ops/layer_ops.h"
#include "ops/linear.h"
#include "session/session.h"

#include <cstring>

namespace mlxmtp::detail {

// rows t < T at positions pos0 + t of the MTP cache:
//   z = fc([pre_fc_norm_embedding(embed(ids[t])) ; pre_fc_norm_hidden(hidden[t])])
//   z = decoder_layer(z);  mtp_y_ = mtp.norm(z);  logits (optional) = lm_head(mtp_y_) -> logits_dev_
// Records dispatches only (the caller submits).  Clobbers the backbone scratch.
void engine_session::mtp_rows_forward(command_stream &cs, const buffer_span &hidden, const buffer_span &ids, uint32_t T,
                                      uint32_t pos0, const buffer_span &positions, bool logits,
                                      const buffer_span &argmax_out) {
    const text_config &c = m_.text();
    const mtp_weights &w = m_.mtp();
    const uint32_t H = static_cast<uint32_t>(c.hidden_size), V = static_cast<uint32_t>(c.vocab_size);
    const float eps = static_cast<float>(c.rms_norm_eps);
    const uint64_t hb = uint64_t(H) * 4;
    // fc's input rows are [e ; h], embedding first.  One row (a draft step):
    // the norms write its two halves in place; several rows are interleaved
    // by copies (one stage more).
    const bool one = T == 1;
    ops::embed(cs, m_.embed(), ids, x2_, T);
    ops::rms_norm(cs, hidden, w.pre_fc_norm_hidden, one ? mtp_cat_.sub(hb, hb) : xn_, T, H, eps, true);
    cs.barrier();
    ops::rms_norm(cs, x2_, w.pre_fc_norm_embedding, one ? mtp_cat_.sub(0, hb) : mix_, T, H, eps, true);
    cs.barrier();
    if (!one) {
        for (uint32_t t = 0; t < T; ++t) {
            cs.copy(mix_.sub(t * hb, hb), mtp_cat_.sub(2 * t * hb, hb), hb);
            cs.copy(xn_.sub(t * hb, hb), mtp_cat_.sub((2 * t + 1) * hb, hb), hb);
        }
        cs.barrier();
    }
    ops::linear(cs, w.fc, mtp_cat_, x_, T);
    cs.barrier();
    ops::rms_norm(cs, x_, w.layer.input_norm, xn_, T, H, eps, true, xnp(T), x16_);
    cs.barrier();
    block(cs, w.layer, 0, T, pos0, positions, true, nullptr);
    // The lm_head's x pairs (xnp_'s buffer: the layer's products have read it).
    const buffer_span hp = logits ? pairs_for(m_.lm_head(), T, xnp_) : buffer_span{};
    ops::rms_norm(cs, x_, w.norm, mtp_y_, T, H, eps, true, hp, x16_);
    cs.barrier();
    if (logits) {
        ops::linear(cs, m_.lm_head(), mtp_y_, logits_dev_, T, hp);
        cs.barrier();
        if (argmax_out.valid()) {
            ops::argmax(cs, logits_dev_, argmax_out, T, static_cast<uint32_t>(m_.usable_vocab()), V, argmax_part_);
            cs.barrier();
        }
    }
}

buffer_span engine_session::draft_hidden(uint32_t j) const {
    const uint64_t hb = uint64_t(m_.text().hidden_size) * 4;
    return j == 0 ? hring_.sub(((position() - 1) % ring_) * hb, hb) : mtp_y_.sub(0, hb);
}

bool engine_session::mtp_ready() const {
    uint32_t P = position();
    return mtp_ && P >= 1 && mtp_len_ == P - 1 && slot_pos_[(P - 1) % ring_] == int64_t(P) - 1;
}

std::vector<int32_t> engine_session::mtp_draft_greedy(int32_t next, uint32_t k) {
    if (!mtp_ready()) fail(MLXMTP_ERR_BAD_STATE, "MTP drafting needs an evaluated position");
    if (k == 0 || k > 16) fail(MLXMTP_ERR_INVALID_ARG, "draft length %u outside 1..16", k);
    if (uint64_t(position()) + k > n_ctx_) fail(MLXMTP_ERR_CONTEXT_FULL, "no room for %u drafts", k);
    command_stream &cs = *cs_;
    const uint32_t P = position();
    std::memcpy(draft_io_.mapped, &next, 4);
    for (uint32_t j = 0; j < k; ++j) {
        int32_t p3[3] = {int32_t(P - 1 + j), int32_t(P - 1 + j), int32_t(P - 1 + j)};
        std::memcpy(draft_pos_io_.mapped + 256 * j, p3, 12);
    }
    for (uint32_t j = 0; j < k; ++j) {
        // Step 0 reads the last position's hidden row in the ring, step j
        // step j-1's normed output (read before this step overwrites it).
        mtp_rows_forward(cs, draft_hidden(j), draft_io_.sub(256 * j, 256), 1, P - 1 + j, draft_pos_io_.sub(256 * j, 256),
                         true, draft_io_.sub(256 * (j + 1), 256));
    }
    cs.submit();
    std::vector<int32_t> d(k);
    for (uint32_t j = 0; j < k; ++j) std::memcpy(&d[j], draft_io_.mapped + 256 * (j + 1), 4);
    return d;
}

const float *engine_session::mtp_draft_step(int32_t tok, uint32_t j) {
    if (j == 0 && !mtp_ready()) fail(MLXMTP_ERR_BAD_STATE, "MTP drafting needs an evaluated position");
    const uint32_t P = position(), V = static_cast<uint32_t>(m_.text().vocab_size);
    if (uint64_t(P) + j + 1 > n_ctx_) fail(MLXMTP_ERR_CONTEXT_FULL, "no room for another draft");
    if (tok < 0 || tok >= int32_t(V)) fail(MLXMTP_ERR_INVALID_ARG, "token id %d outside the vocabulary", tok);
    command_stream &cs = *cs_;
    std::memcpy(draft_io_.mapped, &tok, 4);
    int32_t p3[3] = {int32_t(P - 1 + j), int32_t(P - 1 + j), int32_t(P - 1 + j)};
    std::memcpy(draft_pos_io_.mapped, p3, 12);
    mtp_rows_forward(cs, draft_hidden(j), draft_io_.sub(0, 256), 1, P - 1 + j, draft_pos_io_.sub(0, 256), true, {});
    cs.copy(logits_dev_, logits_io_, uint64_t(V) * 4);
    cs.submit();
    draft_logits_.assign(reinterpret_cast<const float *>(logits_io_.mapped),
                         reinterpret_cast<const float *>(logits_io_.mapped) + V);
    return draft_logits_.data();
}

}  // namespace mlxmtp::detail
