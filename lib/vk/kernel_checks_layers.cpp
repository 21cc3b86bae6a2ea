// Checks for the per-layer kernels (ops/layer_ops.h) against the scalar
// references of lib/ref (validated against the Hugging Face fixtures).
#include "ops/layer_ops.h"
#include "ops/linear.h"
#include "ref/linear.h"
#include "ref/attention.h"
#include "ref/conv1d.h"
#include "ref/gdn.h"
#include "ref/norm.h"
#include "ref/rope.h"
#include "vk/kernel_check.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mlxmtp::detail {

namespace {

uint32_t rnd(std::mt19937_64 &rng, uint32_t lo, uint32_t hi) {  // [lo, hi]
    return lo + static_cast<uint32_t>(rng() % (hi - lo + 1));
}

void append(std::vector<float> &dst, const std::vector<float> &src) { dst.insert(dst.end(), src.begin(), src.end()); }

// Keeps the worst of several sub-results (same tolerance) under one name.
struct worst {
    kernel_check_result r;
    explicit worst(const char *name) { r.name = name; r.passed = true; }
    void add(const kernel_check_result &x) {
        r.error = std::max(r.error, x.error);
        r.tolerance = x.tolerance;
        r.passed = r.passed && x.passed;
    }
};

// ---- swiglu ----------------------------------------------------------------

kernel_check_result check_swiglu(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    const uint32_t n = rnd(rng, 1, 9000);
    auto g = random_floats(rng, n, -6, 6), u = random_floats(rng, n, -2, 2);
    std::vector<float> ref(n);
    for (uint32_t i = 0; i < n; ++i) ref[i] = ref::silu(g[i]) * u[i];
    check_buffers bufs(dev);
    buffer_span dg = bufs.upload(g), du = bufs.upload(u), dy = bufs.zeros(n * 4);
    command_stream cs(dev);
    ops::swiglu(cs, dg, du, dy, n);
    cs.submit();
    return make_result("swiglu_f32", bufs.read<float>(dy, n), ref, 1e-6);
}

// The MLP's gate and up products with SwiGLU as their epilogue
// (ops::linear_matvec_glu, decode and verify sizes, chunked weights) against
// silu(G x) * (U x) of the scalar product; bit for bit what the unfused path
// (two linear_matvec, swiglu) gives, which a session takes for other chunk
// sizes; and batch invariance: token j alone gives the batch's row j bit for
// bit.
kernel_check_result check_matvec_glu(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    worst w("matvec_glu");
    const ops::wformat fmts[] = {ops::wformat::bf16, ops::wformat::mxfp4, ops::wformat::mxfp8, ops::wformat::f32};
    for (int k = 0; k < 4; ++k) {
        const uint32_t M = rnd(rng, 5, 300), K = 32 * rnd(rng, 2, 40), chunk = 4 * rnd(rng, 4, 40);
        const uint32_t T = k == 0 ? 1 : k == 1 ? ops::kMatvecMaxCols : rnd(rng, 2, ops::kMatvecMaxCols - 1);
        check_buffers bufs(dev);
        std::vector<float> gf, uf;
        ops::device_weight G = make_weight(bufs, rng, fmts[k], M, K, chunk, &gf);
        ops::device_weight U = make_weight(bufs, rng, fmts[k], M, K, chunk, &uf);
        auto x = random_floats(rng, size_t(T) * K);
        std::vector<float> g(size_t(T) * M), u(g.size()), ref(g.size());
        ref::matmul_f32(gf.data(), M, K, x.data(), T, g.data());
        ref::matmul_f32(uf.data(), M, K, x.data(), T, u.data());
        for (size_t i = 0; i < ref.size(); ++i) ref[i] = ref::silu(g[i]) * u[i];
        const uint32_t j = rnd(rng, 0, T - 1);
        buffer_span dx = bufs.upload(x), dxj = bufs.upload(x.data() + size_t(j) * K, size_t(K) * 4);
        buffer_span dy = bufs.upload(std::vector<float>(ref.size(), NAN)), dyj = bufs.zeros(size_t(M) * 4);
        buffer_span dg = bufs.zeros(ref.size() * 4), du = bufs.zeros(ref.size() * 4), dp = bufs.zeros(ref.size() * 4);
        command_stream cs(dev);
        ops::linear_matvec_glu(cs, G, U, dx, dy, T);
        ops::linear_matvec_glu(cs, G, U, dxj, dyj, 1);
        ops::linear_matvec(cs, G, dx, dg, T);
        ops::linear_matvec(cs, U, dx, du, T);
        cs.barrier();
        ops::swiglu(cs, dg, du, dp, T * M);
        cs.submit();
        std::vector<float> got = bufs.read<float>(dy, ref.size()), single = bufs.read<float>(dyj, M);
        w.add(make_result("matvec_glu", got, ref, 2e-5));
        if (!same_bits(single.data(), &got[size_t(j) * M], M) ||
            !same_bits(got.data(), bufs.read<float>(dp, ref.size()).data(), ref.size()))
            w.r.passed = false;
    }
    return w.r;
}

// ---- Gated DeltaNet ----------------------------------------------------------

struct gdn_shape {
    uint32_t Hk, Hv, dk, dv;
};
const gdn_shape kGdnShapes[] = {
    {2, 4, 32, 32},    // tiny fixture
    {4, 8, 32, 32},    // dev fixture
    {1, 3, 64, 48},    // ratio 3, dv not a multiple of the block
    {2, 2, 128, 128},  // ratio 1, production head dims
    {1, 2, 16, 40},
    {2, 6, 128, 128},  // 27B ratio 3 with production dims
};

gdn_shape pick_gdn(std::mt19937_64 &rng, uint64_t seed, int k) {
    // k = 0: the fixture dims, otherwise a seed-dependent shape.
    if (k == 0) return kGdnShapes[0];
    (void)seed;
    return kGdnShapes[1 + rng() % (std::size(kGdnShapes) - 1)];
}

kernel_check_result check_gdn_conv(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    worst w("gdn_conv_f32");
    for (int k = 0; k < 3; ++k) {
        gdn_shape s = pick_gdn(rng, seed, k);
        ops::gdn_dims d{};
        d.T = k == 1 ? 1 : rnd(rng, 2, 40);
        d.Hk = s.Hk, d.Hv = s.Hv, d.dk = s.dk, d.dv = s.dv, d.K = 4, d.eps = 1e-6f;
        const uint32_t C = d.C(), K1 = d.K - 1;
        auto x = random_floats(rng, size_t(d.T) * C, -2, 2), wt = random_floats(rng, size_t(C) * d.K, -0.7f, 0.7f);
        auto st = random_floats(rng, size_t(K1) * C, -2, 2);  // continuing from earlier tokens
        // Reference: token by token (gives the snapshots too; the one-shot call is compared below).
        std::vector<float> rs = st, ru(size_t(d.T) * C), rsnap;
        for (uint32_t t = 0; t < d.T; ++t) {
            ref::conv1d_causal_silu(&x[size_t(t) * C], 1, C, wt.data(), d.K, rs.data(), &ru[size_t(t) * C]);
            append(rsnap, rs);
        }
        std::vector<float> rs1 = st, ru1(ru.size());
        ref::conv1d_causal_silu(x.data(), d.T, C, wt.data(), d.K, rs1.data(), ru1.data());
        check_buffers bufs(dev);
        buffer_span dx = bufs.upload(x), dw = bufs.upload(wt), ds = bufs.upload(st), du = bufs.zeros(ru.size() * 4);
        buffer_span dsnap = bufs.zeros(rsnap.size() * 4);
        buffer_span ds2 = bufs.upload(st), du2 = bufs.zeros(ru.size() * 4), dout3 = bufs.zeros(rs.size() * 4);
        buffer_span du3 = bufs.zeros(ru.size() * 4);
        command_stream cs(dev);
        ops::gdn_conv(cs, d, dx, dw, ds, buffer_span{}, du, dsnap);  // snapshots: the input stays
        ops::gdn_conv(cs, d, dx, dw, ds2, ds2, du2, buffer_span{});  // without: in place
        ops::gdn_conv(cs, d, dx, dw, ds, dout3, du3, buffer_span{});  // without: to another buffer
        cs.submit();
        std::vector<float> got = bufs.read<float>(du, ru.size()), ref = ru1;
        append(got, bufs.read<float>(ds, rs.size()));
        append(ref, st);
        append(got, bufs.read<float>(dsnap, rsnap.size()));
        append(ref, rsnap);
        append(got, bufs.read<float>(du2, ru.size()));
        append(ref, ru1);
        append(got, bufs.read<float>(ds2, rs.size()));
        append(ref, rs1);
        append(got, bufs.read<float>(du3, ru.size()));
        append(ref, ru1);
        append(got, bufs.read<float>(dout3, rs.size()));
        append(ref, rs1);
        w.add(make_result("gdn_conv_f32", got, ref, 1e-5));
    }
    return w.r;
}

// The conv fused into the qkv projection (ops::linear_matvec_conv, decode
// and verify sizes): u, the state and the snapshot ring (small rings too, so
// that early tokens skip their snapshot and slots wrap) against the scalar
// product and conv; and batch invariance: token j computed alone from the
// window the batch had before it (the plain matvec's sums, bit-identical to
// the fused kernel's by linear_batch_invariance) must give the batch's u
// and window bit for bit.
kernel_check_result check_gdn_qkv_conv(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    worst w("gdn_qkv_conv");
    const ops::wformat fmts[] = {ops::wformat::bf16, ops::wformat::mxfp4, ops::wformat::mxfp8, ops::wformat::f32};
    for (int k = 0; k < 4; ++k) {
        gdn_shape s = pick_gdn(rng, seed, k);
        ops::gdn_dims d{};
        d.Hk = s.Hk, d.Hv = s.Hv, d.dk = s.dk, d.dv = s.dv, d.K = 4;
        const uint32_t T = k == 0 ? 1 : k == 1 ? ops::kMatvecMaxCols : rnd(rng, 2, ops::kMatvecMaxCols - 1);
        const uint32_t C = d.C(), K1 = d.K - 1, H = 32 * rnd(rng, 2, 12);
        const uint32_t ring = rnd(rng, 2, 20), p0 = rnd(rng, 0, 60);
        const uint32_t snap_from = T > ring ? T - ring : 0, slot0 = p0 % ring;
        check_buffers bufs(dev);
        std::vector<float> wf;
        ops::device_weight wt = make_weight(bufs, rng, fmts[k], C, H, 16 * rnd(rng, 1, 8), &wf);
        auto x = random_floats(rng, size_t(T) * H), cw = random_floats(rng, size_t(C) * d.K, -0.7f, 0.7f);
        auto st = random_floats(rng, size_t(K1) * C, -2, 2);
        auto snap0 = random_floats(rng, size_t(ring) * K1 * C, -9, 9);  // slots not written keep these
        // Reference: the product, then the conv token by token.
        std::vector<float> y(size_t(T) * C), ru(y.size()), rs = st, rsnap = snap0;
        ref::matmul_f32(wf.data(), C, H, x.data(), T, y.data());
        for (uint32_t t = 0; t < T; ++t) {
            ref::conv1d_causal_silu(&y[size_t(t) * C], 1, C, cw.data(), d.K, rs.data(), &ru[size_t(t) * C]);
            if (t >= snap_from) std::copy(rs.begin(), rs.end(), rsnap.begin() + size_t((slot0 + t) % ring) * K1 * C);
        }
        buffer_span dx = bufs.upload(x), dcw = bufs.upload(cw), dst = bufs.upload(st), dsnap = bufs.upload(snap0);
        buffer_span du = bufs.upload(std::vector<float>(y.size(), NAN)), dy = bufs.zeros(y.size() * 4);
        ops::matvec_conv mc;
        mc.w = dcw, mc.state = dst, mc.snapshots = dsnap, mc.K = d.K;
        mc.snap_from = snap_from, mc.slot0 = slot0, mc.ring = ring;
        command_stream cs(dev);
        ops::linear_matvec_conv(cs, wt, dx, du, T, mc);
        ops::linear_matvec(cs, wt, dx, dy, T);
        cs.submit();
        auto got_u = bufs.read<float>(du, y.size()), got_s = bufs.read<float>(dst, rs.size());
        auto got_snap = bufs.read<float>(dsnap, rsnap.size()), sums = bufs.read<float>(dy, y.size());
        std::vector<float> got = got_u, ref = ru;
        append(got, got_s);  // read only
        append(ref, st);
        append(got, got_snap);  // the last token's slot holds the new window (rs)
        append(ref, rsnap);
        w.add(make_result("gdn_qkv_conv", got, ref, 2e-5));

        // Token j alone, from the batch's window before it.
        const uint32_t j = rnd(rng, 0, T - 1);
        std::vector<float> win(size_t(K1) * C);
        for (uint32_t r = 0; r < K1; ++r) {  // row r of the window: token j - K1 + r
            const int64_t t = int64_t(j) - K1 + r;
            for (uint32_t c = 0; c < C; ++c)
                win[size_t(r) * C + c] = t < 0 ? st[size_t(K1 + t) * C + c] : sums[size_t(t) * C + c];
        }
        buffer_span dxj = bufs.upload(x.data() + size_t(j) * H, size_t(H) * 4), dwin = bufs.upload(win);
        buffer_span duj = bufs.zeros(size_t(C) * 4), dsnapj = bufs.zeros(size_t(K1) * C * 4);
        ops::matvec_conv mj = mc;
        mj.state = dwin, mj.snapshots = dsnapj, mj.snap_from = 0, mj.slot0 = 0, mj.ring = 1;
        command_stream cs2(dev);
        ops::linear_matvec_conv(cs2, wt, dxj, duj, 1, mj);
        cs2.submit();
        std::vector<float> single = bufs.read<float>(duj, C), batch(got_u.begin() + size_t(j) * C, got_u.begin() + size_t(j + 1) * C);
        kernel_check_result exact = make_result("gdn_qkv_conv", batch, single, 0);
        exact.passed = same_bits(batch.data(), single.data(), batch.size());
        // The window after token j: the single call's snapshot and the batch's slot.
        if (j >= snap_from) {
            auto sw = bufs.read<float>(dsnapj, win.size());
            const size_t off = size_t((slot0 + j) % ring) * K1 * C;
            exact.passed = exact.passed && same_bits(sw.data(), &got_snap[off], sw.size());
        }
        if (!exact.passed) {  // (keeps the reference tolerance in the report)
            w.r.passed = false;
            w.r.error = std::max(w.r.error, exact.error);
        }
    }
    return w.r;
}

// States [n, dk, dv] (the reference's) as gdn_recurrence_f32 keeps them:
// [n, dv, dk].
std::vector<float> state_to_device_layout(const std::vector<float> &v, uint32_t dk, uint32_t dv) {
    std::vector<float> out(v.size());
    const size_t per = size_t(dk) * dv;
    for (size_t h = 0; h < v.size() / per; ++h)
        for (uint32_t i = 0; i < dk; ++i)
            for (uint32_t j = 0; j < dv; ++j) out[h * per + size_t(j) * dk + i] = v[h * per + size_t(i) * dv + j];
    return out;
}

// Random recurrence inputs for shape s over T tokens, continuing from a
// random state, with the scalar reference's outputs (states in the
// kernel's layout).
struct gdn_case {
    ops::gdn_dims d{};
    std::vector<float> u, a, b, A_log, dt_bias, st;  // inputs (st: the state before the first token)
    std::vector<float> ro, rs, rsnap;                 // reference o, final state, state after each token
};

gdn_case make_gdn_case(std::mt19937_64 &rng, gdn_shape s, uint32_t T) {
    gdn_case c;
    ops::gdn_dims &d = c.d;
    d.T = T, d.Hk = s.Hk, d.Hv = s.Hv, d.dk = s.dk, d.dv = s.dv, d.K = 4, d.eps = 1e-6f;
    const uint32_t C = d.C(), Hk = d.Hk, Hv = d.Hv, dk = d.dk, dv = d.dv;
    c.u = random_floats(rng, size_t(T) * C, -1, 1);
    c.a = random_floats(rng, size_t(T) * Hv, -3, 3), c.b = random_floats(rng, size_t(T) * Hv, -3, 3);
    c.A_log = random_floats(rng, Hv, -2, 1), c.dt_bias = random_floats(rng, Hv, -1, 1);
    c.st = random_floats(rng, size_t(Hv) * dk * dv, -0.5f, 0.5f);
    std::vector<float> q(size_t(T) * Hk * dk), kk(q.size()), v(size_t(T) * Hv * dv);
    for (uint32_t t = 0; t < T; ++t) {
        std::copy_n(&c.u[size_t(t) * C], Hk * dk, &q[size_t(t) * Hk * dk]);
        std::copy_n(&c.u[size_t(t) * C + Hk * dk], Hk * dk, &kk[size_t(t) * Hk * dk]);
        std::copy_n(&c.u[size_t(t) * C + 2 * Hk * dk], Hv * dv, &v[size_t(t) * Hv * dv]);
    }
    ref::l2norm(q.data(), int64_t(T) * Hk, dk, 1e-6f, q.data());
    ref::l2norm(kk.data(), int64_t(T) * Hk, dk, 1e-6f, kk.data());
    for (float &x : q) x *= float(1.0 / std::sqrt(double(dk)));
    std::vector<float> g(size_t(T) * Hv), beta(g.size());
    ref::gdn_gates(c.a.data(), c.b.data(), T, Hv, c.A_log.data(), c.dt_bias.data(), g.data(), beta.data());
    c.rs = c.st;
    c.ro.resize(size_t(T) * Hv * dv);
    for (uint32_t t = 0; t < T; ++t) {
        ref::gdn_recurrent(&q[size_t(t) * Hk * dk], &kk[size_t(t) * Hk * dk], &v[size_t(t) * Hv * dv],
                           &g[size_t(t) * Hv], &beta[size_t(t) * Hv], 1, Hk, Hv, dk, dv, c.rs.data(),
                           &c.ro[size_t(t) * Hv * dv]);
        append(c.rsnap, c.rs);
    }
    // The kernel keeps each head's state column-major ([dv, dk]): the
    // reference's [dk, dv] states in that layout.
    for (std::vector<float> *v : {&c.st, &c.rs, &c.rsnap}) *v = state_to_device_layout(*v, dk, dv);
    return c;
}

kernel_check_result check_gdn_recurrence(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    worst w("gdn_recurrence_f32");
    for (int k = 0; k < 4; ++k) {  // k = 3: a prefill of hundreds of tokens at the fixture dims
        gdn_shape s = pick_gdn(rng, seed, k == 3 ? 0 : k);
        const uint32_t T = k == 1 ? 1 : k == 3 ? rnd(rng, 100, 300) : rnd(rng, 2, 24);
        const gdn_case c = make_gdn_case(rng, s, T);
        const ops::gdn_dims &d = c.d;
        const size_t Ssz = c.st.size();
        check_buffers bufs(dev);
        buffer_span du = bufs.upload(c.u), da = bufs.upload(c.a), db = bufs.upload(c.b), dA = bufs.upload(c.A_log),
                    ddt = bufs.upload(c.dt_bias), ds = bufs.upload(c.st), dout = bufs.zeros(c.ro.size() * 4),
                    dsnap = bufs.zeros(c.rsnap.size() * 4), ds2 = bufs.upload(c.st), dout2 = bufs.zeros(c.ro.size() * 4),
                    ds3 = bufs.zeros(Ssz * 4), dout3 = bufs.zeros(c.ro.size() * 4);
        command_stream cs(dev);
        ops::gdn_recurrence(cs, d, du, da, db, dA, ddt, ds, buffer_span{}, dout, dsnap);  // the input stays
        ops::gdn_recurrence(cs, d, du, da, db, dA, ddt, ds2, ds2, dout2, buffer_span{});  // in place
        ops::gdn_recurrence(cs, d, du, da, db, dA, ddt, ds, ds3, dout3, buffer_span{});   // to another buffer
        cs.submit();
        std::vector<float> got = bufs.read<float>(dout, c.ro.size());
        append(got, bufs.read<float>(dout2, c.ro.size()));
        append(got, bufs.read<float>(dout3, c.ro.size()));
        std::vector<float> ref = c.ro;
        append(ref, c.ro);
        append(ref, c.ro);
        w.add(make_result("gdn_recurrence_f32", got, ref, 2e-5));
        got = bufs.read<float>(ds, Ssz);
        append(got, bufs.read<float>(ds2, Ssz));
        append(got, bufs.read<float>(ds3, Ssz));
        append(got, bufs.read<float>(dsnap, c.rsnap.size()));
        ref = c.st;
        append(ref, c.rs);
        append(ref, c.rs);
        append(ref, c.rsnap);
        w.add(make_result("gdn_recurrence_f32", got, ref, 2e-5));
    }
    return w.r;
}

// The gated norm as the recurrence's epilogue (ops::gdn_norm_epilogue,
// decode and verify sizes): y against the scalar recurrence + gated norm, o
// and the snapshots still written, the arrival counters back at zero after
// two dispatches on them; the first one's y pair words (XP_OUT); and batch
// invariance: token j alone, from the batch's snapshot before it, gives the
// batch's o and y rows bit for bit.
kernel_check_result check_gdn_recurrence_norm(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    worst w("gdn_recurrence_norm");
    for (int k = 0; k < 3; ++k) {
        const uint32_t T = k == 0 ? 1 : k == 1 ? ops::kMatvecMaxCols : rnd(rng, 2, ops::kMatvecMaxCols - 1);
        const gdn_case c = make_gdn_case(rng, pick_gdn(rng, seed, k), T);
        const ops::gdn_dims &d = c.d;
        const uint32_t Hv = d.Hv, dv = d.dv;
        const size_t Ssz = c.st.size(), rows = size_t(Hv) * dv;
        auto z = random_floats(rng, c.ro.size(), -4, 4), nw = random_floats(rng, dv, 0.5f, 1.5f);
        std::vector<float> ry(c.ro.size());
        ref::rmsnorm_gated(c.ro.data(), z.data(), int64_t(T) * Hv, dv, nw.data(), d.eps, ry.data());
        check_buffers bufs(dev);
        buffer_span du = bufs.upload(c.u), da = bufs.upload(c.a), db = bufs.upload(c.b), dA = bufs.upload(c.A_log),
                    ddt = bufs.upload(c.dt_bias), ds = bufs.upload(c.st), dz = bufs.upload(z), dnw = bufs.upload(nw);
        buffer_span dout = bufs.zeros(c.ro.size() * 4), dsnap = bufs.zeros(c.rsnap.size() * 4),
                    dy = bufs.upload(std::vector<float>(ry.size(), NAN)), dy2 = bufs.zeros(ry.size() * 4),
                    ds2 = bufs.zeros(Ssz * 4), dout2 = bufs.zeros(c.ro.size() * 4), darr = bufs.zeros(4ull * Hv);
        buffer_span dyp = bufs.zeros(ry.size() * 4);  // the first call's y pairs (XP_OUT)
        buffer_span dy16 = bufs.zeros(halves_bytes(T, rows));  // the second's fp16 token-pair halves (XP_OUT=2)
        ops::gdn_norm_epilogue ne{dz, dnw, dy, darr, dyp}, ne2{dz, dnw, dy2, darr, dy16};
        ne2.y_pairs_f16 = true;
        uint64_t arr_stage = 0;  // one set of counters: the guard the session uses
        ne.last_stage = ne2.last_stage = &arr_stage;
        command_stream cs(dev);
        ops::gdn_recurrence(cs, d, du, da, db, dA, ddt, ds, buffer_span{}, dout, dsnap, &ne);
        cs.barrier();
        ops::gdn_recurrence(cs, d, du, da, db, dA, ddt, ds, ds2, dout2, buffer_span{}, &ne2);  // no snapshots
        cs.submit();
        std::vector<float> got = bufs.read<float>(dy, ry.size()), ref = ry;
        append(got, bufs.read<float>(dy2, ry.size()));
        append(ref, ry);
        append(got, bufs.read<float>(dout, c.ro.size()));
        append(ref, c.ro);
        append(got, bufs.read<float>(dsnap, c.rsnap.size()));
        append(ref, c.rsnap);
        append(got, bufs.read<float>(ds2, Ssz));
        append(ref, c.rs);
        w.add(make_result("gdn_recurrence_norm", got, ref, 2e-5));
        for (uint32_t a : bufs.read<uint32_t>(darr, Hv))
            if (a != 0) w.r.passed = false;
        if (!pairs_match(bufs.read<float>(dy, ry.size()), bufs.read<uint32_t>(dyp, ry.size())) ||
            !halves_match(bufs.read<float>(dy2, ry.size()), bufs.read<uint16_t>(dy16, halves_bytes(T, rows) / 2), T,
                          static_cast<uint32_t>(rows)))
            w.r.passed = false;

        // Token j alone from the state before it.
        const uint32_t j = rnd(rng, 0, T - 1), C = d.C();
        ops::gdn_dims d1 = d;
        d1.T = 1;
        std::vector<float> before = j == 0 ? c.st : bufs.read<float>(dsnap.sub(uint64_t(j - 1) * Ssz * 4, Ssz * 4), Ssz);
        buffer_span su = bufs.upload(c.u.data() + size_t(j) * C, size_t(C) * 4),
                    sa = bufs.upload(c.a.data() + size_t(j) * Hv, size_t(Hv) * 4),
                    sb = bufs.upload(c.b.data() + size_t(j) * Hv, size_t(Hv) * 4), sst = bufs.upload(before),
                    sz = bufs.upload(z.data() + j * rows, rows * 4), so = bufs.zeros(rows * 4), sy = bufs.zeros(rows * 4);
        // Its halves at token j of a batch-sized buffer (y_pairs_t0: a
        // segment of a verify), the batch's bits.
        buffer_span sy16 = bufs.zeros(halves_bytes(T, rows));
        ops::gdn_norm_epilogue n1{sz, dnw, sy, darr, sy16};
        n1.y_pairs_f16 = true, n1.y_pairs_t0 = j, n1.last_stage = &arr_stage;
        command_stream cs2(dev);
        ops::gdn_recurrence(cs2, d1, su, sa, sb, dA, ddt, sst, sst, so, buffer_span{}, &n1);
        cs2.submit();
        const std::vector<float> bo = bufs.read<float>(dout, c.ro.size()), by = bufs.read<float>(dy, ry.size());
        if (!same_bits(bufs.read<float>(so, rows).data(), &bo[j * rows], rows) ||
            !same_bits(bufs.read<float>(sy, rows).data(), &by[j * rows], rows))
            w.r.passed = false;
        const std::vector<uint16_t> h1 = bufs.read<uint16_t>(sy16, halves_bytes(T, rows) / 2),
                                    hb = bufs.read<uint16_t>(dy16, halves_bytes(T, rows) / 2);
        for (size_t e = 0; e < rows; ++e) {
            const uint64_t at = x16_half(j, static_cast<uint32_t>(e), static_cast<uint32_t>(rows));
            if (h1[at] != hb[at]) w.r.passed = false;
        }
    }
    return w.r;
}

kernel_check_result check_gated_rms_norm(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    ops::gdn_dims d{};
    gdn_shape s = kGdnShapes[seed % std::size(kGdnShapes)];
    d.T = rnd(rng, 1, 20), d.Hk = s.Hk, d.Hv = s.Hv, d.dk = s.dk, d.dv = s.dv, d.K = 4, d.eps = 1e-6f;
    const size_t n = size_t(d.T) * d.Hv * d.dv;
    auto o = random_floats(rng, n, -2, 2), z = random_floats(rng, n, -4, 4), wt = random_floats(rng, d.dv, 0.5f, 1.5f);
    std::vector<float> ref(n);
    ref::rmsnorm_gated(o.data(), z.data(), int64_t(d.T) * d.Hv, d.dv, wt.data(), d.eps, ref.data());
    check_buffers bufs(dev);
    buffer_span dout = bufs.upload(o), dz = bufs.upload(z), dw = bufs.upload(wt), dy = bufs.zeros(n * 4);
    command_stream cs(dev);
    ops::gated_rms_norm(cs, d, dout, dz, dw, dy);
    cs.submit();
    return make_result("gated_rms_norm_f32", bufs.read<float>(dy, n), ref, 1e-5);
}

// ---- attention -----------------------------------------------------------------

struct attn_shape {
    uint32_t Hq, Hkv, hd;
    uint32_t sec[3];
};
const attn_shape kAttnShapes[] = {
    {4, 2, 32, {1, 1, 2}},      // tiny fixture
    {4, 2, 64, {2, 3, 3}},      // dev fixture
    {6, 2, 256, {11, 11, 10}},  // production head dims, ratio 3
    {3, 3, 64, {3, 3, 2}},      // ratio 1
    {6, 2, 48, {2, 2, 2}},      // ratio 3, hd not a power of two
};

ops::attn_dims make_attn(std::mt19937_64 &rng, const attn_shape &s, uint32_t T, uint32_t cache_pos) {
    ops::attn_dims d{};
    d.T = T, d.Hq = s.Hq, d.Hkv = s.Hkv, d.hd = s.hd, d.rot = s.hd / 4;
    d.sec_t = s.sec[0], d.sec_h = s.sec[1], d.sec_w = s.sec[2];
    d.theta = 1e7f, d.eps = 1e-6f, d.cache_pos = cache_pos;
    d.max_ctx = cache_pos + T + rnd(rng, 0, 7);
    return d;
}

kernel_check_result check_attn_prepare(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    worst w("attn_prepare_f32");
    for (int k = 0; k < 3; ++k) {
        const attn_shape &s = kAttnShapes[k == 0 ? 0 : rng() % std::size(kAttnShapes)];
        ops::attn_dims d = make_attn(rng, s, k == 1 ? 1 : rnd(rng, 2, 12), k == 0 ? 0 : rnd(rng, 1, 50));
        const uint32_t T = d.T, Hq = d.Hq, Hkv = d.Hkv, hd = d.hd;
        auto qg = random_floats(rng, size_t(T) * Hq * 2 * hd, -2, 2);
        auto kin = random_floats(rng, size_t(T) * Hkv * hd, -2, 2), vin = random_floats(rng, kin.size(), -2, 2);
        auto qn = random_floats(rng, hd, -0.5f, 0.5f), kn = random_floats(rng, hd, -0.5f, 0.5f);
        std::vector<int32_t> pos(3 * size_t(T));
        std::vector<int64_t> pos64(pos.size());
        for (size_t i = 0; i < pos.size(); ++i) pos64[i] = pos[i] = int32_t(rnd(rng, 0, k == 2 ? 200000 : 1500));  // distinct rows, long context
        const size_t csz = size_t(Hkv) * d.max_ctx * hd;
        auto kc = random_floats(rng, csz, -9, 9), vc = random_floats(rng, csz, -9, 9);  // others stay untouched
        // Reference.
        std::vector<float> q(size_t(T) * Hq * hd), kr(kin.size());
        for (uint32_t t = 0; t < T; ++t)
            for (uint32_t h = 0; h < Hq; ++h)
                std::copy_n(&qg[(size_t(t) * Hq + h) * 2 * hd], hd, &q[(size_t(t) * Hq + h) * hd]);
        ref::rmsnorm_1p(q.data(), int64_t(T) * Hq, hd, qn.data(), d.eps, q.data());
        ref::rmsnorm_1p(kin.data(), int64_t(T) * Hkv, hd, kn.data(), d.eps, kr.data());
        ref::rope_params rp;
        rp.head_dim = hd, rp.rotary_dim = d.rot, rp.theta = d.theta;
        rp.mrope_section = {int(d.sec_t), int(d.sec_h), int(d.sec_w)};
        rp.interleaved = true;
        ref::rope_apply(rp, q.data(), T, Hq, &pos64[0], &pos64[T], &pos64[2 * T]);
        ref::rope_apply(rp, kr.data(), T, Hkv, &pos64[0], &pos64[T], &pos64[2 * T]);
        std::vector<float> rkc = kc, rvc = vc;
        for (uint32_t t = 0; t < T; ++t)
            for (uint32_t h = 0; h < Hkv; ++h) {
                size_t dst = (size_t(h) * d.max_ctx + d.cache_pos + t) * hd, src = (size_t(t) * Hkv + h) * hd;
                std::copy_n(&kr[src], hd, &rkc[dst]);
                std::copy_n(&vin[src], hd, &rvc[dst]);
            }
        check_buffers bufs(dev);
        buffer_span dqg = bufs.upload(qg), dk = bufs.upload(kin), dv = bufs.upload(vin), dqn = bufs.upload(qn),
                    dkn = bufs.upload(kn), dpos = bufs.upload(pos), dq = bufs.zeros(q.size() * 4),
                    dkc = bufs.upload(kc), dvc = bufs.upload(vc);
        command_stream cs(dev);
        ops::attn_prepare(cs, d, dqg, dk, dv, dqn, dkn, dpos, dq, dkc, dvc);
        cs.submit();
        std::vector<float> got = bufs.read<float>(dq, q.size()), ref = q;
        append(got, bufs.read<float>(dkc, csz));
        append(ref, rkc);
        append(got, bufs.read<float>(dvc, csz));
        append(ref, rvc);
        w.add(make_result("attn_prepare_f32", got, ref, 1e-5));
    }
    return w.r;
}

// Random attention-core inputs (queries, gates, caches) and the scalar
// reference's gated output.
struct attn_case {
    ops::attn_dims d{};
    std::vector<float> q, qg, kc, vc, ref;
};

attn_case make_attn_case(std::mt19937_64 &rng, const attn_shape &s, uint32_t T, uint32_t cache_pos) {
    attn_case c;
    c.d = make_attn(rng, s, T, cache_pos);
    const ops::attn_dims &d = c.d;
    const uint32_t Hq = d.Hq, Hkv = d.Hkv, hd = d.hd, S = cache_pos + T;
    c.q = random_floats(rng, size_t(T) * Hq * hd, -1.5f, 1.5f);
    c.qg = random_floats(rng, size_t(T) * Hq * 2 * hd, -3, 3);
    const size_t csz = size_t(Hkv) * d.max_ctx * hd;
    c.kc = random_floats(rng, csz, -1.5f, 1.5f), c.vc = random_floats(rng, csz, -2, 2);
    // Reference: caches re-laid out as [S, Hkv, hd].
    std::vector<float> kr(size_t(S) * Hkv * hd), vr(kr.size());
    c.ref.resize(size_t(T) * Hq * hd);
    for (uint32_t p = 0; p < S; ++p)
        for (uint32_t h = 0; h < Hkv; ++h) {
            std::copy_n(&c.kc[(size_t(h) * d.max_ctx + p) * hd], hd, &kr[(size_t(p) * Hkv + h) * hd]);
            std::copy_n(&c.vc[(size_t(h) * d.max_ctx + p) * hd], hd, &vr[(size_t(p) * Hkv + h) * hd]);
        }
    ref::attention_core(c.q.data(), kr.data(), vr.data(), T, S, Hq, Hkv, hd, float(1.0 / std::sqrt(double(hd))),
                        c.ref.data());
    for (uint32_t t = 0; t < T; ++t)
        for (uint32_t h = 0; h < Hq; ++h)
            for (uint32_t e = 0; e < hd; ++e)
                c.ref[(size_t(t) * Hq + h) * hd + e] *= ref::sigmoid(c.qg[(size_t(t) * Hq + h) * 2 * hd + hd + e]);
    return c;
}

kernel_check_result check_attn_core(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    worst w("attn_core_f32");
    for (int k = 0; k < 4; ++k) {  // k = 3: a prefill of hundreds of queries at the fixture dims
        const attn_shape &s = kAttnShapes[k == 0 || k == 3 ? 0 : rng() % std::size(kAttnShapes)];
        const uint32_t T = k == 1 ? 1 : k == 3 ? rnd(rng, 100, 260) : rnd(rng, 2, 20);
        const uint32_t cache_pos = k == 0 ? 0 : rnd(rng, 1, k == 1 ? 700 : 300);
        const attn_case c = make_attn_case(rng, s, T, cache_pos);
        check_buffers bufs(dev);
        buffer_span dq = bufs.upload(c.q), dqg = bufs.upload(c.qg), dkc = bufs.upload(c.kc), dvc = bufs.upload(c.vc),
                    dout = bufs.zeros(c.ref.size() * 4);
        command_stream cs(dev);
        ops::attn_core(cs, c.d, dq, dqg, dkc, dvc, dout);
        cs.submit();
        w.add(make_result("attn_core_f32", bufs.read<float>(dout, c.ref.size()), c.ref, 2e-5));
    }
    return w.r;
}

// Split-K over workgroups (ops::attn_split, decode and verify sizes) with
// small random split sizes so that queries run as 1..max_splits splits:
// against the reference; queries that fit one split bit for bit as the
// unsplit kernel; the arrival counters back at zero; batch invariance:
// query j alone gives the batch's row j bit for bit; and the output's pair
// words (XP_OUT) of both forms.
kernel_check_result check_attn_core_split(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    worst w("attn_core_split");
    for (int k = 0; k < 3; ++k) {
        const attn_shape &s = kAttnShapes[k == 0 ? 0 : rng() % std::size(kAttnShapes)];
        const uint32_t T = k == 0 ? 1 : k == 1 ? ops::kMatvecMaxCols : rnd(rng, 2, ops::kMatvecMaxCols - 1);
        const attn_case c = make_attn_case(rng, s, T, rnd(rng, 0, 300));
        const ops::attn_dims &d = c.d;
        const uint32_t Hq = d.Hq, hd = d.hd;
        const size_t row = size_t(Hq) * hd;
        check_buffers bufs(dev);
        ops::attn_split sp;
        sp.split_keys = rnd(rng, 1, 100), sp.max_splits = rnd(rng, 1, 40);
        sp.partials = bufs.zeros(4ull * T * Hq * sp.max_splits * (hd + 2));
        sp.arrivals = bufs.zeros(4ull * T * Hq);
        buffer_span dq = bufs.upload(c.q), dqg = bufs.upload(c.qg), dkc = bufs.upload(c.kc), dvc = bufs.upload(c.vc),
                    dout = bufs.upload(std::vector<float>(c.ref.size(), NAN)), dplain = bufs.zeros(c.ref.size() * 4);
        const uint32_t j = rnd(rng, 0, T - 1);
        ops::attn_dims dj = d;
        dj.T = 1, dj.cache_pos = d.cache_pos + j;
        buffer_span dqj = bufs.upload(c.q.data() + j * row, row * 4),
                    dqgj = bufs.upload(c.qg.data() + j * 2 * row, 2 * row * 4), doutj = bufs.zeros(row * 4);
        command_stream cs(dev);
        // Both forms also write their output's pairs (XP_OUT).
        buffer_span dpair = bufs.zeros(c.ref.size() * 4), dplain_pair = bufs.zeros(c.ref.size() * 4);
        ops::attn_core(cs, d, dq, dqg, dkc, dvc, dout, &sp, dpair);
        ops::attn_core(cs, d, dq, dqg, dkc, dvc, dplain, nullptr, dplain_pair);
        cs.barrier();
        // The split form's fp16 token-pair halves (XP_OUT=2).
        buffer_span dout16 = bufs.zeros(c.ref.size() * 4), dhalves = bufs.zeros(halves_bytes(T, uint32_t(row)));
        ops::attn_core(cs, d, dq, dqg, dkc, dvc, dout16, &sp, dhalves, true);
        cs.barrier();
        ops::attn_core(cs, dj, dqj, dqgj, dkc, dvc, doutj, &sp);
        cs.submit();
        const std::vector<float> got = bufs.read<float>(dout, c.ref.size()), plain = bufs.read<float>(dplain, c.ref.size());
        w.add(make_result("attn_core_split", got, c.ref, 2e-5));
        for (uint32_t t = 0; t < T; ++t)
            if (d.cache_pos + t + 1 <= sp.split_keys && !same_bits(&got[t * row], &plain[t * row], row)) w.r.passed = false;
        for (uint32_t a : bufs.read<uint32_t>(sp.arrivals, size_t(T) * Hq))
            if (a != 0) w.r.passed = false;
        if (!same_bits(bufs.read<float>(doutj, row).data(), &got[j * row], row)) w.r.passed = false;
        if (!pairs_match(got, bufs.read<uint32_t>(dpair, c.ref.size())) ||
            !pairs_match(plain, bufs.read<uint32_t>(dplain_pair, c.ref.size())) ||
            !same_bits(bufs.read<float>(dout16, c.ref.size()).data(), got.data(), got.size()) ||
            !halves_match(got, bufs.read<uint16_t>(dhalves, halves_bytes(T, uint32_t(row)) / 2), T, uint32_t(row)))
            w.r.passed = false;
    }
    return w.r;
}

}  // namespace

std::vector<kernel_check> layer_kernel_checks() {
    return {
        {"swiglu_f32", check_swiglu},
        {"matvec_glu", check_matvec_glu},
        {"gdn_conv_f32", check_gdn_conv},
        {"gdn_qkv_conv", check_gdn_qkv_conv},
        {"gdn_recurrence_f32", check_gdn_recurrence},
        {"gated_rms_norm_f32", check_gated_rms_norm},
        {"gdn_recurrence_norm", check_gdn_recurrence_norm},
        {"attn_prepare_f32", check_attn_prepare},
        {"attn_core_f32", check_attn_core},
        {"attn_core_split", check_attn_core_split},
    };
}

}  // namespace mlxmtp::detail
