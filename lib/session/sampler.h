// Token sampling on the host over one row of logits: penalties, temperature,
// top-k, top-p, min-p, then a draw from a seeded generator (identical seeds
// reproduce identical output).  Temperature 0 is greedy.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace mlxmtp::detail {

struct sampling_params {
    float temperature = 0.0f;     // 0 = greedy
    int32_t top_k = 0;            // 0 = off
    float top_p = 1.0f;           // 1 = off
    float min_p = 0.0f;           // 0 = off
    float repetition_penalty = 1.0f;  // HF rule: logit > 0 ? logit / p : logit * p, for ids in the context
    float presence_penalty = 0.0f;    // subtracted once from ids present in the context
    uint64_t seed = 0;
};

bool sampling_is_greedy(const sampling_params &p);

// Applies penalties and filters, returning the normalised probabilities over
// ids < usable_vocab (zeros for filtered ids).  `context` holds the ids the
// penalties look at.
std::vector<float> sampling_distribution(const float *logits, int32_t usable_vocab, const sampling_params &p,
                                         const std::vector<int32_t> &context);

// Draws one id from the distribution (greedy: argmax of the penalised logits).
int32_t sample_token(const float *logits, int32_t usable_vocab, const sampling_params &p,
                     const std::vector<int32_t> &context, std::mt19937_64 &rng);

}  // namespace mlxmtp::detail
