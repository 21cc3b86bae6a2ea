// Check for the experimental fragment-decoding tensor-core MXFP4 matvec
// (kernels/matvec_frag.comp, ops/linear_frag.h).  With VK_NV_cooperative_matrix
// enabled it runs the real kernel under the layout the device reports;
// elsewhere (lavapipe) the kernel's emulation, under the PTX layout, the
// layout NVIDIA's driver 580 reported, or a lane-scrambled copy of the PTX
// layout (seed % 3 = 0, 1, 2; of driver 580's where seed % 6 = 2), which the
// kernel must not notice.  Where the layout has x quads (ops::frag_x_quads:
// driver 580's), the weight repacked in their column order (XQ) passes the
// same checks at N = 1, 6, 9.  With more than one column group, one group
// per workgroup (GPW=1: the grid's y takes the others) gives the same bits.
// Each column alone gives the batch's bits; x split by x_split_f16 or inside
// the kernel (XF32), and 1 or 3 row tiles per warp, give the same bits; both
// forms of x in the B operand (hi / lo columns or multiply-adds) pass.
// The SwiGLU epilogue (GLU, a second weight as up) gives swiglu() of the two
// plain products bit for bit, and the conv epilogue (CONV) gdn_conv of the
// plain product (its output and every token's window).  The spread RMSNorm's
// epilogue and prologue (RESID_OUT, NORM_IN) against their references.
#include "ops/basic_ops.h"
#include "ops/layer_ops.h"
#include "ops/linear_frag.h"
#include "ref/linear.h"
#include "ref/norm.h"
#include "util/half.h"
#include "vk/kernel_check.h"

#include <algorithm>
#include <cmath>

