// Checks for the foundation kernels (see vk/kernel_check.h).
#include "ops/basic_ops.h"
#include "util/half.h"
#include "vk/kernel_check.h"

#include <cmath>

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

kernel_check_result check_rms_norm(vk_device &dev, uint64_t seed) {
    std::mt19937_64 rng(seed);
    const uint32_t rows = 3 + static_cast<uint32_t>(rng() % 5), cols = 64 + static_cast<uint32_t>(rng() % 700);
    auto x = random_floats(rng, size_t(rows) * cols, -3, 3), w = random_floats(rng, cols, -0.5f, 0.5f);
    const float eps = 1e-6f;
    std::vector<float> ref(x.size());
    for (uint32_t r = 0; r < rows; ++r) {
        double ss = 0;
        for (uint32_t c = 0; c < cols; ++c) ss += double(x[r * cols + c]) * x[r * cols + c];
        double scale = 1.0 / std::sqrt(ss / cols + eps);
        for (uint32_t c = 0; c < cols; ++c) ref[r * cols + c] = float(x[r * cols + c] * scale * (1.0 + w[c]));
    }
    check_buffers bufs(dev);
    buffer_span dx = bufs.upload(x), dw = bufs.upload(w), dy = bufs.zeros(x.size() * 4);
    command_stream cs(dev);
    ops::rms_norm(cs, dx, dw, dy, rows, cols, eps, true);
    cs.submit();
    return make_result("rms_norm_f32", bufs.read<float>(dy, x.size()), ref, 1e-5);
}

kernel_check_result check_matvec(vk_device &dev, uint64_t seed, ops::weight_type wt, const char *name) {
    std::mt19937_64 rng(seed);
    const uint32_t M = 37 + static_cast<uint32_t>(rng() % 200), K = 2 * (64 + static_cast<uint32_t>(rng() % 600));
    const uint32_t N = 1 + static_cast<uint32_t>(rng() % 16);
    auto wf = random_floats(rng, size_t(M) * K), x = random_floats(rng, size_t(N) * K);
    std::vector<uint16_t> wb;
    if (wt == ops::weight_type::bf16) {
        wb.resize(wf.size());
        for (size_t i = 0; i < wf.size(); ++i) {
            wb[i] = f32_to_bf16(wf[i]);
            wf[i] = bf16_to_f32(wb[i]);  // the reference sees the rounded weights
        }
    }
    std::vector<float> ref(size_t(N) * M);
    for (uint32_t n = 0; n < N; ++n)
        for (uint32_t m = 0; m < M; ++m) {
            double s = 0;
            for (uint32_t k = 0; k < K; ++k) s += double(wf[size_t(m) * K + k]) * x[size_t(n) * K + k];
            ref[size_t(n) * M + m] = float(s);
        }
    check_buffers bufs(dev);
    buffer_span dw = wt == ops::weight_type::bf16 ? bufs.upload(wb) : bufs.upload(wf);
    buffer_span dx = bufs.upload(x), dy = bufs.zeros(ref.size() * 4);
    command_stream cs(dev);
    ops::matvec(cs, wt, dw, dx, dy, M, K, N);
    cs.submit();
    return make_result(name, bufs.read<float>(dy, ref.size()), ref, 1e-5);
}

kernel_check_result check_matvec_f32(vk_device &dev, uint64_t seed) {
    return check_matvec(dev, seed, ops::weight_type::f32, "matvec_f32");
}
kernel_check_result check_matvec_bf16(vk_device &dev, uint64_t seed) {
    return check_matvec(dev, seed, ops::weight_type::bf16, "matvec_bf16");
}

}  // namespace

const std::vector<kernel_check> &kernel_checks() {
    static const std::vector<kernel_check> checks = {
        {"scale_add_f32", check_scale_add},
        {"rms_norm_f32", check_rms_norm},
        {"matvec_f32", check_matvec_f32},
        {"matvec_bf16", check_matvec_bf16},
    };
    return checks;
}

}  // namespace mlxmtp::detail
