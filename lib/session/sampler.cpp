#include "session/sampler.h"

#include "util/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

namespace mlxmtp::detail {

bool sampling_is_greedy(const sampling_params &p) { return !(p.temperature > 0.0f); }

namespace {
std::vector<float> penalised(const float *logits, int32_t V, const sampling_params &p,
                             const std::vector<int32_t> &context) {
    std::vector<float> l(logits, logits + V);
    if (p.repetition_penalty != 1.0f || p.presence_penalty != 0.0f) {
        std::unordered_set<int32_t> seen(context.begin(), context.end());
        for (int32_t id : seen) {
            if (id < 0 || id >= V) continue;
            float &x = l[id];
            if (p.repetition_penalty != 1.0f) x = x > 0 ? x / p.repetition_penalty : x * p.repetition_penalty;
            x -= p.presence_penalty;
        }
    }
    for (float &x : l)
        if (std::isnan(x)) x = -INFINITY;
    return l;
}
}  // namespace

std::vector<float> sampling_distribution(const float *logits, int32_t V, const sampling_params &p,
                                         const std::vector<int32_t> &context) {
    if (V <= 0) fail(MLXMTP_ERR_INVALID_ARG, "empty vocabulary");
    std::vector<float> l = penalised(logits, V, p, context);
    std::vector<float> prob(V, 0.0f);
    if (sampling_is_greedy(p)) {
        prob[std::max_element(l.begin(), l.end()) - l.begin()] = 1.0f;
        return prob;
    }
    // Candidates sorted by logit (descending, ties by id).
    std::vector<int32_t> idx(V);
    std::iota(idx.begin(), idx.end(), 0);
    size_t keep = V;
    if (p.top_k > 0 && static_cast<size_t>(p.top_k) < keep) keep = p.top_k;
    std::partial_sort(idx.begin(), idx.begin() + keep, idx.end(),
                      [&](int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    idx.resize(keep);
    const double inv_t = 1.0 / p.temperature;
    const double mx = l[idx[0]];
    std::vector<double> w(keep);
    double sum = 0;
    for (size_t i = 0; i < keep; ++i) sum += (w[i] = std::exp((l[idx[i]] - mx) * inv_t));
    for (double &x : w) x /= sum;
    // min-p: drop tokens below min_p * max probability.
    if (p.min_p > 0.0f) {
        double cut = p.min_p * w[0];
        size_t n = 1;
        while (n < keep && w[n] >= cut) ++n;
        keep = n;
    }
    // top-p: the smallest prefix whose mass reaches top_p.
    if (p.top_p < 1.0f) {
        double acc = 0;
        size_t n = 0;
        while (n < keep) {
            acc += w[n++];
            if (acc >= p.top_p) break;
        }
        keep = std::max<size_t>(n, 1);
    }
    double total = 0;
    for (size_t i = 0; i < keep; ++i) total += w[i];
    for (size_t i = 0; i < keep; ++i) prob[idx[i]] = static_cast<float>(w[i] / total);
    return prob;
}

int32_t sample_token(const float *logits, int32_t V, const sampling_params &p, const std::vector<int32_t> &context,
                     std::mt19937_64 &rng) {
    if (sampling_is_greedy(p)) {
        std::vector<float> l = penalised(logits, V, p, context);
        return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
    }
    std::vector<float> prob = sampling_distribution(logits, V, p, context);
    double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng), acc = 0;
    int32_t last = 0;
    for (int32_t i = 0; i < V; ++i) {
        if (prob[i] <= 0) continue;
        last = i;
        acc += prob[i];
        if (u < acc) return i;
    }
    return last;
}

}  // namespace mlxmtp::detail