namespace mlxmtp::detail {

namespace {

// One column group per workgroup (GPW=1 in the process-wide frag defines)
// while it lives, also on a throw.
struct one_group_per_workgroup : ops::frag_define_scope {
    one_group_per_workgroup() : frag_define_scope("GPW", "1") {}
};

// X16 (x rounded to fp16, 8 tokens per column group) on the x-quad copies
// fq (gate) and fuq (up) of W (wf) and U (uf): against the product of W and
// x as an RMSNorm rounded it into token-pair halves (each checked against
// util/half.h's f32_to_f16: halves_match), at N = 1, 5, 8 (one group) and 11,
// 16 (two); column j alone, R = 3 and one group per workgroup give the
// batch's bits; x rounded by its producer (an RMSNorm writing token-pair
// halves, XP) gives the kernel's own rounding's bits; the GLU epilogue
// (with XP_OUT halves, exactly the rounded output) and the conv epilogue
// give the unfused products' bits.
bool check_x16(vk_device &dev, std::mt19937_64 &rng, check_buffers &bufs, ops::frag_weight fq, ops::frag_weight fuq,
               const std::vector<float> &wf, const std::vector<float> &uf, uint32_t M, uint32_t K, double tolerance,
               double *error) {
    fq.x16 = fuq.x16 = true;
    for (uint32_t N : {1u, 5u, 8u, 11u, 16u}) {
        const auto x0 = random_floats(rng, size_t(N) * K);
        // The norm's output is what the products read: the reference rounds it.
        const std::vector<float> ones(K, 0.0f);  // one_plus: gain 1
        buffer_span dx0 = bufs.upload(x0), dw = bufs.upload(ones);
        buffer_span dn = bufs.zeros(size_t(N) * K * 4), dnp = bufs.zeros(halves_bytes(N, K));
        command_stream c0(dev);
        ops::rms_norm(c0, dx0, dw, dn, N, K, 1e-6f, true, dnp, true);
        c0.submit();
        const std::vector<float> x = bufs.read<float>(dn, size_t(N) * K);
        const std::vector<uint16_t> xh = bufs.read<uint16_t>(dnp, halves_bytes(N, K) / 2);
        if (!halves_match(x, xh, N, K)) return false;
        std::vector<float> xr(x.size());  // x as the device rounds it
        for (uint32_t t = 0; t < N; ++t)
            for (uint32_t e = 0; e < K; ++e) xr[size_t(t) * K + e] = f16_to_f32(xh[x16_half(t, e, K)]);
        std::vector<float> ref(size_t(N) * M), refu(size_t(N) * M), refg(size_t(N) * M);
        ref::matmul_f32(wf.data(), M, K, xr.data(), N, ref.data());
        ref::matmul_f32(uf.data(), M, K, xr.data(), N, refu.data());
        for (size_t i = 0; i < ref.size(); ++i) refg[i] = ref::silu(ref[i]) * refu[i];
        const uint32_t j = static_cast<uint32_t>(rng() % N);
        buffer_span dxj = bufs.upload(std::vector<float>(x.begin() + size_t(j) * K, x.begin() + size_t(j + 1) * K));
        auto out = [&] { return bufs.zeros(size_t(N) * M * 4); };
        buffer_span dy = out(), dyp = out(), dy3 = out(), dyj = bufs.zeros(size_t(M) * 4), du = out(), dact = out();
        buffer_span dg = out(), dgp = out(), dgh = bufs.zeros(halves_bytes(N, M));
        ops::frag_weight fq3 = fq;
        fq3.tiles_per_warp = 3;
        command_stream cs(dev);
        ops::linear_matvec_frag(cs, fq, dn, dy, N, M, true);
        ops::linear_matvec_frag(cs, fq, dn, dyp, N, M, true, dnp);  // the producer's halves (XP)
        ops::linear_matvec_frag(cs, fq3, dn, dy3, N, M, true, dnp);
        ops::linear_matvec_frag(cs, fq, dxj, dyj, 1, M, true);
        ops::linear_matvec_frag(cs, fuq, dn, du, N, M, true);
        ops::linear_matvec_frag_glu(cs, fq, fuq, dn, dg, N, M, true);
        ops::linear_matvec_frag_glu(cs, fq, fuq, dn, dgp, N, M, true, dnp, dgh);
        cs.barrier();
        ops::swiglu(cs, dy, du, dact, N * M);
        cs.submit();
        const auto y = bufs.read<float>(dy, ref.size());
        kernel_check_result r = make_result("matvec_frag_mxfp4 X16", y, ref, tolerance);
        kernel_check_result rg = make_result("matvec_frag_mxfp4 X16 GLU", bufs.read<float>(dg, ref.size()), refg,
                                             tolerance);
        *error = std::max({*error, r.error, rg.error});
        const auto g = bufs.read<float>(dg, ref.size());
        if (!r.passed || !rg.passed || !same_bits(y.data(), bufs.read<float>(dyp, ref.size()).data(), y.size(), true) ||
            !same_bits(y.data(), bufs.read<float>(dy3, ref.size()).data(), y.size(), true) ||
            !same_bits(y.data() + size_t(j) * M, bufs.read<float>(dyj, M).data(), M, true) ||
            !same_bits(g.data(), bufs.read<float>(dact, ref.size()).data(), g.size(), true) ||
            !same_bits(g.data(), bufs.read<float>(dgp, ref.size()).data(), g.size(), true) ||
            !halves_match(g, bufs.read<uint16_t>(dgh, halves_bytes(N, M) / 2), N, M))
            return false;
        if (N > 8) {  // one column group per workgroup: the same bits
            one_group_per_workgroup gpw;
            buffer_span dys = out();
            command_stream cg(dev);
            ops::linear_matvec_frag(cg, fq, dn, dys, N, M, true, dnp);
            cg.submit();
            if (!same_bits(y.data(), bufs.read<float>(dys, ref.size()).data(), y.size(), true)) return false;
        }
        if (N > 8) continue;
        // The conv epilogue (C = M channels, kernel 4): gdn_conv of the plain product.
        ops::gdn_dims cd{};
        cd.T = N, cd.Hk = 1, cd.Hv = 1, cd.dk = 8, cd.dv = M - 16, cd.K = 4;
        const auto cw = random_floats(rng, size_t(M) * cd.K, -0.7f, 0.7f), st = random_floats(rng, size_t(3) * M, -2, 2);
        buffer_span dcw = bufs.upload(cw), dst = bufs.upload(st);
        buffer_span dc = out(), dsn = bufs.zeros(size_t(N) * 3 * M * 4), dc_ref = out(),
                    dsn_ref = bufs.zeros(size_t(N) * 3 * M * 4);
        // ring N + 1: the tokens' convs in parallel (EPI_ALL; check_matvec_frag's conv, ring N:
        // one thread walks a channel's tokens).
        ops::matvec_conv mc;
        mc.w = dcw, mc.state = dst, mc.snapshots = dsn, mc.K = cd.K, mc.snap_from = 0, mc.slot0 = 0, mc.ring = N + 1;
        command_stream cc(dev);
        ops::linear_matvec_frag_conv(cc, fq, dn, dc, N, mc, true, dnp);
        ops::gdn_conv(cc, cd, dy, dcw, dst, buffer_span{}, dc_ref, dsn_ref);
        cc.submit();
        if (!same_bits(bufs.read<float>(dc, ref.size()).data(), bufs.read<float>(dc_ref, ref.size()).data(),
                       ref.size(), true) ||
            !same_bits(bufs.read<float>(dsn, size_t(N) * 3 * M).data(),
                       bufs.read<float>(dsn_ref, size_t(N) * 3 * M).data(), size_t(N) * 3 * M, true))
            return false;
    }
    return true;
}

// The spread RMSNorm's two ends (RESID_OUT + U16_OUT, NORM_IN; the session's
// decode / verify layers) on X16 copies: an output projection R (K rows,
// x fp16 values, so that any rounding of x is exact) adds into a residual
// s0 in place: s against s0 + R x, its per-tile partials against the sums of
// s^2 (fp64) of the device's s, its u halves against fp16(s (1 + g) / 256)
// (halves_match); then W (fq, M x K) and the GLU (fq, fuq) read u and the
// partials: against W f16(u) 256 / rms(s) (and swiglu of both), rms from
// the device's s in fp64.  Column j alone (its own s0 column) gives the
// batch's s, partials, u and products bit for bit.  N = 1, 5 (one column
// group) and 11 (two); then again with R's and the GLU's K over three
// workgroups each (KSPLIT=3, the parts added by the last to arrive).
bool check_spread_norm_once(vk_device &dev, std::mt19937_64 &rng, check_buffers &bufs, const ops::frag_layout &f,
                            ops::frag_weight fq, ops::frag_weight fuq, const std::vector<float> &wf,
                            const std::vector<float> &uf, uint32_t M, uint32_t K, double tolerance, double *error,
                            const ops::frag_ksplit *ks, const ops::frag_ksplit *ksj) {
    fq.x16 = fuq.x16 = true;
    const uint32_t Kr = 64 * (1 + static_cast<uint32_t>(rng() % 3));  // R's columns
    std::vector<float> rf;
    ops::device_weight rw = make_weight(bufs, rng, ops::wformat::mxfp4, K, Kr, K, &rf);
    const auto rcodes = bufs.read<uint8_t>(rw.chunks[0].data, size_t(K) * Kr / 2);
    ops::frag_weight fr = fq;
    fr.rows = K, fr.cols = Kr, fr.tiles_per_warp = 0;
    fr.data = bufs.upload(ops::frag_repack_mxfp4(rcodes.data(), K, Kr, f, true));
    fr.scales = rw.chunks[0].scales;
    const float eps = 1e-6f;
    const uint32_t tiles = K / 16;
    auto gain = random_floats(rng, K, -0.5f, 0.5f);
    buffer_span dg = bufs.upload(gain);
    for (uint32_t N : {1u, 5u, 11u}) {
        auto xr = random_floats(rng, size_t(N) * Kr);
        for (float &v : xr) v = f16_to_f32(f32_to_f16(v));  // exact under any x rounding
        const auto s0 = random_floats(rng, size_t(N) * K, -2.f, 2.f);
        const uint32_t j = static_cast<uint32_t>(rng() % N);
        buffer_span dxr = bufs.upload(xr), ds = bufs.upload(s0);
        buffer_span dxj = bufs.upload(std::vector<float>(xr.begin() + size_t(j) * Kr, xr.begin() + size_t(j + 1) * Kr));
        buffer_span dsj = bufs.upload(std::vector<float>(s0.begin() + size_t(j) * K, s0.begin() + size_t(j + 1) * K));
        buffer_span dpart = bufs.zeros(size_t(N) * tiles * 4), du = bufs.zeros(halves_bytes(N, K));
        buffer_span dpartj = bufs.zeros(size_t(tiles) * 4), duj = bufs.zeros(halves_bytes(1, K));
        command_stream cs(dev);
        ops::linear_matvec_frag_resid(cs, fr, dxr, {dpart, dg, du}, ds, N, K, {}, ks);
        ops::linear_matvec_frag_resid(cs, fr, dxj, {dpartj, dg, duj}, dsj, 1, K, {}, ksj);
        cs.barrier();
        buffer_span dy = bufs.zeros(size_t(N) * M * 4), dglu = bufs.zeros(size_t(N) * M * 4);
        buffer_span dyj = bufs.zeros(size_t(M) * 4), dgluj = bufs.zeros(size_t(M) * 4);
        const ops::frag_norm_in in{dpart, eps}, inj{dpartj, eps};
        ops::linear_matvec_frag_normed(cs, fq, du, in, dy, N, M);
        ops::linear_matvec_frag_glu(cs, fq, fuq, du, dglu, N, M, true, du, {}, &in, ks);
        ops::linear_matvec_frag_normed(cs, fq, duj, inj, dyj, 1, M);
        ops::linear_matvec_frag_glu(cs, fq, fuq, duj, dgluj, 1, M, true, duj, {}, &inj, ksj);
        cs.submit();
        // The residual add.
        const auto s = bufs.read<float>(ds, size_t(N) * K);
        std::vector<float> ref(size_t(N) * K);
        ref::matmul_f32(rf.data(), K, Kr, xr.data(), N, ref.data());
        for (size_t i = 0; i < ref.size(); ++i) ref[i] += s0[i];
        const kernel_check_result rs = make_result("matvec_frag_mxfp4 RESID_OUT", s, ref, tolerance);
        *error = std::max(*error, rs.error);
        if (!rs.passed) return false;
        // Partials and u from the device's s.
        const auto part = bufs.read<float>(dpart, size_t(N) * tiles);
        std::vector<double> ss(N, 0.0);
        std::vector<float> uval(size_t(N) * K);
        for (uint32_t t = 0; t < N; ++t) {
            for (uint32_t q = 0; q < tiles; ++q) {
                double p = 0;
                for (uint32_t r = 0; r < 16; ++r) {
                    const double v = s[size_t(t) * K + q * 16 + r];
                    p += v * v;
                }
                ss[t] += p;
                if (std::fabs(part[size_t(t) * tiles + q] - p) > 1e-5 * p + 1e-30) return false;
            }
            for (uint32_t e = 0; e < K; ++e) uval[size_t(t) * K + e] = s[size_t(t) * K + e] * (1.0f + gain[e]) / 256.0f;
        }
        const auto uh = bufs.read<uint16_t>(du, halves_bytes(N, K) / 2);
        if (!halves_match(uval, uh, N, K)) return false;
        // The consumers against W f16(u) 256 / rms(s).
        std::vector<float> ux(size_t(N) * K);
        for (uint32_t t = 0; t < N; ++t) {
            const double scale = 256.0 / std::sqrt(ss[t] / K + eps);
            for (uint32_t e = 0; e < K; ++e)
                ux[size_t(t) * K + e] = static_cast<float>(f16_to_f32(uh[x16_half(t, e, K)]) * scale);
        }
        std::vector<float> ry(size_t(N) * M), ru(size_t(N) * M), rg(size_t(N) * M);
        ref::matmul_f32(wf.data(), M, K, ux.data(), N, ry.data());
        ref::matmul_f32(uf.data(), M, K, ux.data(), N, ru.data());
        for (size_t i = 0; i < rg.size(); ++i) rg[i] = ref::silu(ry[i]) * ru[i];
        const auto y = bufs.read<float>(dy, ry.size()), g = bufs.read<float>(dglu, rg.size());
        const kernel_check_result r1 = make_result("matvec_frag_mxfp4 NORM_IN", y, ry, tolerance);
        const kernel_check_result r2 = make_result("matvec_frag_mxfp4 NORM_IN GLU", g, rg, tolerance);
        *error = std::max({*error, r1.error, r2.error});
        if (!r1.passed || !r2.passed) return false;
        // Column j alone: the batch's bits at every step.
        const auto uhj = bufs.read<uint16_t>(duj, halves_bytes(1, K) / 2);
        for (uint32_t e = 0; e < K; ++e)
            if (uhj[x16_half(0, e, K)] != uh[x16_half(j, e, K)]) return false;
        if (!same_bits(s.data() + size_t(j) * K, bufs.read<float>(dsj, K).data(), K, true) ||
            !same_bits(part.data() + size_t(j) * tiles, bufs.read<float>(dpartj, tiles).data(), tiles, true) ||
            !same_bits(y.data() + size_t(j) * M, bufs.read<float>(dyj, M).data(), M, true) ||
            !same_bits(g.data() + size_t(j) * M, bufs.read<float>(dgluj, M).data(), M, true))
            return false;
    }
    return true;
}

bool check_spread_norm(vk_device &dev, std::mt19937_64 &rng, check_buffers &bufs, const ops::frag_layout &f,
                       const ops::frag_weight &fq, const ops::frag_weight &fuq, const std::vector<float> &wf,
                       const std::vector<float> &uf, uint32_t M, uint32_t K, double tolerance, double *error) {
    if (!check_spread_norm_once(dev, rng, bufs, f, fq, fuq, wf, uf, M, K, tolerance, error, nullptr, nullptr))
        return false;
    // The batch's and column j's dispatches run with no barrier between
    // them: each its own scratch (a KSPLIT scratch serves one dispatch at a
    // time; on lavapipe, which runs dispatches one by one, sharing passed,
    // and natively it failed).
    const uint32_t rows = std::max(K, 2 * M);  // (GLU: two sums per output)
    auto scratch = [&] {
        return ops::frag_ksplit{bufs.zeros(ops::frag_ksplit_floats(rows) * 4),
                                bufs.zeros(ops::frag_ksplit_counters(rows) * 4)};
    };
    const ops::frag_ksplit ks = scratch(), ksj = scratch();
    ops::frag_define_scope three("KSPLIT", "3");
    return check_spread_norm_once(dev, rng, bufs, f, fq, fuq, wf, uf, M, K, tolerance, error, &ks, &ksj);
}

// The layout a check runs under: the device's where the kernel runs
// natively; in the emulation the PTX layout, driver 580's, or a
// lane-scrambled copy of PTX's or driver 580's (by seed).  False when the
// device's layout is unusable.
bool check_layout(vk_device &dev, uint64_t seed, std::mt19937_64 &rng, ops::frag_layout *out, bool *real_out) {
    ops::frag_layout f;
    if (!ops::frag_device_layout(dev, &f).empty()) return false;
    const bool real = ops::frag_native(dev);
    if (!real)
        f = seed % 3 == 1 || seed % 6 == 2 ? ops::frag_layout_nv_driver_580() : ops::frag_layout_mma_m16n8k16();
    if (!real && seed % 3 == 2) {
        std::vector<uint32_t> perm(32);
        for (uint32_t i = 0; i < 32; ++i) perm[i] = i;
        std::shuffle(perm.begin(), perm.end(), rng);
        ops::frag_layout g = f;
        for (uint32_t l = 0; l < 32; ++l) {
            g.a[l] = f.a[perm[l]];
            std::swap(g.a[l][0], g.a[l][6]);  // element pairs in another order
            std::swap(g.a[l][1], g.a[l][7]);
            g.b[l] = f.b[perm[l]];
            std::swap(g.b[l][0], g.b[l][2]);
            std::swap(g.b[l][1], g.b[l][3]);
            g.c[l] = f.c[perm[l]];
        }
        f = g;
    }
    *out = f;
    *real_out = real;
    return true;
}

// A frag check's start: `res` named `name`; false (res says why) when the
// check cannot run: without fp16 arithmetic (the kernel needs it even
// emulated; no path uses it on such a device: passed) or with an unusable
// device layout (failed).  Else the layout in *f (check_layout).
bool frag_check_start(vk_device &dev, uint64_t seed, std::mt19937_64 &rng, const char *name,
                      kernel_check_result &res, ops::frag_layout *f, bool *real) {
    res.name = name;
    if (!(dev.info().features & MLXMTP_FEATURE_FP16)) {
        res.name += " (not run: no shaderFloat16)";
        res.passed = true;
        return false;
    }
    if (!check_layout(dev, seed, rng, f, real)) {
        res.error = 1;
        return false;
    }
    return true;
}

kernel_check_result check_matvec_frag(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    kernel_check_result res;
    ops::frag_layout f;
    bool real = false;
    if (!frag_check_start(dev, seed, rng, "matvec_frag_mxfp4", res, &f, &real)) return res;
    // Rows not a multiple of 16 (a padded tile), K groups not a multiple of
    // the kernel's 8 warps (parts of different lengths, some empty).
    const uint32_t M = 17 + static_cast<uint32_t>(rng() % 100), K = 64 * (1 + static_cast<uint32_t>(rng() % 11));
    check_buffers bufs(dev);
    std::vector<float> wf;
    ops::device_weight w = make_weight(bufs, rng, ops::wformat::mxfp4, M, K, M, &wf);
    const auto codes = bufs.read<uint8_t>(w.chunks[0].data, size_t(M) * K / 2);
    ops::frag_weight fw;
    fw.rows = M;
    fw.cols = K;
    fw.data = bufs.upload(ops::frag_repack_mxfp4(codes.data(), M, K, f));
    fw.scales = w.chunks[0].scales;
    fw.table = bufs.upload(ops::frag_layout_table(f));
    fw.c_row_pairs = ops::frag_c_row_pairs(f);
    fw.b_pairs = ops::frag_b_pairs(f);
    fw.emulate = !real;
    std::vector<float> uf;  // the GLU's up weight
    ops::device_weight wu = make_weight(bufs, rng, ops::wformat::mxfp4, M, K, M, &uf);
    const auto ucodes = bufs.read<uint8_t>(wu.chunks[0].data, size_t(M) * K / 2);
    ops::frag_weight fu = fw;
    fu.data = bufs.upload(ops::frag_repack_mxfp4(ucodes.data(), M, K, f));
    fu.scales = wu.chunks[0].scales;
    // The x-quad order's copies (fp32 x only).
    const bool quads = ops::frag_x_quads(f);
    ops::frag_weight fq = fw, fuq = fu;
    if (quads) {
        fq.x_quads = fuq.x_quads = true;
        fq.table = fuq.table = bufs.upload(ops::frag_layout_table(f, true));
        fq.data = bufs.upload(ops::frag_repack_mxfp4(codes.data(), M, K, f, true));
        fuq.data = bufs.upload(ops::frag_repack_mxfp4(ucodes.data(), M, K, f, true));
    }
    // Fragment-ordered scales (FSC) where the layout has them, repacked on
    // the device as models do: the words against the host form, and below
    // the products' bits against the standard scales' (the same values).
    const bool fsc = ops::frag_scale_words(f);
    ops::frag_weight fws = fw, fus = fu, fqs = fq;
    if (fsc) {
        const uint64_t sb = ops::frag_scale_words_bytes(M, K);
        fws.scale_words = fqs.scale_words = bufs.zeros(sb);
        fus.scale_words = bufs.zeros(sb);
        command_stream cs(dev);
        ops::frag_repack_scales(cs, w.chunks[0].scales, fw.table, fws.scale_words, M, K);
        ops::frag_repack_scales(cs, wu.chunks[0].scales, fw.table, fus.scale_words, M, K);
        cs.submit();
        const auto sc = bufs.read<uint8_t>(w.chunks[0].scales, size_t(M) * K / 32);
        if (bufs.read<uint32_t>(fws.scale_words, sb / 4) != ops::frag_repack_scales(sc.data(), M, K, f)) {
            res.name += " (scale words)";
            res.error = 1;
            return res;
        }
        fws.scales = fus.scales = fqs.scales = {};  // the words alone
    }
    res.tolerance = 2e-5;
    res.passed = true;
    // Both x forms of the kernel: hi / lo as B columns (the default; 4
    // tokens per column group: N = 1, 3 one group, 6 two, 9 three, 16 four)
    // and as two multiply-adds (8 per group: one and two groups).
    const std::vector<std::pair<bool, uint32_t>> cases{{true, 1},  {true, 3},   {true, 6}, {true, 9},
                                                       {true, 16}, {false, 3}, {false, 9}};
    for (const auto &[hl, N] : cases) {
        fw.hl_cols = fu.hl_cols = hl;
        const auto x = random_floats(rng, size_t(N) * K);
        std::vector<float> ref(size_t(N) * M);
        ref::matmul_f32(wf.data(), M, K, x.data(), N, ref.data());
        // Column j alone must give the batch's bits for it.
        const uint32_t j = static_cast<uint32_t>(rng() % N);
        std::vector<float> xj(x.begin() + size_t(j) * K, x.begin() + size_t(j + 1) * K);
        buffer_span dx = bufs.upload(x), dxj = bufs.upload(xj);
        buffer_span xs = bufs.zeros(size_t(N) * K * 4), xsj = bufs.zeros(size_t(K) * 4);
        buffer_span dy = bufs.zeros(size_t(N) * M * 4), dyj = bufs.zeros(size_t(M) * 4);
        buffer_span dyf = bufs.zeros(size_t(N) * M * 4), dyr = bufs.zeros(size_t(N) * M * 4);
        command_stream cs(dev);
        ops::x_split_f16(cs, dx, xs, N, K);
        ops::x_split_f16(cs, dxj, xsj, 1, K);
        cs.barrier();
        ops::linear_matvec_frag(cs, fw, xs, dy, N, M);
        ops::linear_matvec_frag(cs, fw, xsj, dyj, 1, M);
        ops::linear_matvec_frag(cs, fw, dx, dyf, N, M, true);  // x split inside: the same hi / lo
        ops::frag_weight fw3 = fw;
        fw3.tiles_per_warp = 3;  // other row tiles per warp (and padding tiles): the same bits
        ops::linear_matvec_frag(cs, fw3, xs, dyr, N, M);
        buffer_span dyu = bufs.zeros(size_t(N) * M * 4), dact = bufs.zeros(size_t(N) * M * 4);
        buffer_span dglu = bufs.zeros(size_t(N) * M * 4), dglu3 = bufs.zeros(size_t(N) * M * 4);
        ops::linear_matvec_frag(cs, fu, xs, dyu, N, M);
        ops::linear_matvec_frag_glu(cs, fw, fu, dx, dglu, N, M, true);
        ops::linear_matvec_frag_glu(cs, fw3, fu, xs, dglu3, N, M);
        // The conv epilogue: C = M channels, kernel size 4, one snapshot per token.
        ops::gdn_dims cd{};
        cd.T = N, cd.Hk = 1, cd.Hv = 1, cd.dk = 8, cd.dv = M - 16, cd.K = 4;
        const auto cw = random_floats(rng, size_t(M) * cd.K, -0.7f, 0.7f), st = random_floats(rng, size_t(3) * M, -2, 2);
        buffer_span dcw = bufs.upload(cw), dst = bufs.upload(st);
        buffer_span du = bufs.zeros(size_t(N) * M * 4), dsn = bufs.zeros(size_t(N) * 3 * M * 4);
        buffer_span du_ref = bufs.zeros(size_t(N) * M * 4), dsn_ref = bufs.zeros(size_t(N) * 3 * M * 4);
        ops::matvec_conv mc;
        mc.w = dcw, mc.state = dst, mc.snapshots = dsn, mc.K = cd.K, mc.snap_from = 0, mc.slot0 = 0, mc.ring = N;
        ops::linear_matvec_frag_conv(cs, fw, dx, du, N, mc, true);
        buffer_span dys = bufs.zeros(size_t(N) * M * 4), dglus = bufs.zeros(size_t(N) * M * 4);
        buffer_span dus = bufs.zeros(size_t(N) * M * 4);
        if (fsc) {  // (the conv's snapshots again: the same values)
            fws.hl_cols = fus.hl_cols = hl;
            ops::linear_matvec_frag(cs, fws, xs, dys, N, M);
            ops::linear_matvec_frag_glu(cs, fws, fus, dx, dglus, N, M, true);
            ops::linear_matvec_frag_conv(cs, fws, dx, dus, N, mc, true);
        }
        cs.barrier();
        ops::swiglu(cs, dy, dyu, dact, N * M);
        ops::gdn_conv(cs, cd, dy, dcw, dst, buffer_span{}, du_ref, dsn_ref);
        cs.submit();
        const auto got = bufs.read<float>(dy, size_t(N) * M), single = bufs.read<float>(dyj, M);
        const auto got_f32 = bufs.read<float>(dyf, size_t(N) * M), got_r3 = bufs.read<float>(dyr, size_t(N) * M);
        kernel_check_result r = make_result(res.name.c_str(), got, ref, res.tolerance);
        res.error = std::max(res.error, r.error);
        if (!r.passed || !same_bits(got.data() + size_t(j) * M, single.data(), M, true) ||
            !same_bits(got.data(), got_f32.data(), got.size(), true) ||
            !same_bits(got.data(), got_r3.data(), got.size(), true)) {
            if (r.passed) res.error = 1;  // not batch-invariant, or the x forms / tile counts differ
            res.passed = false;
            return res;
        }
        // The GLU epilogue against silu(G x) * (U x) of the scalar product,
        // and bit for bit against the unfused frag path.
        std::vector<float> refu(size_t(N) * M), refg(ref.size());
        ref::matmul_f32(uf.data(), M, K, x.data(), N, refu.data());
        for (size_t i = 0; i < ref.size(); ++i) refg[i] = ref::silu(ref[i]) * refu[i];
        const auto glu = bufs.read<float>(dglu, ref.size()), act = bufs.read<float>(dact, ref.size());
        kernel_check_result rg = make_result(res.name.c_str(), glu, refg, res.tolerance);
        res.error = std::max(res.error, rg.error);
        if (!rg.passed || !same_bits(glu.data(), act.data(), act.size(), true) ||
            !same_bits(glu.data(), bufs.read<float>(dglu3, ref.size()).data(), act.size(), true) ||
            !same_bits(bufs.read<float>(du, ref.size()).data(), bufs.read<float>(du_ref, ref.size()).data(),
                       ref.size(), true) ||
            !same_bits(bufs.read<float>(dsn, size_t(N) * 3 * M).data(),
                       bufs.read<float>(dsn_ref, size_t(N) * 3 * M).data(), size_t(N) * 3 * M, true)) {
            if (rg.passed) res.error = 1;
            res.passed = false;
            return res;
        }
        if (fsc && (!same_bits(got.data(), bufs.read<float>(dys, ref.size()).data(), ref.size(), true) ||
                    !same_bits(glu.data(), bufs.read<float>(dglus, ref.size()).data(), ref.size(), true) ||
                    !same_bits(bufs.read<float>(du, ref.size()).data(), bufs.read<float>(dus, ref.size()).data(),
                               ref.size(), true))) {
            res.name += " (scale words)";
            res.error = std::max(res.error, 1.0);
            res.passed = false;
            return res;
        }
        if (hl && N > 4) {
            // One column group per workgroup (the grid's y takes the rest):
            // the same bits, plain and GLU.
            buffer_span dys = bufs.zeros(size_t(N) * M * 4), dgs = bufs.zeros(size_t(N) * M * 4);
            {
                one_group_per_workgroup gpw;
                command_stream cg(dev);
                ops::linear_matvec_frag(cg, fw, dx, dys, N, M, true);
                ops::linear_matvec_frag_glu(cg, fw, fu, dx, dgs, N, M, true);
                cg.submit();
            }
            if (!same_bits(got.data(), bufs.read<float>(dys, ref.size()).data(), ref.size(), true) ||
                !same_bits(glu.data(), bufs.read<float>(dgs, ref.size()).data(), ref.size(), true)) {
                res.error = std::max(res.error, 1.0);
                res.passed = false;
                return res;
            }
        }
        if (!quads || !hl || N == 3 || N == 16) continue;
        // x quads: against the reference, column j alone, R = 3, and the GLU
        // epilogue against the unfused products.
        buffer_span dq = bufs.zeros(size_t(N) * M * 4), dqj = bufs.zeros(size_t(M) * 4);
        buffer_span dq3 = bufs.zeros(size_t(N) * M * 4), dqu = bufs.zeros(size_t(N) * M * 4);
        buffer_span dqa = bufs.zeros(size_t(N) * M * 4), dqg = bufs.zeros(size_t(N) * M * 4);
        ops::frag_weight fq3 = fq;
        fq3.tiles_per_warp = 3;
        command_stream cq(dev);
        ops::linear_matvec_frag(cq, fq, dx, dq, N, M, true);
        ops::linear_matvec_frag(cq, fq, dxj, dqj, 1, M, true);
        ops::linear_matvec_frag(cq, fq3, dx, dq3, N, M, true);
        ops::linear_matvec_frag(cq, fuq, dx, dqu, N, M, true);
        ops::linear_matvec_frag_glu(cq, fq, fuq, dx, dqg, N, M, true);
        buffer_span dqs = bufs.zeros(size_t(N) * M * 4);
        if (fsc) ops::linear_matvec_frag(cq, fqs, dx, dqs, N, M, true);
        cq.barrier();
        ops::swiglu(cq, dq, dqu, dqa, N * M);
        cq.submit();
        const auto q = bufs.read<float>(dq, ref.size());
        kernel_check_result rq = make_result(res.name.c_str(), q, ref, res.tolerance);
        res.error = std::max(res.error, rq.error);
        if (!rq.passed || !same_bits(q.data() + size_t(j) * M, bufs.read<float>(dqj, M).data(), M, true) ||
            !same_bits(q.data(), bufs.read<float>(dq3, ref.size()).data(), q.size(), true) ||
            !same_bits(bufs.read<float>(dqg, ref.size()).data(), bufs.read<float>(dqa, ref.size()).data(),
                       ref.size(), true) ||
            (fsc && !same_bits(q.data(), bufs.read<float>(dqs, ref.size()).data(), q.size(), true))) {
            if (rq.passed) res.error = 1;
            res.passed = false;
            return res;
        }
        if (N != 6) continue;
        // x split by its producer (an RMSNorm writing (hi, lo) pairs, XP) and
        // the GLU epilogue's pairs (XP_OUT) read by the next product: the same
        // bits as splitting in the kernel.
        const std::vector<float> ones(K, 1.0f);
        buffer_span dw = bufs.upload(ones), dn = bufs.zeros(size_t(N) * K * 4), dnp = bufs.zeros(size_t(N) * K * 4);
        buffer_span dy0 = bufs.zeros(size_t(N) * M * 4), dy1 = bufs.zeros(size_t(N) * M * 4);
        buffer_span dg0 = bufs.zeros(size_t(N) * M * 4), dg1 = bufs.zeros(size_t(N) * M * 4);
        buffer_span dgp = bufs.zeros(size_t(N) * M * 4);
        command_stream cp(dev);
        ops::rms_norm(cp, dx, dw, dn, N, K, 1e-6f, false, dnp);
        cp.barrier();
        ops::linear_matvec_frag(cp, fq, dn, dy0, N, M, true);
        ops::linear_matvec_frag(cp, fq, dn, dy1, N, M, true, dnp);
        ops::linear_matvec_frag_glu(cp, fq, fuq, dn, dg0, N, M, true);
        ops::linear_matvec_frag_glu(cp, fq, fuq, dn, dg1, N, M, true, dnp, dgp);
        cp.submit();
        std::vector<float> g0 = bufs.read<float>(dg0, ref.size());
        if (!pairs_match(g0, bufs.read<uint32_t>(dgp, ref.size())) ||
            !same_bits(bufs.read<float>(dy0, ref.size()).data(), bufs.read<float>(dy1, ref.size()).data(), ref.size(),
                       true) ||
            !same_bits(g0.data(), bufs.read<float>(dg1, ref.size()).data(), ref.size(), true)) {
            res.error = std::max(res.error, 1.0);
            res.passed = false;
            return res;
        }
    }
    if (quads && (dev.info().features & MLXMTP_FEATURE_STORAGE16) &&
        (!check_x16(dev, rng, bufs, fq, fuq, wf, uf, M, K, res.tolerance, &res.error) ||
         !check_spread_norm(dev, rng, bufs, f, fq, fuq, wf, uf, M, K, res.tolerance, &res.error))) {
        res.error = std::max(res.error, 1.0);
        res.passed = false;
    }
    return res;
}

// A bf16 weight with rows scaled by 2^-20 .. 2^19, an all-zero block in
// every seventh row and a block spanning 2^20 in another: its bits uploaded
// as one chunk, `wf` the exact values.
ops::device_weight bf16_weight(check_buffers &bufs, std::mt19937_64 &rng, uint32_t M, uint32_t K,
                               std::vector<float> *wf) {
    const auto v = random_floats(rng, size_t(M) * K);
    std::vector<uint16_t> bits(v.size());
    wf->resize(v.size());
    for (uint32_t r = 0; r < M; ++r)
        for (uint32_t k = 0; k < K; ++k) {
            const size_t i = size_t(r) * K + k;
            float x = v[i] * std::ldexp(1.0f, static_cast<int>(r % 40) - 20);
            if (r % 7 == 3 && k < 32) x = 0.0f;
            if (r % 7 == 5 && k < 32 && k % 4 == 1) x *= 1e-6f;
            bits[i] = f32_to_bf16(x);
            (*wf)[i] = bf16_to_f32(bits[i]);
        }
    ops::device_weight w;
    w.format = ops::wformat::bf16;
    w.rows = M;
    w.cols = K;
    ops::weight_chunk c;
    c.row0 = 0;
    c.rows = M;
    c.data = bufs.upload(bits);
    w.chunks.push_back(c);
    return w;
}

// The AF16 form (kernels/matvec_frag.comp with a bf16 weight repacked on the
// device by frag_repack_bf16.comp, as models do): the copy's block bytes
// against ops::frag_bf16_scale_byte; products against the exact bf16 weight
// times x, x fp16 values (so that every x form holds it exactly), each
// output within (K / 32 + 48) fp32 roundings of sum_k |w x| (the fp32 sums'
// error bound: the fp16 elements are the bf16 values exactly), for hi / lo
// columns (N = 1, 5, 9), hi and lo as two multiply-adds (N = 3) and X16 (N =
// 1, 8, 9, 16); column j alone gives the batch's bits.  With x quads,
// check_x16 (producer halves, R = 3, one group per workgroup, the GLU and
// conv epilogues) on bf16 copies too.
kernel_check_result check_matvec_frag_bf16(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    kernel_check_result res;
    ops::frag_layout f;
    bool real = false;
    if (!frag_check_start(dev, seed, rng, "matvec_frag_bf16", res, &f, &real)) return res;
    const uint32_t M = 17 + static_cast<uint32_t>(rng() % 100), K = 64 * (1 + static_cast<uint32_t>(rng() % 11));
    check_buffers bufs(dev);
    arena fa(dev, false, 1u << 20, "frag check copies");
    std::vector<float> wf, uf;
    ops::device_weight w = bf16_weight(bufs, rng, M, K, &wf), wu = bf16_weight(bufs, rng, M, K, &uf);
    const bool quads = ops::frag_x_quads(f);
    ops::frag_weight fw, fq, fuq;  // standard column order; x-quad order (gate, up)
    for (bool q : {false, true}) {
        if (q && !quads) break;
        const std::vector<uint32_t> t = ops::frag_layout_table(f, q);
        const buffer_span table = bufs.upload(t);
        const ops::frag_copy layout = ops::frag_copy_layout(f, table, !real, q);
        command_stream cs(dev);
        ops::make_frag_copy(cs, fa, w, layout);
        ops::make_frag_copy(cs, fa, wu, layout);
        cs.submit();
        (q ? fq : fw) = ops::frag_view(w);
        if (q) fuq = ops::frag_view(wu);
    }
    // The block bytes (of the last copy: both orders give the same).
    const uint32_t bpr = K / 32;
    const auto bytes = bufs.read<uint8_t>(w.frag.scales, size_t(M) * bpr);
    for (uint32_t r = 0; r < M; ++r)
        for (uint32_t b = 0; b < bpr; ++b) {
            uint16_t mx = 0;
            for (uint32_t k = b * 32; k < b * 32 + 32; ++k)
                mx = std::max<uint16_t>(mx, f32_to_bf16(wf[size_t(r) * K + k]) & 0x7fffu);
            if (bytes[size_t(r) * bpr + b] != ops::frag_bf16_scale_byte(mx)) {
                res.error = 1;
                return res;
            }
        }
    res.tolerance = (K / 32 + 48) * std::ldexp(1.0, -23);
    struct form {
        bool hl, x16;
        uint32_t N;
    };
    std::vector<form> forms{{true, false, 1}, {true, false, 5}, {true, false, 9}, {false, false, 3}};
    if (quads) forms.insert(forms.end(), {{true, true, 1}, {true, true, 8}, {true, true, 9}, {true, true, 16}});
    for (const form &fm : forms) {
        ops::frag_weight fc = fm.x16 ? fq : fw;
        fc.hl_cols = fm.hl;
        fc.x16 = fm.x16;
        const uint32_t N = fm.N;
        std::vector<float> x = random_floats(rng, size_t(N) * K, -2.0f, 2.0f);
        for (float &e : x) e = f16_to_f32(f32_to_f16(e));
        const uint32_t j = static_cast<uint32_t>(rng() % N);
        buffer_span dx = bufs.upload(x),
                    dxj = bufs.upload(std::vector<float>(x.begin() + size_t(j) * K, x.begin() + size_t(j + 1) * K));
        buffer_span dy = bufs.zeros(size_t(N) * M * 4), dyj = bufs.zeros(size_t(M) * 4);
        command_stream cs(dev);
        ops::linear_matvec_frag(cs, fc, dx, dy, N, M, true);
        ops::linear_matvec_frag(cs, fc, dxj, dyj, 1, M, true);
        cs.submit();
        const auto y = bufs.read<float>(dy, size_t(N) * M);
        for (uint32_t n = 0; n < N; ++n)
            for (uint32_t r = 0; r < M; ++r) {
                double ref = 0, bound = 0;
                for (uint32_t k = 0; k < K; ++k) {
                    const double p = double(wf[size_t(r) * K + k]) * x[size_t(n) * K + k];
                    ref += p;
                    bound += std::fabs(p);
                }
                const double e = bound > 0 ? std::fabs(y[size_t(n) * M + r] - ref) / bound : std::fabs(y[size_t(n) * M + r]);
                res.error = std::max(res.error, e);
            }
        if (res.error > res.tolerance || !same_bits(y.data() + size_t(j) * M, bufs.read<float>(dyj, M).data(), M, true)) {
            res.error = std::max(res.error, 1.0);
            return res;
        }
    }
    res.passed = true;
    if (quads && (dev.info().features & MLXMTP_FEATURE_STORAGE16) &&
        !check_x16(dev, rng, bufs, fq, fuq, wf, uf, M, K, 2e-5, &res.error)) {
        res.error = std::max(res.error, 1.0);
        res.passed = false;
    }
    return res;
}

}  // namespace

std::vector<kernel_check> frag_kernel_checks() {
    return {{"matvec_frag_mxfp4", check_matvec_frag}, {"matvec_frag_bf16", check_matvec_frag_bf16}};
}

}  // namespace mlxmtp::detail
