#include "session/generator.h"

#include <algorithm>

namespace mlxmtp::detail {

generator::generator(const engine_model &m, const session_options &opt) : s_(m, opt) {}

void generator::prefill(const int32_t *ids, uint32_t n) {
    if (n == 0 && pending_.empty()) fail(MLXMTP_ERR_INVALID_ARG, "prefill needs at least one token");
    std::vector<int32_t> all = pending_;
    all.insert(all.end(), ids, ids + n);
    s_.eval(all.data(), static_cast<uint32_t>(all.size()), logits_rows::last);
    pending_.clear();
    logits_ready_ = host_logits_ = true;
    generated_ = 0;
}

void generator::eval_all(const int32_t *ids, uint32_t n) {
    std::vector<int32_t> all = pending_;
    all.insert(all.end(), ids, ids + n);
    if (all.empty()) fail(MLXMTP_ERR_INVALID_ARG, "nothing to evaluate");
    s_.eval(all.data(), static_cast<uint32_t>(all.size()), logits_rows::all);
    pending_.clear();
    logits_ready_ = host_logits_ = true;
}

void generator::flush_pending(bool want_host_logits) {
    if (pending_.empty()) {
        if (!logits_ready_) fail(MLXMTP_ERR_BAD_STATE, "no logits yet: prefill a prompt first");
        if (want_host_logits && !host_logits_) fail(MLXMTP_ERR_INTERNAL, "host logits missing");
        return;
    }
    s_.eval(pending_.data(), static_cast<uint32_t>(pending_.size()),
            want_host_logits ? logits_rows::last : logits_rows::argmax);
    pending_.clear();
    logits_ready_ = true;
    host_logits_ = want_host_logits;
}

bool generator::ends_with_stop() const {
    std::vector<int32_t> tail;
    const auto &h = s_.history();
    for (const auto &seq : stops_) {
        if (seq.empty() || seq.size() > h.size() + pending_.size()) continue;
        tail.clear();
        size_t need = seq.size();
        size_t from_pending = std::min(need, pending_.size());
        tail.insert(tail.end(), h.end() - (need - from_pending), h.end());
        tail.insert(tail.end(), pending_.end() - from_pending, pending_.end());
        if (tail == seq) return true;
    }
    return false;
}

step_output generator::step(const generate_params &p) {
    step_output out;
    if (p.max_tokens && generated_ >= p.max_tokens) {
        out.finish = finish_reason::length;
        return out;
    }
    if (position() >= s_.n_ctx()) {
        out.finish = finish_reason::length;
        return out;
    }
    const sampling_params &sp = p.sampling;
    const bool device_greedy = sampling_is_greedy(sp) && sp.repetition_penalty == 1.0f && sp.presence_penalty == 0.0f;
    flush_pending(!device_greedy);
    int32_t tok;
    if (device_greedy) {
        tok = s_.last_argmax();
    } else {
        if (!seeded_ || seed_ != sp.seed) {
            rng_.seed(sp.seed);
            seed_ = sp.seed;
            seeded_ = true;
        }
        const auto &l = s_.logits();
        const size_t V = static_cast<size_t>(s_.model().text().vocab_size);
        tok = sample_token(l.data() + l.size() - V, s_.model().usable_vocab(), sp, s_.history(), rng_);
    }
    pending_.push_back(tok);
    ++generated_;
    out.tokens.push_back(tok);
    const auto &eos = s_.model().eos_ids();
    if (std::binary_search(eos.begin(), eos.end(), tok))
        out.finish = finish_reason::eos;
    else if (ends_with_stop())
        out.finish = finish_reason::stop;
    else if ((p.max_tokens && generated_ >= p.max_tokens) || position() >= s_.n_ctx())
        out.finish = finish_reason::length;
    return out;
}

void generator::rollback(uint32_t n) {
    if (n > position()) fail(MLXMTP_ERR_INVALID_ARG, "cannot roll back %u tokens: only %u in the session", n, position());
    uint32_t from_pending = std::min<uint32_t>(n, static_cast<uint32_t>(pending_.size()));
    pending_.resize(pending_.size() - from_pending);
    n -= from_pending;
    generated_ = generated_ > from_pending + n ? generated_ - from_pending - n : 0;
    if (n == 0) return;  // only unevaluated tokens went: the session's logits still describe its end
    // Re-evaluate the new last token on the next step so its logits are fresh.
    uint32_t keep = s_.position() - n;
    if (keep == 0) {
        s_.rollback(s_.position());
        logits_ready_ = false;
        return;
    }
    int32_t last = s_.history()[keep - 1];
    s_.rollback(n + 1);
    pending_.assign(1, last);
    logits_ready_ = false;
}

void generator::add_stop_sequence(std::vector<int32_t> seq) {
    if (seq.empty()) fail(MLXMTP_ERR_INVALID_ARG, "empty stop sequence");
    stops_.push_back(std::move(seq));
}

}  // namespace mlxmtp::detail
