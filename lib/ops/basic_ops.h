// Launchers for the foundation kernels: each records one dispatch (no
// barrier; callers put barriers between dependent ops).
#pragma once
#include "util/error.h"
#include "vk/command.h"

namespace mlxmtp::detail::ops {

// y[i] = alpha * a[i] + b[i], n floats.
void scale_add(command_stream &cs, const buffer_span &a, const buffer_span &b, const buffer_span &y, uint32_t n,
               float alpha);

// rows x cols fp32; w has cols floats.  one_plus: x*(1+w), else x*w.
// yp (optional, rows x cols words): y also as (hi, lo) fp16 pairs, the
// pre-split x of the fragment kernel (linear()'s xpairs; needs shaderFloat16);
// yp_f16: instead y rounded to fp16 in token-pair halves (rows / 2 rounded
// up x cols words; the xpairs of frag_weight::x16; needs 16-bit storage).
void rms_norm(command_stream &cs, const buffer_span &x, const buffer_span &w, const buffer_span &y, uint32_t rows,
              uint32_t cols, float eps, bool one_plus, const buffer_span &yp = {}, bool yp_f16 = false);

// s = a + b (the residual stream), then y = rms_norm(s) as above: one
// dispatch for a residual add and the norm that follows it.
void add_rms_norm(command_stream &cs, const buffer_span &a, const buffer_span &b, const buffer_span &w,
                  const buffer_span &s, const buffer_span &y, uint32_t rows, uint32_t cols, float eps, bool one_plus,
                  const buffer_span &yp = {}, bool yp_f16 = false);

// Reads src's whole 16-byte units into the L2 cache with `groups`
// workgroups (l2_prefetch.comp; kernel_tuning::l2_prefetch): recorded
// beside a stage that leaves memory idle, so that the next product finds
// its weight there.  sink (4 bytes) takes a write that practically never
// happens (it keeps the loads) and is never read.
void l2_prefetch(command_stream &cs, const buffer_span &src, const buffer_span &sink, uint32_t groups);

// Splits a 1-D grid over (x, y) so that x stays under the device's limit.
void grid_1d(const vk_device &dev, uint64_t groups, uint32_t *gx, uint32_t *gy);

}  // namespace mlxmtp::detail::ops
