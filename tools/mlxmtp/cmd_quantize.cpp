// mlxmtp quantize: MXFP4 / MXFP8 quantization of a safetensors checkpoint
// through the public mlxmtp_quantize_file API.
#include "cli.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace mlxmtp_cli {
namespace {

struct quantize_opts {
    std::string src, out, mode = "mxfp4", scale_rule = "mlx", shard_size;
    bool verify = false, force = false, json = false;
    unsigned threads = 0;
};

struct tensor_row {
    std::string name, dtype, reason;
    std::vector<int64_t> shape;
    bool quantized = false, verified = false;
    double cosine = 0, rel_err = 0;
};

struct run_state {
    progress_bar *bar = nullptr;
    std::vector<tensor_row> rows;
};

int32_t on_event(const mlxmtp_quantize_event *ev, void *ud) {
    auto *st = static_cast<run_state *>(ud);
    if (ev->kind == MLXMTP_QUANTIZE_EVENT_PROGRESS) {
        if (st->bar && ev->bytes_total > 0) {
            char d[96];
            std::snprintf(d, sizeof d, "%s %.2f / %.2f GB",
                          ev->phase == MLXMTP_QUANTIZE_PHASE_VERIFY ? "verifying" : "quantizing",
                          ev->bytes_done / 1e9, ev->bytes_total / 1e9);
            st->bar->update(static_cast<double>(ev->bytes_done) / static_cast<double>(ev->bytes_total), d);
        }
    } else if (ev->kind == MLXMTP_QUANTIZE_EVENT_TENSOR) {
        tensor_row r;
        r.name = ev->tensor;
        r.dtype = ev->dtype;
        r.reason = ev->reason;
        r.shape.assign(ev->shape, ev->shape + ev->ndim);
        r.quantized = ev->quantized != 0;
        r.verified = ev->verified != 0;
        r.cosine = ev->cosine;
        r.rel_err = ev->rel_err;
        st->rows.push_back(std::move(r));
    }
    return 0;
}

// "5GiB", "500M", "1048576" -> bytes; false on junk.
bool parse_size(const std::string &s, uint64_t *out) {
    if (s.empty()) return false;
    errno = 0;
    char *end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (errno || end == s.c_str() || !(v > 0)) return false;
    std::string u(end);
    double mul = 1;
    if (u.empty() || u == "B") mul = 1;
    else if (u == "K" || u == "KiB") mul = 1024.0;
    else if (u == "M" || u == "MiB") mul = 1048576.0;
    else if (u == "G" || u == "GiB") mul = 1073741824.0;
    else if (u == "KB") mul = 1e3;
    else if (u == "MB") mul = 1e6;
    else if (u == "GB") mul = 1e9;
    else return false;
    double b = v * mul;
    if (b < 1 || b > 1.8e19) return false;
    *out = static_cast<uint64_t>(b);
    return true;
}

std::string shape_str(const std::vector<int64_t> &s) {
    std::string o = "[";
    for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
    return o + "]";
}

int run_quantize(const quantize_opts &o) {
    mlxmtp_quantize_params p;
    mlxmtp_quantize_params_init(&p);
    if (o.mode == "mxfp4") p.mode = MLXMTP_QUANT_MXFP4;
    else if (o.mode == "mxfp8") p.mode = MLXMTP_QUANT_MXFP8;
    else {
        std::fprintf(stderr, "error: --mode must be mxfp4 or mxfp8\n");
        return kExitUsage;
    }
    if (o.scale_rule == "mlx") p.scale_rule = MLXMTP_SCALE_RULE_MLX;
    else if (o.scale_rule == "round-up") p.scale_rule = MLXMTP_SCALE_RULE_ROUND_UP;
    else {
        std::fprintf(stderr, "error: --scale-rule must be mlx or round-up\n");
        return kExitUsage;
    }
    if (!o.shard_size.empty() && !parse_size(o.shard_size, &p.shard_size)) {
        std::fprintf(stderr, "error: --shard-size: cannot parse \"%s\" (e.g. 5GiB, 500MB, 1048576)\n",
                     o.shard_size.c_str());
        return kExitUsage;
    }
    if (o.verify) p.flags |= MLXMTP_QUANTIZE_VERIFY;
    if (o.force) p.flags |= MLXMTP_QUANTIZE_FORCE;
    p.threads = o.threads;
    mlxmtp_quantize_stats stats;
    mlxmtp_quantize_stats_init(&stats);
    p.stats = &stats;

    run_state st;
    progress_bar bar("quantize");
    st.bar = &bar;
    mlxmtp_status rc = mlxmtp_quantize_file(o.src.c_str(), o.out.c_str(), &p, on_event, &st);
    bar.finish();
    if (rc != MLXMTP_OK) return report_failure("quantize", rc, o.json);

    const double gbps = stats.seconds > 0 ? stats.src_bytes / 1e9 / stats.seconds : 0;
    const double tps = stats.seconds > 0 ? stats.n_tensors / stats.seconds : 0;
    if (o.json) {
        json_object *root = json_object_new_object();
        json_object_object_add(root, "src", json_object_new_string(o.src.c_str()));
        json_object_object_add(root, "out", json_object_new_string(o.out.c_str()));
        json_object_object_add(root, "mode", json_object_new_string(o.mode.c_str()));
        json_object_object_add(root, "scale_rule", json_object_new_string(o.scale_rule.c_str()));
        json_object_object_add(root, "tensors", json_object_new_int64(static_cast<int64_t>(stats.n_tensors)));
        json_object_object_add(root, "quantized", json_object_new_int64(static_cast<int64_t>(stats.n_quantized)));
        json_object_object_add(root, "kept", json_object_new_int64(static_cast<int64_t>(stats.n_kept)));
        json_object_object_add(root, "shards", json_object_new_int64(stats.n_shards));
        json_object_object_add(root, "src_bytes", json_object_new_int64(static_cast<int64_t>(stats.src_bytes)));
        json_object_object_add(root, "dst_bytes", json_object_new_int64(static_cast<int64_t>(stats.dst_bytes)));
        json_object_object_add(root, "seconds", json_object_new_double(stats.seconds));
        json_object_object_add(root, "gb_per_s", json_object_new_double(gbps));
        json_object_object_add(root, "tensors_per_s", json_object_new_double(tps));
        json_object_object_add(root, "threads", json_object_new_int64(stats.threads));
        if (stats.verified) {
            json_object *v = json_object_new_object();
            json_object_object_add(v, "cosine_mean", json_object_new_double(stats.cos_mean));
            json_object_object_add(v, "cosine_min", json_object_new_double(stats.cos_min));
            json_object_object_add(v, "rel_err_mean", json_object_new_double(stats.rel_err_mean));
            json_object_object_add(v, "rel_err_max", json_object_new_double(stats.rel_err_max));
            json_object_object_add(root, "verify", v);
        }
        json_object *arr = json_object_new_array();
        for (auto &r : st.rows) {
            json_object *t = json_object_new_object();
            json_object_object_add(t, "name", json_object_new_string(r.name.c_str()));
            json_object_object_add(t, "dtype", json_object_new_string(r.dtype.c_str()));
            json_object *sh = json_object_new_array();
            for (int64_t d : r.shape) json_object_array_add(sh, json_object_new_int64(d));
            json_object_object_add(t, "shape", sh);
            json_object_object_add(t, "action", json_object_new_string(r.quantized ? "quantized" : "kept"));
            if (!r.quantized) json_object_object_add(t, "reason", json_object_new_string(r.reason.c_str()));
            if (r.verified) {
                json_object_object_add(t, "cosine", json_object_new_double(r.cosine));
                json_object_object_add(t, "rel_err", json_object_new_double(r.rel_err));
            }
            json_object_array_add(arr, t);
        }
        json_object_object_add(root, "tensor_list", arr);
        print_json(root);
        return 0;
    }
    if (stats.verified) {
        std::printf("%-64s %-16s %10s %10s\n", "tensor", "shape", "cosine", "rel_err");
        for (auto &r : st.rows)
            if (r.verified)
                std::printf("%-64s %-16s %10.6f %10.6f\n", r.name.c_str(), shape_str(r.shape).c_str(), r.cosine,
                            r.rel_err);
        std::printf("verify: %llu tensors, cosine mean %.6f min %.6f, relative error mean %.6f max %.6f\n",
                    static_cast<unsigned long long>(stats.n_quantized), stats.cos_mean, stats.cos_min,
                    stats.rel_err_mean, stats.rel_err_max);
    }
    std::printf("%s: %llu tensors (%llu quantized to %s, %llu kept), %u shard(s), %.3f GB -> %.3f GB\n",
                o.out.c_str(), static_cast<unsigned long long>(stats.n_tensors),
                static_cast<unsigned long long>(stats.n_quantized), o.mode.c_str(),
                static_cast<unsigned long long>(stats.n_kept), stats.n_shards, stats.src_bytes / 1e9,
                stats.dst_bytes / 1e9);
    std::printf("%.2f s, %.1f tensors/s, %.2f GB/s (source), %u threads\n", stats.seconds, tps, gbps, stats.threads);
    return 0;
}

[[maybe_unused]] const bool registered = register_command(
    "quantize", "Quantize a safetensors checkpoint to MXFP4 or MXFP8 (MLX format)",
    [](CLI::App &sub) -> run_fn {
        auto o = std::make_shared<quantize_opts>();
        sub.add_option("--src", o->src, "Source checkpoint directory")->required();
        sub.add_option("--out", o->out, "Output directory (appears complete in one step)")->required();
        sub.add_option("--mode", o->mode, "mxfp4 (default) or mxfp8");
        sub.add_flag("--verify", o->verify, "Dequantize every quantized tensor and report cosine / relative error");
        sub.add_option("--shard-size", o->shard_size, "Maximum bytes per output file (default 5GiB)");
        sub.add_option("--threads", o->threads, "Worker threads (default: one per CPU)");
        sub.add_option("--scale-rule", o->scale_rule,
                       "mlx (MLX 0.29.4-0.32.x Metal, default) or round-up (MLX after PR #4353)");
        sub.add_flag("--force", o->force, "Replace a non-empty output directory");
        sub.add_flag("--json", o->json, "Machine-readable output");
        return [o] { return run_quantize(*o); };
    });

}  // namespace
}  // namespace mlxmtp_cli
