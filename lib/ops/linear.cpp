#include "ops/linear.h"

#include "ops/basic_ops.h"

#include <algorithm>

namespace mlxmtp::detail::ops {

const char *wformat_name(wformat f) {
    switch (f) {
    case wformat::f32: return "f32";
    case wformat::bf16: return "bf16";
    case wformat::mxfp4: return "mxfp4";
    case wformat::mxfp8: return "mxfp8";
    }
    return "?";
}

static const char *wformat_define(wformat f) {
    switch (f) {
    case wformat::f32: return "WEIGHT_F32";
    case wformat::bf16: return "WEIGHT_BF16";
    case wformat::mxfp4: return "WEIGHT_MXFP4";
    case wformat::mxfp8: return "WEIGHT_MXFP8";
    }
    return "WEIGHT_F32";
}

uint64_t row_bytes(wformat f, uint64_t cols) {
    switch (f) {
    case wformat::f32: return cols * 4;
    case wformat::bf16: return cols * 2;
    case wformat::mxfp4: return cols / 2;
    case wformat::mxfp8: return cols;
    }
    return 0;
}

uint64_t row_scale_bytes(wformat f, uint64_t cols) {
    return (f == wformat::mxfp4 || f == wformat::mxfp8) ? cols / 32 : 0;
}

uint64_t device_weight::bytes() const {
    return uint64_t(rows) * (row_bytes(format, cols) + row_scale_bytes(format, cols));
}

uint32_t rows_per_chunk(wformat f, uint64_t cols, uint64_t max_range) {
    uint64_t rb = std::max<uint64_t>(row_bytes(f, cols), 1);
    uint64_t n = max_range / rb;
    // Scale chunks must start on a uint boundary: keep row counts a multiple of 4.
    n = n / 4 * 4;
    if (n == 0) fail(MLXMTP_ERR_UNSUPPORTED, "one weight row (%llu bytes) exceeds the device's binding range",
                     static_cast<unsigned long long>(rb));
    return static_cast<uint32_t>(std::min<uint64_t>(n, 0xffffffffu));
}

void linear(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y, uint32_t T) {
    if (!w.valid()) fail(MLXMTP_ERR_INTERNAL, "linear: weight not loaded");
    if ((w.format == wformat::bf16 && w.cols % 2) ||
        ((w.format == wformat::mxfp4 || w.format == wformat::mxfp8) && w.cols % 32))
        fail(MLXMTP_ERR_INTERNAL, "linear: %u columns do not fit format %s", w.cols, wformat_name(w.format));
    vk_device &dev = cs.device();
    for (uint32_t t0 = 0; t0 < T; t0 += 16) {
        uint32_t n = std::min<uint32_t>(16, T - t0);
        define_list d{{"N_COLS", std::to_string(n)}, {wformat_define(w.format), "1"}};
        const pipeline &p = dev.kernels().get("matvec", d);
        buffer_span xs = x.sub(uint64_t(t0) * w.cols * 4, uint64_t(n) * w.cols * 4);
        buffer_span ys = y.sub(uint64_t(t0) * w.rows * 4, uint64_t(n) * w.rows * 4);
        for (const weight_chunk &c : w.chunks) {
            struct {
                uint32_t M, K, ystride, row0;
            } pc{c.rows, w.cols, w.rows, c.row0};
            uint32_t gx, gy;
            grid_1d(dev, c.rows, &gx, &gy);
            cs.dispatch(p, {c.data, c.scales.valid() ? c.scales : c.data, xs, ys}, pc, gx, gy);
        }
    }
}

void embed(command_stream &cs, const device_weight &w, const buffer_span &ids, const buffer_span &y, uint32_t T) {
    if (!w.valid()) fail(MLXMTP_ERR_INTERNAL, "embed: weight not loaded");
    const pipeline &p = cs.device().kernels().get("embed", {{wformat_define(w.format), "1"}});
    for (const weight_chunk &c : w.chunks) {
        struct {
            uint32_t M, K, row0, T;
        } pc{c.rows, w.cols, c.row0, T};
        cs.dispatch(p, {c.data, c.scales.valid() ? c.scales : c.data, ids, y}, pc, T);
    }
}

void argmax(command_stream &cs, const buffer_span &logits, const buffer_span &out, uint32_t T, uint32_t V,
            uint32_t stride) {
    struct {
        uint32_t V, stride;
    } pc{V, stride};
    cs.dispatch(cs.device().kernels().get("argmax_f32"), {logits, out}, pc, T);
}

}  // namespace mlxmtp::detail::ops
