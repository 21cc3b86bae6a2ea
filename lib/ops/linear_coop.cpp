// EXPERIMENT: the tensor-core MXFP4 matrix-vector prototype's dispatch
// (kernels/matvec_coop.comp).  Benchmarks call it; no model path does.
#include "ops/linear.h"

#include "ops/basic_ops.h"

#include <string>

namespace mlxmtp::detail::ops {

void linear_matvec_coop(command_stream &cs, const device_weight &w, const buffer_span &x, const buffer_span &y,
                        uint32_t n, int32_t xexp, int32_t wexp) {
    vk_device &dev = cs.device();
    if (!dev.cooperative_matrix() || dev.info().subgroup_size != 32)
        fail(MLXMTP_ERR_UNSUPPORTED, "matvec_coop: needs VK_NV_cooperative_matrix and subgroup size 32");
    if (w.format != wformat::mxfp4 || n < 1 || n > 8 || w.cols % 512)
        fail(MLXMTP_ERR_UNSUPPORTED, "matvec_coop: MXFP4, 1..8 columns, K %% 512 == 0 only");
    define_list d{{"N_COLS", std::to_string(n)}};
    for (const auto &e : tuning().matvec_defines) d.push_back(e);  // experiments (e.g. PF)
    const pipeline &p = dev.kernels().get("matvec_coop", d);
    for (const weight_chunk &c : w.chunks) {
        struct {
            uint32_t M, K, ystride, row0;
            int32_t xexp, wexp;
        } pc{c.rows, w.cols, w.rows, c.row0, xexp, wexp};
        uint32_t gx, gy;
        grid_1d(dev, (c.rows + 15) / 16, &gx, &gy);
        if (gy != 1) fail(MLXMTP_ERR_UNSUPPORTED, "matvec_coop: too many rows for a 1-D grid");
        cs.dispatch(p, {c.data, c.scales, x, y}, pc, gx, gy);
    }
}

}  // namespace mlxmtp::detail::ops
