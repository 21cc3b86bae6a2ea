// Checks for the foundation kernels (see vk/kernel_check.h).
#include "ops/basic_ops.h"
#include "ops/linear.h"
#include "quant/mx.h"
#include "ref/linear.h"
#include "util/half.h"
#include "vk/kernel_check.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mlxmtp::detail {

namespace {

kernel_check_result check_scale_add(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    const uint32_t n = 1000 + static_cast<uint32_t>(rng() % 5000);
    auto a = random_floats(rng, n), b = random_floats(rng, n);
    const float alpha = 0.75f;
    std::vector<float> ref(n);
    for (uint32_t i = 0; i < n; ++i) ref[i] = alpha * a[i] + b[i];
    check_buffers bufs(dev);
    buffer_span da = bufs.upload(a), db = bufs.upload(b), dy = bufs.zeros(n * 4);
    command_stream cs(dev);
    ops::scale_add(cs, da, db, dy, n, alpha);
    cs.submit();
    return make_result("scale_add_f32", bufs.read<float>(dy, n), ref, 1e-6);
}

// Both layouts (scalar and vec4 rows), optionally with the residual add;
// short rows and rows longer than the kernel's register cache (past 2048
// scalar or 8192 vec4 columns it loops over the rest).
kernel_check_result rms_norm_case(vk_device &dev, uint64_t seed, bool add) {
    std::mt19937_64 rng(seed);
    std::vector<float> got_all, ref_all;
    for (int layout = 0; layout < 4; ++layout) {
        const int vec4 = layout % 2;
        const uint32_t rows = 3 + static_cast<uint32_t>(rng() % 5);
        uint32_t cols = 64 + static_cast<uint32_t>(rng() % 1400) + (layout >= 2 ? 8200 : 0);
        cols = vec4 ? cols / 4 * 4 : (cols % 4 ? cols : cols + 1);
        auto a = random_floats(rng, size_t(rows) * cols, -3, 3), b = random_floats(rng, size_t(rows) * cols, -3, 3);
        auto w = random_floats(rng, cols, -0.5f, 0.5f);
        std::vector<float> x(a.size());
        for (size_t i = 0; i < x.size(); ++i) x[i] = add ? a[i] + b[i] : a[i];
        const float eps = 1e-6f;
        std::vector<float> ref(x.size());
        for (uint32_t r = 0; r < rows; ++r) {
            double ss = 0;
            for (uint32_t c = 0; c < cols; ++c) ss += double(x[r * cols + c]) * x[r * cols + c];
            double scale = 1.0 / std::sqrt(ss / cols + eps);
            for (uint32_t c = 0; c < cols; ++c) ref[r * cols + c] = float(x[r * cols + c] * scale * (1.0 + w[c]));
        }
        check_buffers bufs(dev);
        buffer_span da = bufs.upload(a), db = bufs.upload(b), dw = bufs.upload(w);
        buffer_span dy = bufs.zeros(x.size() * 4), ds = bufs.zeros(x.size() * 4);
        // Also with fp16 token-pair words (yp_f16: two rows per workgroup),
        // which must leave y and s as they are bit for bit.
        const bool f16 = (dev.info().features & MLXMTP_FEATURE_FP16) != 0;
        buffer_span dy2 = bufs.zeros(x.size() * 4), ds2 = bufs.zeros(x.size() * 4);
        buffer_span dh = bufs.zeros(halves_bytes(rows, cols));
        command_stream cs(dev);
        if (add)
            ops::add_rms_norm(cs, da, db, dw, ds, dy, rows, cols, eps, true);
        else
            ops::rms_norm(cs, da, dw, dy, rows, cols, eps, true);
        if (f16 && add)
            ops::add_rms_norm(cs, da, db, dw, ds2, dy2, rows, cols, eps, true, dh, true);
        else if (f16)
            ops::rms_norm(cs, da, dw, dy2, rows, cols, eps, true, dh, true);
        cs.submit();
        auto y = bufs.read<float>(dy, x.size());
        if (f16 && (!same_bits(y.data(), bufs.read<float>(dy2, x.size()).data(), x.size()) ||
                    (add && !same_bits(bufs.read<float>(ds, x.size()).data(), bufs.read<float>(ds2, x.size()).data(),
                                       x.size())) ||
                    !halves_match(y, bufs.read<uint16_t>(dh, halves_bytes(rows, cols) / 2), rows, cols))) {
            kernel_check_result bad = make_result(add ? "add_rms_norm_f32" : "rms_norm_f32", y, ref, 1e-5);
            bad.passed = false;
            bad.error = std::max(bad.error, 1.0);
            return bad;
        }
        got_all.insert(got_all.end(), y.begin(), y.end());
        ref_all.insert(ref_all.end(), ref.begin(), ref.end());
        if (add) {  // the residual stream: a + b exactly
            auto sum = bufs.read<float>(ds, x.size());
            got_all.insert(got_all.end(), sum.begin(), sum.end());
            ref_all.insert(ref_all.end(), x.begin(), x.end());
        }
    }
    return make_result(add ? "add_rms_norm_f32" : "rms_norm_f32", got_all, ref_all, 1e-5);
}

kernel_check_result check_rms_norm(vk_device &dev, uint64_t seed) { return rms_norm_case(dev, seed, false); }
kernel_check_result check_add_rms_norm(vk_device &dev, uint64_t seed) { return rms_norm_case(dev, seed, true); }

// y = W x through ops::linear for T in [t_min, t_max]: T <= 16 runs the
// matrix-vector kernel, T > 16 the tiled matrix-matrix kernel (prefill).  The
// output starts poisoned (NaN) so unwritten elements fail.
kernel_check_result check_linear_tokens(vk_device &dev, uint64_t seed, ops::wformat fmt, const char *name,
                                        uint32_t t_min, uint32_t t_max) {
    std::mt19937_64 rng(seed);
    const uint32_t unit = fmt == ops::wformat::f32 ? 4 : fmt == ops::wformat::bf16 ? 8 : 32;
    const uint32_t M = 37 + static_cast<uint32_t>(rng() % 200), K = unit * (2 + static_cast<uint32_t>(rng() % (640 / unit)));
    const uint32_t T = t_min + static_cast<uint32_t>(rng() % (t_max - t_min + 1));
    check_buffers bufs(dev);
    std::vector<float> wf;
    ops::device_weight w = make_weight(bufs, rng, fmt, M, K, 16 * (1 + static_cast<uint32_t>(rng() % 4)), &wf);
    auto x = random_floats(rng, size_t(T) * K);
    std::vector<float> ref(size_t(T) * M);
    ref::matmul_f32(wf.data(), M, K, x.data(), T, ref.data());
    buffer_span dx = bufs.upload(x), dy = bufs.upload(std::vector<float>(ref.size(), NAN));
    const bool matmul = T > ops::kMatvecMaxCols;
    buffer_span dy128 = matmul ? bufs.upload(std::vector<float>(ref.size(), NAN)) : dy;
    command_stream cs(dev);
    ops::linear(cs, w, dx, dy, T);
    if (matmul) ops::linear_matmul(cs, w, dx, dy128, T, 128);  // the 128-row tiles too (the weight's rows pick 64)
    cs.submit();
    const std::vector<float> got = bufs.read<float>(dy, ref.size());
    kernel_check_result r = make_result(name, got, ref, 1e-5);
    // Tile size changes no result.
    if (matmul && !same_bits(got.data(), bufs.read<float>(dy128, ref.size()).data(), ref.size())) r.passed = false;
    return r;
}

kernel_check_result check_linear(vk_device &dev, uint64_t seed, ops::wformat fmt, const char *name) {
    return check_linear_tokens(dev, seed, fmt, name, 1, 16);
}

kernel_check_result check_linear_f32(vk_device &dev, uint64_t seed) {
    return check_linear(dev, seed, ops::wformat::f32, "linear_f32");
}
kernel_check_result check_linear_bf16(vk_device &dev, uint64_t seed) {
    return check_linear(dev, seed, ops::wformat::bf16, "linear_bf16");
}
kernel_check_result check_linear_mxfp4(vk_device &dev, uint64_t seed) {
    return check_linear(dev, seed, ops::wformat::mxfp4, "linear_mxfp4");
}
kernel_check_result check_linear_mxfp8(vk_device &dev, uint64_t seed) {
    return check_linear(dev, seed, ops::wformat::mxfp8, "linear_mxfp8");
}

// The prefill path (T > 16): the tiled matrix-matrix kernel, with K not a
// multiple of its 32-wide K tile for f32 / bf16.
kernel_check_result check_linear_matmul(vk_device &dev, uint64_t seed, ops::wformat fmt, const char *name) {
    return check_linear_tokens(dev, seed, fmt, name, 17, 200);
}

kernel_check_result check_matmul_f32(vk_device &dev, uint64_t seed) {
    return check_linear_matmul(dev, seed, ops::wformat::f32, "matmul_f32");
}
kernel_check_result check_matmul_bf16(vk_device &dev, uint64_t seed) {
    return check_linear_matmul(dev, seed, ops::wformat::bf16, "matmul_bf16");
}
kernel_check_result check_matmul_mxfp4(vk_device &dev, uint64_t seed) {
    return check_linear_matmul(dev, seed, ops::wformat::mxfp4, "matmul_mxfp4");
}
kernel_check_result check_matmul_mxfp8(vk_device &dev, uint64_t seed) {
    return check_linear_matmul(dev, seed, ops::wformat::mxfp8, "matmul_mxfp8");
}

// Batch invariance of the matrix-vector path (MTP verify == decode): column j
// computed alone (N_COLS = 1) and inside groups of 2..16 columns (other
// columns random, other ROWS blocking) must be bit-identical, every format.
kernel_check_result check_linear_batch_invariance(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    kernel_check_result worst;
    worst.name = "linear_batch_invariance";
    worst.passed = true;
    for (ops::wformat fmt : {ops::wformat::f32, ops::wformat::bf16, ops::wformat::mxfp4, ops::wformat::mxfp8}) {
        const uint32_t M = 37 + static_cast<uint32_t>(rng() % 200), K = 32 * (2 + static_cast<uint32_t>(rng() % 40));
        check_buffers bufs(dev);
        std::vector<float> wf;
        ops::device_weight w = make_weight(bufs, rng, fmt, M, K, 16 * (1 + static_cast<uint32_t>(rng() % 4)), &wf);
        for (uint32_t T : {9u, 16u, 2u + static_cast<uint32_t>(rng() % 15)}) {
            auto x = random_floats(rng, size_t(T) * K);
            const uint32_t j = static_cast<uint32_t>(rng() % T);
            std::vector<float> xj(x.begin() + size_t(j) * K, x.begin() + size_t(j + 1) * K), ref(M);
            ref::matmul_f32(wf.data(), M, K, xj.data(), 1, ref.data());
            buffer_span dx = bufs.upload(x), dxj = bufs.upload(xj);
            buffer_span dy = bufs.zeros(size_t(T) * M * 4), dyj = bufs.zeros(size_t(M) * 4);
            command_stream cs(dev);
            ops::linear(cs, w, dx, dy, T);
            ops::linear(cs, w, dxj, dyj, 1);
            cs.submit();
            auto all = bufs.read<float>(dy, size_t(T) * M);
            std::vector<float> got(all.begin() + size_t(j) * M, all.begin() + size_t(j + 1) * M);
            auto single = bufs.read<float>(dyj, M);
            kernel_check_result near = make_result("linear_batch_invariance", single, ref, 1e-5);
            kernel_check_result exact = make_result("linear_batch_invariance", got, single, 0);
            exact.passed = same_bits(got.data(), single.data(), got.size(), true);
            if (!near.passed || !exact.passed) {
                worst = near.passed ? exact : near;
                return worst;
            }
            worst.error = std::max(worst.error, near.error);
        }
    }
    return worst;
}

kernel_check_result check_embed(vk_device &dev, uint64_t seed, ops::wformat fmt, const char *name) {
    std::mt19937_64 rng(seed);
    const uint32_t V = 100 + static_cast<uint32_t>(rng() % 100), H = 64;
    const uint32_t T = 1 + static_cast<uint32_t>(rng() % 20);
    check_buffers bufs(dev);
    std::vector<float> wf;
    ops::device_weight w = make_weight(bufs, rng, fmt, V, H, 32, &wf);
    std::vector<int32_t> ids(T);
    std::vector<float> ref(size_t(T) * H);
    for (uint32_t t = 0; t < T; ++t) {
        ids[t] = static_cast<int32_t>(rng() % V);
        std::copy(wf.begin() + size_t(ids[t]) * H, wf.begin() + size_t(ids[t] + 1) * H, ref.begin() + t * H);
    }
    buffer_span di = bufs.upload(ids), dy = bufs.zeros(ref.size() * 4);
    command_stream cs(dev);
    ops::embed(cs, w, di, dy, T);
    cs.submit();
    return make_result(name, bufs.read<float>(dy, ref.size()), ref, 0);
}

kernel_check_result check_embed_bf16(vk_device &dev, uint64_t seed) {
    return check_embed(dev, seed, ops::wformat::bf16, "embed_bf16");
}
kernel_check_result check_embed_mxfp4(vk_device &dev, uint64_t seed) {
    return check_embed(dev, seed, ops::wformat::mxfp4, "embed_mxfp4");
}
kernel_check_result check_embed_mxfp8(vk_device &dev, uint64_t seed) {
    return check_embed(dev, seed, ops::wformat::mxfp8, "embed_mxfp8");
}

kernel_check_result check_argmax(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    // Several rows over many partial slices, read through a row stride > V.
    const uint32_t V = 1000 + static_cast<uint32_t>(rng() % 20000), T = 1 + static_cast<uint32_t>(rng() % 5);
    const uint32_t stride = V + 37;
    auto l = random_floats(rng, size_t(T) * stride, -10, 10);
    l[V / 3] = 50;  // row 0: a tie between V/3 and V/2 (different slices): the lower index wins
    l[V / 2] = 50;
    l[V + 1] = 99;  // row 0, beyond V: never read
    if (T > 1) {
        l[stride + 5] = std::nanf("");  // row 1: NaN never wins
        l[stride + V - 1] = 60;         // the last column
    }
    std::vector<float> ref(T);
    for (uint32_t t = 0; t < T; ++t) {
        const float *row = l.data() + size_t(t) * stride;
        uint32_t best = 0;
        for (uint32_t v = 0; v < V; ++v)
            if (!std::isnan(row[v]) && (std::isnan(row[best]) || row[v] > row[best])) best = v;
        ref[t] = float(best);
    }
    check_buffers bufs(dev);
    buffer_span dl = bufs.upload(l), dout = bufs.zeros(T * 4);
    buffer_span scratch = bufs.zeros(ops::argmax_scratch_bytes(T, V));
    command_stream cs(dev);
    ops::argmax(cs, dl, dout, T, V, stride, scratch);
    cs.submit();
    auto got_i = bufs.read<int32_t>(dout, T);
    std::vector<float> got(got_i.begin(), got_i.end());
    return make_result("argmax_f32", got, ref, 0);
}

}  // namespace

