#include "ref/gdn.h"

#include "ref/norm.h"
#include "util/error.h"

#include <cmath>
#include <vector>

namespace mlxmtp::detail::ref {

void gdn_gates(const float *a, const float *b, int64_t T, int64_t Hv, const float *A_log,
               const float *dt_bias, float *g, float *beta) {
    for (int64_t t = 0; t < T; ++t)
        for (int64_t h = 0; h < Hv; ++h) {
            int64_t i = t * Hv + h;
            beta[i] = sigmoid(b[i]);
            g[i] = -std::exp(A_log[h]) * softplus(a[i] + dt_bias[h]);
        }
}

static void check_heads(int64_t Hk, int64_t Hv) {
    if (Hk <= 0 || Hv % Hk != 0) fail(MLXMTP_ERR_INVALID_ARG, "ref: Hv must be a multiple of Hk");
}

void gdn_recurrent(const float *q, const float *k, const float *v, const float *g,
                   const float *beta, int64_t T, int64_t Hk, int64_t Hv, int64_t dk, int64_t dv,
                   float *state, float *o) {
    check_heads(Hk, Hv);
    const int64_t r = Hv / Hk;
    std::vector<double> kv(static_cast<size_t>(dv)), delta(static_cast<size_t>(dv));
    for (int64_t t = 0; t < T; ++t)
        for (int64_t h = 0; h < Hv; ++h) {
            const int64_t kh = h / r;
            const float *qt = q + (t * Hk + kh) * dk;
            const float *kt = k + (t * Hk + kh) * dk;
            const float *vt = v + (t * Hv + h) * dv;
            const float decay = std::exp(g[t * Hv + h]);
            const float bt = beta[t * Hv + h];
            float *S = state + h * dk * dv;
            for (int64_t i = 0; i < dk * dv; ++i) S[i] *= decay;
            for (int64_t j = 0; j < dv; ++j) kv[j] = 0.0;
            for (int64_t i = 0; i < dk; ++i)
                for (int64_t j = 0; j < dv; ++j) kv[j] += static_cast<double>(S[i * dv + j]) * kt[i];
            for (int64_t j = 0; j < dv; ++j) delta[j] = bt * (vt[j] - kv[j]);
            for (int64_t i = 0; i < dk; ++i)
                for (int64_t j = 0; j < dv; ++j)
                    S[i * dv + j] = static_cast<float>(S[i * dv + j] + kt[i] * delta[j]);
            float *ot = o + (t * Hv + h) * dv;
            for (int64_t j = 0; j < dv; ++j) {
                double acc = 0.0;
                for (int64_t i = 0; i < dk; ++i) acc += static_cast<double>(S[i * dv + j]) * qt[i];
                ot[j] = static_cast<float>(acc);
            }
        }
}

void gdn_chunked(const float *q, const float *k, const float *v, const float *g,
                 const float *beta, int64_t T, int64_t Hk, int64_t Hv, int64_t dk, int64_t dv,
                 float *state, float *o, int64_t chunk) {
    check_heads(Hk, Hv);
    if (chunk <= 0) fail(MLXMTP_ERR_INVALID_ARG, "ref: chunk must be positive");
    const int64_t r = Hv / Hk;
    for (int64_t h = 0; h < Hv; ++h) {
        const int64_t kh = h / r;
        float *S = state + h * dk * dv;
        for (int64_t t0 = 0; t0 < T; t0 += chunk) {
            const int64_t n = std::min(chunk, T - t0);
            auto Q = [&](int64_t c, int64_t i) { return static_cast<double>(q[((t0 + c) * Hk + kh) * dk + i]); };
            auto Kk = [&](int64_t c, int64_t i) { return static_cast<double>(k[((t0 + c) * Hk + kh) * dk + i]); };
            auto V = [&](int64_t c, int64_t j) { return static_cast<double>(v[((t0 + c) * Hv + h) * dv + j]); };
            std::vector<double> G(n), B(n);
            double run = 0.0;
            for (int64_t c = 0; c < n; ++c) {
                run += g[(t0 + c) * Hv + h];
                G[c] = run;
                B[c] = beta[(t0 + c) * Hv + h];
            }
            // A (strictly lower), then U and W by forward substitution.
            std::vector<double> A(n * n, 0.0), U(n * dv), W(n * dk);
            for (int64_t i = 0; i < n; ++i)
                for (int64_t j = 0; j < i; ++j) {
                    double d = 0.0;
                    for (int64_t e = 0; e < dk; ++e) d += Kk(i, e) * Kk(j, e);
                    A[i * n + j] = B[i] * d * std::exp(G[i] - G[j]);
                }
            for (int64_t i = 0; i < n; ++i) {
                for (int64_t j = 0; j < dv; ++j) {
                    double s = B[i] * V(i, j);
                    for (int64_t m = 0; m < i; ++m) s -= A[i * n + m] * U[m * dv + j];
                    U[i * dv + j] = s;
                }
                for (int64_t e = 0; e < dk; ++e) {
                    double s = B[i] * Kk(i, e) * std::exp(G[i]);
                    for (int64_t m = 0; m < i; ++m) s -= A[i * n + m] * W[m * dk + e];
                    W[i * dk + e] = s;
                }
            }
            // v' = U - W S
            std::vector<double> Vp(n * dv);
            for (int64_t i = 0; i < n; ++i)
                for (int64_t j = 0; j < dv; ++j) {
                    double s = U[i * dv + j];
                    for (int64_t e = 0; e < dk; ++e) s -= W[i * dk + e] * S[e * dv + j];
                    Vp[i * dv + j] = s;
                }
            // o = (q exp(G)) S + lower_incl(q k^T exp(G_i - G_j)) v'
            for (int64_t i = 0; i < n; ++i) {
                std::vector<double> att(i + 1);
                for (int64_t j = 0; j <= i; ++j) {
                    double d = 0.0;
                    for (int64_t e = 0; e < dk; ++e) d += Q(i, e) * Kk(j, e);
                    att[j] = d * std::exp(G[i] - G[j]);
                }
                const double eg = std::exp(G[i]);
                for (int64_t jv = 0; jv < dv; ++jv) {
                    double s = 0.0;
                    for (int64_t e = 0; e < dk; ++e) s += Q(i, e) * S[e * dv + jv];
                    s *= eg;
                    for (int64_t j = 0; j <= i; ++j) s += att[j] * Vp[j * dv + jv];
                    o[((t0 + i) * Hv + h) * dv + jv] = static_cast<float>(s);
                }
            }
            // S = exp(G_last) S + (k exp(G_last - G))^T v'
            const double gl = G[n - 1];
            for (int64_t e = 0; e < dk; ++e)
                for (int64_t jv = 0; jv < dv; ++jv) {
                    double s = std::exp(gl) * S[e * dv + jv];
                    for (int64_t c = 0; c < n; ++c) s += Kk(c, e) * std::exp(gl - G[c]) * Vp[c * dv + jv];
                    S[e * dv + jv] = static_cast<float>(s);
                }
        }
    }
}

}  // namespace mlxmtp::detail::ref
