#include "ops/basic_ops.h"

#include "ops/tuning.h"

#include <algorithm>

namespace mlxmtp::detail::ops {

void grid_1d(const vk_device &dev, uint64_t groups, uint32_t *gx, uint32_t *gy) {
    uint64_t maxx = std::min<uint64_t>(dev.limits().maxComputeWorkGroupCount[0], 65535);
    if (groups <= maxx) {
        *gx = static_cast<uint32_t>(std::max<uint64_t>(groups, 1));
        *gy = 1;
    } else {
        *gx = static_cast<uint32_t>(maxx);
        *gy = static_cast<uint32_t>((groups + maxx - 1) / maxx);
    }
}

void scale_add(command_stream &cs, const buffer_span &a, const buffer_span &b, const buffer_span &y, uint32_t n,
               float alpha) {
    struct {
        uint32_t n;
        float alpha;
    } pc{n, alpha};
    const pipeline &p = cs.device().kernels().get("scale_add_f32");
    uint32_t gx, gy;
    grid_1d(cs.device(), (n + 255) / 256, &gx, &gy);
    cs.dispatch(p, {a, b, y}, pc, gx, gy);
}

void l2_prefetch(command_stream &cs, const buffer_span &src, const buffer_span &sink, uint32_t groups) {
    const uint64_t n = src.size / 16;
    if (!n || !groups) return;
    if (n > UINT32_MAX / 2) fail(MLXMTP_ERR_INTERNAL, "l2_prefetch: span too large");
    const uint32_t pc = static_cast<uint32_t>(n);
    cs.dispatch(cs.device().kernels().get("l2_prefetch"), {src, sink}, pc, std::min<uint32_t>(groups, 65535u));
}

namespace {
struct norm_pc {
    uint32_t cols;
    float eps;
    uint32_t one_plus;
    uint32_t rows;
};
// Workgroups writing pairs: one per row; with fp16 token-pair words, one per row pair.
uint32_t pair_norm_groups(uint32_t rows, bool f16) { return f16 ? (rows + 1) / 2 : rows; }
// Slices per row (the grid's y; rms_norm_f32.comp): a few rows (decode,
// verify) would leave the device to one workgroup each, which then writes
// the whole row alone; each slice's workgroup writes 64 (vec4) elements.
uint32_t norm_slices(uint32_t groups, uint32_t cols) {
    const uint32_t forced = tuning().norm_slices;
    if (forced) return forced;
    if (groups > 16) return 1;
    const uint32_t n = cols % 4 == 0 ? cols / 4 : cols;
    return std::max<uint32_t>(1, std::min<uint32_t>(32, n / 64));
}
define_list norm_defines(uint32_t cols, bool add, bool pairs, bool f16) {
    define_list d;
    if (cols % 4 == 0) d.emplace_back("VEC4", "1");
    if (add) d.emplace_back("ADD_RESIDUAL", "1");
    if (pairs) d.emplace_back("XP_OUT", f16 ? "2" : "1");
    return d;
}
}  // namespace

void rms_norm(command_stream &cs, const buffer_span &x, const buffer_span &w, const buffer_span &y, uint32_t rows,
              uint32_t cols, float eps, bool one_plus, const buffer_span &yp, bool yp_f16) {
    if (rows == 0) return;
    norm_pc pc{cols, eps, one_plus ? 1u : 0u, rows};
    const pipeline &p = cs.device().kernels().get("rms_norm_f32", norm_defines(cols, false, yp.valid(), yp_f16));
    const uint32_t g = yp.valid() ? pair_norm_groups(rows, yp_f16) : rows, sl = norm_slices(g, cols);
    if (yp.valid())
        cs.dispatch(p, {x, w, y, yp}, pc, g, sl);
    else
        cs.dispatch(p, {x, w, y}, pc, g, sl);
}

void add_rms_norm(command_stream &cs, const buffer_span &a, const buffer_span &b, const buffer_span &w,
                  const buffer_span &s, const buffer_span &y, uint32_t rows, uint32_t cols, float eps, bool one_plus,
                  const buffer_span &yp, bool yp_f16) {
    if (rows == 0) return;
    norm_pc pc{cols, eps, one_plus ? 1u : 0u, rows};
    const pipeline &p = cs.device().kernels().get("rms_norm_f32", norm_defines(cols, true, yp.valid(), yp_f16));
    const uint32_t g = yp.valid() ? pair_norm_groups(rows, yp_f16) : rows, sl = norm_slices(g, cols);
    if (yp.valid())
        cs.dispatch(p, {a, b, w, s, y, yp}, pc, g, sl);
    else
        cs.dispatch(p, {a, b, w, s, y}, pc, g, sl);
}

}  // namespace mlxmtp::detail::ops