ops::device_weight make_weight(check_buffers &bufs, std::mt19937_64 &rng, ops::wformat fmt, uint32_t rows,
                               uint32_t cols, uint32_t chunk_rows, std::vector<float> *ref_w) {
    auto wf = random_floats(rng, size_t(rows) * cols);
    std::vector<uint8_t> data, scales;
    ref::weight_view view{ref::wformat::f32, rows, cols, nullptr, nullptr};
    std::vector<uint16_t> bf;
    switch (fmt) {
    case ops::wformat::f32:
        data.assign(reinterpret_cast<uint8_t *>(wf.data()), reinterpret_cast<uint8_t *>(wf.data() + wf.size()));
        break;
    case ops::wformat::bf16:
        bf.resize(wf.size());
        for (size_t i = 0; i < wf.size(); ++i) bf[i] = f32_to_bf16(wf[i]);
        data.assign(reinterpret_cast<uint8_t *>(bf.data()), reinterpret_cast<uint8_t *>(bf.data() + bf.size()));
        view.format = ref::wformat::bf16;
        break;
    case ops::wformat::mxfp4:
    case ops::wformat::mxfp8: {
        mx_mode mode = fmt == ops::wformat::mxfp4 ? mx_mode::mxfp4 : mx_mode::mxfp8;
        data.resize(ops::row_bytes(fmt, cols) * rows);
        scales.resize(ops::row_scale_bytes(fmt, cols) * rows);
        mx_quantize_rows(dtype::f32, reinterpret_cast<const uint8_t *>(wf.data()), rows, cols, mode,
                         mx_scale_rule::mlx_round, data.data(), scales.data());
        view.format = fmt == ops::wformat::mxfp4 ? ref::wformat::mxfp4 : ref::wformat::mxfp8;
        break;
    }
    }
    view.data = data.data();
    view.scales = scales.empty() ? nullptr : scales.data();
    *ref_w = ref::dequantize(view);
    ops::device_weight w;
    w.format = fmt;
    w.rows = rows;
    w.cols = cols;
    const uint64_t rb = ops::row_bytes(fmt, cols), sb = ops::row_scale_bytes(fmt, cols);
    for (uint32_t r0 = 0; r0 < rows; r0 += chunk_rows) {
        ops::weight_chunk c;
        c.row0 = r0;
        c.rows = std::min(chunk_rows, rows - r0);
        c.data = bufs.upload(data.data() + r0 * rb, c.rows * rb);
        if (sb) c.scales = bufs.upload(scales.data() + r0 * sb, c.rows * sb);
        w.chunks.push_back(c);
    }
    return w;
}

