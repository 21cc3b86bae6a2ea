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
};

class generator {
public:
    generator(const engine_model &m, const session_options &opt);

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

private:
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
};

}  // namespace mlxmtp::detail
