// Generation on top of a session: pending (sampled, not yet evaluated)
// tokens, sampling, stop conditions, and the speculative decoders.  This is
// what mlxmtp_generate_step drives.
#pragma once
#include "session/sampler.h"
#include "session/session.h"

#include <random>
#include <vector>

namespace mlxmtp::detail {

enum class finish_reason : uint32_t { none = 0, eos = 1, stop = 2, length = 3 };

struct step_output {
    std::vector<int32_t> tokens;
    finish_reason finish = finish_reason::none;
};

struct generate_params {
    sampling_params sampling;
    uint32_t max_tokens = 0;  // generated tokens since the last prefill; 0 = until the context is full
    int32_t draft = -1;       // MTP drafts this step: -1 = the generator's default, 0 = a plain step
};

enum class decoder_kind : uint32_t { vanilla = 0, mtp = 1 };

// Speculative decoding statistics (since creation or reset_stats()).
struct mtp_stats {
    static constexpr uint32_t max_positions = 16;
    uint64_t rounds = 0, drafted = 0, accepted = 0, tokens = 0;  // tokens: emitted by rounds (accepted + own)
    uint64_t reached[max_positions] = {}, accepted_at[max_positions] = {};
};

// Test-only switches that break speculative sampling on purpose (the
// statistical test must detect both).
enum class spec_variant : uint32_t { exact = 0, accept_all = 1, resample_from_p = 2 };

class generator {
public:
    generator(const engine_model &m, const session_options &opt, decoder_kind dec = decoder_kind::vanilla,
              uint32_t draft = 0);

    engine_session &session() { return s_; }
    const engine_session &session() const { return s_; }

    // Appends prompt tokens (after any pending ones) and evaluates them; the
    // last row's logits become the next step's distribution.
    void prefill(const int32_t *ids, uint32_t n);
    // Like prefill, but keeps the logits of every evaluated row (tools, tests).
    void eval_all(const int32_t *ids, uint32_t n);

    step_output step(const generate_params &p);
    void rollback(uint32_t n);
    uint32_t position() const { return s_.position() + static_cast<uint32_t>(pending_.size()); }

    void add_stop_sequence(std::vector<int32_t> seq);
    void clear_stop_sequences() { stops_.clear(); }
    uint32_t generated() const { return generated_; }

    // Empties the session (statistics are kept).
    void reset();

    decoder_kind decoder() const { return dec_; }
    uint32_t default_draft() const { return draft_; }
    const mtp_stats &stats() const { return stats_; }
    void reset_stats() { stats_ = {}; }
    void set_test_variant(spec_variant v) { variant_ = v; }

    // Teacher-forced MTP logits: resets the session, evaluates `ids` and
    // returns the MTP logits of rows 0 .. n-2 (row t predicts ids[t+2]).
    std::vector<float> mtp_teacher_forced(const int32_t *ids, uint32_t n);

private:
    bool speculative_step(const generate_params &p, uint32_t k, step_output &out);
    void seed_rng(const sampling_params &sp);
    bool stops_after(const std::vector<int32_t> &seq) const;
    void flush_pending(bool want_host_logits);
    bool ends_with_stop() const;

    engine_session s_;
    std::vector<int32_t> pending_;
    bool logits_ready_ = false;   // the session's last eval describes its end (pending tokens excluded)
    bool host_logits_ = false;    // ... and the host copy is there
    std::vector<std::vector<int32_t>> stops_;
    uint32_t generated_ = 0;
    std::mt19937_64 rng_;
    uint64_t seed_ = 0;
    bool seeded_ = false;
    decoder_kind dec_ = decoder_kind::vanilla;
    uint32_t draft_ = 0;
    mtp_stats stats_;
    spec_variant variant_ = spec_variant::exact;
};

}  // namespace mlxmtp::detail