std::vector<kernel_check> basic_kernel_checks() {
    return {
        {"scale_add_f32", check_scale_add},
        {"rms_norm_f32", check_rms_norm},
        {"add_rms_norm_f32", check_add_rms_norm},
        {"linear_f32", check_linear_f32},
        {"linear_bf16", check_linear_bf16},
        {"linear_mxfp4", check_linear_mxfp4},
        {"linear_mxfp8", check_linear_mxfp8},
        {"matmul_f32", check_matmul_f32},
        {"matmul_bf16", check_matmul_bf16},
        {"matmul_mxfp4", check_matmul_mxfp4},
        {"matmul_mxfp8", check_matmul_mxfp8},
        {"linear_batch_invariance", check_linear_batch_invariance},
        {"embed_bf16", check_embed_bf16},
        {"embed_mxfp4", check_embed_mxfp4},
        {"embed_mxfp8", check_embed_mxfp8},
        {"argmax_f32", check_argmax},
    };
}

const std::vector<kernel_check> &kernel_checks() {
    static const std::vector<kernel_check> checks = [] {
        std::vector<kernel_check> all = basic_kernel_checks();
        for (const kernel_check &c : layer_kernel_checks()) all.push_back(c);
        for (const kernel_check &c : frag_kernel_checks()) all.push_back(c);
        return all;
    }();
    return checks;
}

}  // namespace mlxmtp::detail
