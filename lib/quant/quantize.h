// Checkpoint-level MXFP4 / MXFP8 quantization (tensor level, no model
// instantiation): reads a safetensors checkpoint, writes an MLX-loadable
// quantized checkpoint.  The output directory appears complete in one step
// (temporary sibling directory renamed into place) and is byte-identical for
// any thread count.
#pragma once
#include "quant/mx.h"
#include "quant/policy.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mlxmtp::detail {

struct quantize_options {
    mx_mode mode = mx_mode::mxfp4;
    mx_scale_rule rule = mx_scale_rule::mlx_round;
    bool verify = false;
    bool force = false;             // replace a non-empty output directory
    unsigned threads = 0;           // 0 = hardware concurrency
    uint64_t shard_bytes = 0;       // 0 = 5 GiB
};

struct tensor_report {
    std::string name;
    dtype type = dtype::bf16;
    std::vector<int64_t> shape;
    keep_reason reason = keep_reason::quantize;
    double cosine = 0, rel_err = 0;  // valid when verified && reason == quantize
};

struct quantize_report {
    std::vector<tensor_report> tensors;  // sorted by name
    uint64_t n_quantized = 0, n_kept = 0, n_shards = 0;
    uint64_t src_bytes = 0;      // tensor bytes read from the source
    uint64_t dst_bytes = 0;      // bytes of the output safetensors files
    double seconds = 0;          // wall time of the whole run
    bool verified = false;
    double cos_mean = 0, cos_min = 0, rel_err_mean = 0, rel_err_max = 0;
    std::string worst_tensor;    // lowest cosine
    std::string kernel;          // "avx2" / "generic"
    unsigned threads = 0;
};

enum class quantize_phase : uint8_t { quantize, verify };

// Progress: called on the calling thread about every 100 ms and at the end
// of each phase; return false to abort (MLXMTP_ERR_ABORTED).
using quantize_progress = std::function<bool(quantize_phase, uint64_t done, uint64_t total)>;

quantize_report quantize_checkpoint(const std::string &src_dir, const std::string &dst_dir,
                                    const quantize_options &opt, const quantize_progress &progress);

// Testing hook: when > 0, the writer fails with an I/O error after this many
// tensor tasks (simulates a write failure mid-run).  Not thread-safe to change
// during a run.
void quantize_set_fail_after_tasks(int64_t n);

}  // namespace mlxmtp::detail
