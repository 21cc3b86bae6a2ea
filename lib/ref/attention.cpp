#include "ref/attention.h"

#include "ref/norm.h"
#include "util/error.h"

#include <cmath>

namespace mlxmtp::detail::ref {

void kv_cache::truncate(int64_t n, int64_t row) {
    if (n < 0 || n > len) fail(MLXMTP_ERR_INVALID_ARG, "ref: kv truncate out of range");
    len = n;
    k.resize(static_cast<size_t>(n * row));
    v.resize(static_cast<size_t>(n * row));
}

void attention_core(const float *q, const float *k, const float *v, int64_t T, int64_t S,
                    int64_t Hq, int64_t Hkv, int64_t hd, float scale, float *o) {
    if (Hkv <= 0 || Hq % Hkv != 0 || S < T) fail(MLXMTP_ERR_INVALID_ARG, "ref: bad attention shape");
    const int64_t r = Hq / Hkv;
    std::vector<double> p(static_cast<size_t>(S)), acc(static_cast<size_t>(hd));
    for (int64_t t = 0; t < T; ++t) {
        const int64_t last = S - T + t;  // inclusive
        for (int64_t h = 0; h < Hq; ++h) {
            const int64_t kh = h / r;
            const float *qt = q + (t * Hq + h) * hd;
            double mx = -INFINITY;
            for (int64_t s = 0; s <= last; ++s) {
                const float *ks = k + (s * Hkv + kh) * hd;
                double d = 0.0;
                for (int64_t e = 0; e < hd; ++e) d += static_cast<double>(qt[e]) * ks[e];
                p[s] = d * scale;
                mx = std::max(mx, p[s]);
            }
            double sum = 0.0;
            for (int64_t s = 0; s <= last; ++s) sum += (p[s] = std::exp(p[s] - mx));
            for (int64_t e = 0; e < hd; ++e) acc[e] = 0.0;
            for (int64_t s = 0; s <= last; ++s) {
                const float *vs = v + (s * Hkv + kh) * hd;
                for (int64_t e = 0; e < hd; ++e) acc[e] += p[s] * vs[e];
            }
            float *ot = o + (t * Hq + h) * hd;
            for (int64_t e = 0; e < hd; ++e) ot[e] = static_cast<float>(acc[e] / sum);
        }
    }
}

void attention_layer(const attn_weights &w, const float *x, int64_t T, const int64_t *pos,
                     kv_cache &cache, float *out, const int64_t *pos_h, const int64_t *pos_w,
                     attn_trace *trace) {
    const int64_t Qd = w.Hq * w.hd, KVd = w.Hkv * w.hd;
    const int64_t qrows = w.output_gate ? 2 * Qd : Qd;
    if (w.q_proj.rows != qrows) fail(MLXMTP_ERR_INVALID_ARG, "ref: q_proj rows %lld != %lld",
                                     static_cast<long long>(w.q_proj.rows), static_cast<long long>(qrows));
    std::vector<float> qg(T * qrows), q(T * Qd), gate(T * Qd), k(T * KVd), v(T * KVd);
    matmul(w.q_proj, x, T, qg.data());
    matmul(w.k_proj, x, T, k.data());
    matmul(w.v_proj, x, T, v.data());
    for (int64_t t = 0; t < T; ++t)
        for (int64_t h = 0; h < w.Hq; ++h) {
            const float *src = qg.data() + t * qrows + h * (w.output_gate ? 2 * w.hd : w.hd);
            std::copy(src, src + w.hd, q.data() + (t * w.Hq + h) * w.hd);
            if (w.output_gate) std::copy(src + w.hd, src + 2 * w.hd, gate.data() + (t * w.Hq + h) * w.hd);
        }
    rmsnorm_1p(q.data(), T * w.Hq, w.hd, w.q_norm, w.eps, q.data());
    rmsnorm_1p(k.data(), T * w.Hkv, w.hd, w.k_norm, w.eps, k.data());
    rope_apply(w.rope, q.data(), T, w.Hq, pos, pos_h, pos_w);
    rope_apply(w.rope, k.data(), T, w.Hkv, pos, pos_h, pos_w);

    cache.k.insert(cache.k.end(), k.begin(), k.end());
    cache.v.insert(cache.v.end(), v.begin(), v.end());
    cache.len += T;

    std::vector<float> o(T * Qd);
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(w.hd)));
    attention_core(q.data(), cache.k.data(), cache.v.data(), T, cache.len, w.Hq, w.Hkv, w.hd, scale, o.data());
    if (trace) trace->core = o;
    if (w.output_gate)
        for (int64_t i = 0; i < T * Qd; ++i) o[i] *= sigmoid(gate[i]);
    matmul(w.o_proj, o.data(), T, out);
    if (trace) {
        trace->q = std::move(q);
        trace->gate = std::move(gate);
        trace->k = std::move(k);
        trace->v = std::move(v);
    }
}

}  // namespace mlxmtp::detail::ref
