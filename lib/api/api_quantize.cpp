// C ABI of the quantizer: mlxmtp_quantize_file and its params/stats structs.
#include "api/api_common.h"
#include "quant/quantize.h"

#include <cmath>

using namespace mlxmtp::detail;

namespace {

mlxmtp_quantize_params default_params() {
    mlxmtp_quantize_params p;
    std::memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.mode = MLXMTP_QUANT_MXFP4;
    p.scale_rule = MLXMTP_SCALE_RULE_MLX;
    return p;
}

}  // namespace

extern "C" {

MLXMTP_API void mlxmtp_quantize_params_init(mlxmtp_quantize_params *p) {
    if (p) *p = default_params();
}

MLXMTP_API void mlxmtp_quantize_stats_init(mlxmtp_quantize_stats *stats) {
    if (!stats) return;
    std::memset(stats, 0, sizeof *stats);
    stats->struct_size = sizeof *stats;
}

MLXMTP_API mlxmtp_status mlxmtp_quantize_file(const char *src_dir, const char *dst_dir,
                                              const mlxmtp_quantize_params *params,
                                              mlxmtp_quantize_progress_fn progress_cb, void *user_data) {
    return guard(nullptr, [&]() -> mlxmtp_status {
        if (!src_dir || !dst_dir) fail(MLXMTP_ERR_INVALID_ARG, "mlxmtp_quantize_file: src_dir and dst_dir are required");
        mlxmtp_quantize_params p = read_params(params, default_params());
        if (p.mode != MLXMTP_QUANT_MXFP4 && p.mode != MLXMTP_QUANT_MXFP8)
            fail(MLXMTP_ERR_INVALID_ARG, "mlxmtp_quantize_file: unknown mode %u", p.mode);
        if (p.scale_rule != MLXMTP_SCALE_RULE_MLX && p.scale_rule != MLXMTP_SCALE_RULE_ROUND_UP)
            fail(MLXMTP_ERR_INVALID_ARG, "mlxmtp_quantize_file: unknown scale_rule %u", p.scale_rule);
        if (p.flags & ~(MLXMTP_QUANTIZE_FORCE | MLXMTP_QUANTIZE_VERIFY))
            fail(MLXMTP_ERR_INVALID_ARG, "mlxmtp_quantize_file: unknown flag bits 0x%x", p.flags);
        if (p.reserved0 != 0) fail(MLXMTP_ERR_INVALID_ARG, "mlxmtp_quantize_file: reserved0 must be 0");
        if (p.threads > 4096) fail(MLXMTP_ERR_INVALID_ARG, "mlxmtp_quantize_file: %u threads", p.threads);

        quantize_options o;
        o.mode = p.mode == MLXMTP_QUANT_MXFP8 ? mx_mode::mxfp8 : mx_mode::mxfp4;
        o.rule = p.scale_rule == MLXMTP_SCALE_RULE_ROUND_UP ? mx_scale_rule::round_up : mx_scale_rule::mlx_round;
        o.force = (p.flags & MLXMTP_QUANTIZE_FORCE) != 0;
        o.verify = (p.flags & MLXMTP_QUANTIZE_VERIFY) != 0;
        o.threads = p.threads;
        o.shard_bytes = p.shard_size;

        quantize_progress prog;
        if (progress_cb) {
            prog = [&](quantize_phase ph, uint64_t done, uint64_t total) {
                mlxmtp_quantize_event ev;
                std::memset(&ev, 0, sizeof ev);
                ev.struct_size = sizeof ev;
                ev.kind = MLXMTP_QUANTIZE_EVENT_PROGRESS;
                ev.phase = ph == quantize_phase::verify ? MLXMTP_QUANTIZE_PHASE_VERIFY : MLXMTP_QUANTIZE_PHASE_QUANTIZE;
                ev.bytes_done = done;
                ev.bytes_total = total;
                return progress_cb(&ev, user_data) == 0;
            };
        }
        quantize_report rep = quantize_checkpoint(src_dir, dst_dir, o, prog);

        if (progress_cb) {
            for (const tensor_report &t : rep.tensors) {
                mlxmtp_quantize_event ev;
                std::memset(&ev, 0, sizeof ev);
                ev.struct_size = sizeof ev;
                ev.kind = MLXMTP_QUANTIZE_EVENT_TENSOR;
                ev.quantized = t.reason == keep_reason::quantize;
                ev.tensor = t.name.c_str();
                ev.dtype = dtype_name(t.type);
                ev.reason = keep_reason_name(t.reason);
                ev.shape = t.shape.data();
                ev.ndim = static_cast<uint32_t>(t.shape.size());
                ev.verified = rep.verified && ev.quantized;
                ev.cosine = ev.verified ? t.cosine : NAN;
                ev.rel_err = ev.verified ? t.rel_err : NAN;
                if (progress_cb(&ev, user_data) != 0) break;  // the output is already complete
            }
        }
        if (p.stats) {
            mlxmtp_quantize_stats s;
            mlxmtp_quantize_stats_init(&s);
            s.n_shards = static_cast<uint32_t>(rep.n_shards);
            s.n_tensors = rep.tensors.size();
            s.n_quantized = rep.n_quantized;
            s.n_kept = rep.n_kept;
            s.src_bytes = rep.src_bytes;
            s.dst_bytes = rep.dst_bytes;
            s.seconds = rep.seconds;
            s.verified = rep.verified;
            s.threads = rep.threads;
            s.cos_mean = rep.cos_mean;
            s.cos_min = rep.cos_min;
            s.rel_err_mean = rep.rel_err_mean;
            s.rel_err_max = rep.rel_err_max;
            write_info(p.stats, s);
        }
        return MLXMTP_OK;
    });
}

}  // extern "C"
