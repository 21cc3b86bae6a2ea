#include "session/generator.h"

#include <algorithm>

namespace mlxmtp::detail {

namespace {
session_options with_mtp(session_options o, decoder_kind dec) {
    o.mtp = dec == decoder_kind::mtp;
    return o;
}
}  // namespace

generator::generator(const engine_model &m, const session_options &opt, decoder_kind dec, uint32_t draft)
    : s_(m, with_mtp(opt, dec)), dec_(dec), draft_(draft) {
    if (dec == decoder_kind::mtp) {
        if (!m.mtp().present) fail(MLXMTP_ERR_UNSUPPORTED, "the model has no MTP head");
        if (draft < 1 || draft > 8) fail(MLXMTP_ERR_INVALID_ARG, "MTP draft length must be 1..8 (got %u)", draft);
        if (opt.snapshot_window < draft)
            fail(MLXMTP_ERR_INVALID_ARG, "snapshot_window (%u) must be at least the draft length (%u)",
                 opt.snapshot_window, draft);
    }
}

void generator::reset() {
    s_.reset();
    pending_.clear();
    logits_ready_ = host_logits_ = false;
    generated_ = 0;
}

void generator::seed_rng(const sampling_params &sp) {
    if (!seeded_ || seed_ != sp.seed) {
        rng_.seed(sp.seed);
        seed_ = sp.seed;
        seeded_ = true;
    }
}

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
    if (dec_ == decoder_kind::mtp) {
        uint32_t k = p.draft < 0 ? draft_ : static_cast<uint32_t>(p.draft);
        if (k > 8) fail(MLXMTP_ERR_INVALID_ARG, "draft length %u outside 0..8", k);
        if (k > s_.snapshot_window()) k = s_.snapshot_window();
        // No room past the context or max_tokens: fewer drafts.
        uint64_t room = s_.n_ctx() - s_.position();  // verify appends k+1 tokens
        if (k + 1 > room) k = room > 0 ? static_cast<uint32_t>(room - 1) : 0;
        if (p.max_tokens && generated_ + k + 1 > p.max_tokens) k = p.max_tokens - generated_ - 1;
        if (k > 0 && pending_.size() == 1 && s_.mtp_ready() && speculative_step(p, k, out)) return out;
    }
    flush_pending(!device_greedy);
    int32_t tok;
    if (device_greedy) {
        tok = s_.last_argmax();
    } else {
        seed_rng(sp);
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

namespace mlxmtp::detail {

bool generator::stops_after(const std::vector<int32_t> &seq) const {
    for (const auto &st : stops_)
        if (!st.empty() && st.size() <= seq.size() && std::equal(st.begin(), st.end(), seq.end() - st.size()))
            return true;
    return false;
}

namespace {
int32_t draw(const std::vector<float> &prob, std::mt19937_64 &rng) {
    double total = 0;
    for (float x : prob) total += x;
    double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng) * total, acc = 0;
    int32_t last = 0;
    for (size_t i = 0; i < prob.size(); ++i) {
        if (prob[i] <= 0) continue;
        last = static_cast<int32_t>(i);
        acc += prob[i];
        if (u < acc) return last;
    }
    return last;
}
}  // namespace

// One round: k drafts from the MTP head after pending_[0] (the token at the
// session's position), one backbone pass over [pending, drafts], acceptance,
// rollback of the rejected tail.  Emits the accepted drafts and the
// backbone's own token, stopping exactly at EOS / a stop sequence / max_tokens.
bool generator::speculative_step(const generate_params &p, uint32_t k, step_output &out) {
    const sampling_params &sp = p.sampling;
    const bool greedy = sampling_is_greedy(sp);
    const bool device_greedy = greedy && sp.repetition_penalty == 1.0f && sp.presence_penalty == 0.0f;
    const int32_t Vu = s_.model().usable_vocab();
    const size_t V = static_cast<size_t>(s_.model().text().vocab_size);
    const int32_t next = pending_[0];
    const uint32_t P = s_.position();
    if (!greedy) seed_rng(sp);

    // Draft.
    std::vector<int32_t> d;
    std::vector<std::vector<float>> q;  // sampling: the draft distributions
    std::vector<int32_t> ctx;
    if (greedy) {
        d = s_.mtp_draft_greedy(next, k);
    } else {
        ctx = s_.history();
        ctx.push_back(next);
        int32_t tok = next;
        for (uint32_t j = 0; j < k; ++j) {
            const float *l = s_.mtp_draft_step(tok, j);
            q.push_back(sampling_distribution(l, Vu, sp, ctx));
            tok = draw(q.back(), rng_);
            d.push_back(tok);
            ctx.push_back(tok);
        }
    }

    // Verify.
    std::vector<int32_t> batch{next};
    batch.insert(batch.end(), d.begin(), d.end());
    s_.eval(batch.data(), k + 1, device_greedy ? logits_rows::argmax_all : logits_rows::all);
    pending_.clear();
    logits_ready_ = true;
    host_logits_ = false;

    // Accept.  Row i of the verify predicts the token after batch[i]; its
    // penalty context is the sequence through batch[i].
    const std::vector<int32_t> &h = s_.history();
    auto context_through = [&](uint32_t i) { return std::vector<int32_t>(h.begin(), h.begin() + P + i + 1); };
    auto row = [&](uint32_t i) { return s_.logits().data() + i * V; };
    uint32_t a = 0;
    int32_t own = -1;
    for (; a < k; ++a) {
        if (a < mtp_stats::max_positions) ++stats_.reached[a];
        bool ok;
        if (device_greedy) {
            ok = d[a] == s_.row_argmax()[a];
            if (!ok) own = s_.row_argmax()[a];
        } else if (greedy) {
            std::mt19937_64 unused;
            int32_t t = sample_token(row(a), Vu, sp, context_through(a), unused);
            ok = d[a] == t;
            if (!ok) own = t;
        } else {
            std::vector<float> pd = sampling_distribution(row(a), Vu, sp, context_through(a));
            double pa = pd[d[a]], qa = q[a][d[a]];
            double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
            ok = variant_ == spec_variant::accept_all || (qa > 0 && u < std::min(1.0, pa / qa));
            if (!ok) {
                if (variant_ == spec_variant::resample_from_p) {
                    own = draw(pd, rng_);
                } else {
                    std::vector<float> res(pd.size());
                    double tot = 0;
                    for (size_t v = 0; v < pd.size(); ++v) tot += (res[v] = std::max(0.0f, pd[v] - q[a][v]));
                    own = tot > 0 ? draw(res, rng_) : draw(pd, rng_);
                }
            }
        }
        if (!ok) break;
        if (a < mtp_stats::max_positions) ++stats_.accepted_at[a];
    }
    if (a == k) {
        if (device_greedy) {
            own = s_.row_argmax()[k];
        } else {
            own = sample_token(row(k), Vu, sp, context_through(k), rng_);
        }
    }
    ++stats_.rounds;
    stats_.drafted += k;
    stats_.accepted += a;
    stats_.tokens += a + 1;
    if (a < k) s_.rollback(k - a);  // keeps next, d[0..a-1]

    // Emit d[0..a-1], own; stop exactly at EOS / stop sequence / max_tokens.
    std::vector<int32_t> run(d.begin(), d.begin() + a);
    run.push_back(own);
    std::vector<int32_t> seq;
    if (!stops_.empty()) seq.assign(h.begin(), h.begin() + P + 1);
    const auto &eos = s_.model().eos_ids();
    uint32_t n = static_cast<uint32_t>(run.size());
    for (uint32_t i = 0; i < run.size(); ++i) {
        int32_t tok = run[i];
        out.tokens.push_back(tok);
        ++generated_;
        if (!stops_.empty()) seq.push_back(tok);
        if (std::binary_search(eos.begin(), eos.end(), tok))
            out.finish = finish_reason::eos;
        else if (!stops_.empty() && stops_after(seq))
            out.finish = finish_reason::stop;
        else if ((p.max_tokens && generated_ >= p.max_tokens) || P + 1 + i + 1 >= s_.n_ctx())
            out.finish = finish_reason::length;
        if (out.finish != finish_reason::none) {
            n = i + 1;
            break;
        }
    }
    // The session holds next, run[0..n-2]; run[n-1] is pending (not evaluated), as after a plain step.
    if (n < run.size()) s_.rollback(static_cast<uint32_t>(run.size() - n));
    pending_.assign(1, run[n - 1]);
    return true;
}

std::vector<float> generator::mtp_teacher_forced(const int32_t *ids, uint32_t n) {
    if (dec_ != decoder_kind::mtp) fail(MLXMTP_ERR_BAD_STATE, "the session was not created with the MTP decoder");
    if (n < 2) fail(MLXMTP_ERR_INVALID_ARG, "need at least 2 tokens");
    s_.reset();
    pending_.clear();
    logits_ready_ = host_logits_ = false;
    generated_ = 0;
    s_.set_capture_mtp_logits(true);
    try {
        s_.eval(ids, n, logits_rows::argmax);
    } catch (...) {
        s_.set_capture_mtp_logits(false);
        throw;
    }
    std::vector<float> r = s_.captured_mtp_logits();
    s_.set_capture_mtp_logits(false);
    logits_ready_ = true;
    return r;
}

}  // namespace mlxmtp::detail
