#include "ref/gdn_layer.h"

#include "ref/conv1d.h"
#include "ref/gdn.h"
#include "ref/norm.h"
#include "util/error.h"

#include <cmath>

namespace mlxmtp::detail::ref {

void gdn_state::reset(const gdn_weights &w) {
    conv.assign(static_cast<size_t>((w.K - 1) * w.conv_channels()), 0.0f);
    ssm.assign(static_cast<size_t>(w.Hv * w.dk * w.dv), 0.0f);
}

void gdn_layer(const gdn_weights &w, const float *x, int64_t T, gdn_state &st, float *out,
               bool chunked, gdn_trace *trace) {
    const int64_t C = w.conv_channels(), Kd = w.Hk * w.dk, Vd = w.Hv * w.dv;
    if (st.conv.size() != static_cast<size_t>((w.K - 1) * C) ||
        st.ssm.size() != static_cast<size_t>(w.Hv * w.dk * w.dv))
        fail(MLXMTP_ERR_INVALID_ARG, "ref: gdn_state not sized for this layer (call reset)");
    std::vector<float> qkv(T * C), z(T * Vd), b(T * w.Hv), a(T * w.Hv);
    matmul(w.in_proj_qkv, x, T, qkv.data());
    matmul(w.in_proj_z, x, T, z.data());
    matmul(w.in_proj_b, x, T, b.data());
    matmul(w.in_proj_a, x, T, a.data());

    std::vector<float> u(T * C);
    conv1d_causal_silu(qkv.data(), T, C, w.conv_w, w.K, st.conv.data(), u.data());

    std::vector<float> q(T * Kd), k(T * Kd), v(T * Vd);
    for (int64_t t = 0; t < T; ++t) {
        const float *ut = u.data() + t * C;
        std::copy(ut, ut + Kd, q.data() + t * Kd);
        std::copy(ut + Kd, ut + 2 * Kd, k.data() + t * Kd);
        std::copy(ut + 2 * Kd, ut + C, v.data() + t * Vd);
    }
    l2norm(q.data(), T * w.Hk, w.dk, 1e-6f, q.data());
    l2norm(k.data(), T * w.Hk, w.dk, 1e-6f, k.data());
    const float qscale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(w.dk)));
    for (float &e : q) e *= qscale;

    std::vector<float> g(T * w.Hv), beta(T * w.Hv);
    gdn_gates(a.data(), b.data(), T, w.Hv, w.A_log, w.dt_bias, g.data(), beta.data());

    std::vector<float> o(T * Vd);
    if (chunked)
        gdn_chunked(q.data(), k.data(), v.data(), g.data(), beta.data(), T, w.Hk, w.Hv, w.dk,
                    w.dv, st.ssm.data(), o.data());
    else
        gdn_recurrent(q.data(), k.data(), v.data(), g.data(), beta.data(), T, w.Hk, w.Hv, w.dk,
                      w.dv, st.ssm.data(), o.data());

    std::vector<float> y(T * Vd);
    rmsnorm_gated(o.data(), z.data(), T * w.Hv, w.dv, w.norm_w, w.eps, y.data());
    matmul(w.out_proj, y.data(), T, out);

    if (trace) {
        trace->qkv = std::move(qkv);
        trace->z = std::move(z);
        trace->conv = std::move(u);
        trace->q = std::move(q);
        trace->k = std::move(k);
        trace->g = std::move(g);
        trace->beta = std::move(beta);
        trace->core = std::move(o);
        trace->normed = std::move(y);
    }
}

}  // namespace mlxmtp::detail::ref
