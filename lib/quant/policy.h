// Which tensors the quantizer converts and which it keeps in their source
// dtype (and why).  Name rules follow the original mlx-mtp quantizer: the
// vision tower and multimodal projector/merger, every MTP tensor and the
// recurrent (Gated DeltaNet) parameters are kept; so are norms, every tensor
// that is not a 2-D floating-point ".weight", and matrices whose last
// dimension is not a multiple of 32.
#pragma once
#include "io/safetensors.h"

#include <string>

namespace mlxmtp::detail {

enum class keep_reason : uint8_t {
    quantize = 0,   // not kept: quantized
    vision,         // vision tower / multimodal projector or merger
    mtp,            // multi-token-prediction head
    recurrent,      // A_log, dt_bias, conv1d (and other SSM parameters)
    norm,           // normalisation weights
    not_matrix,     // not a 2-D ".weight" (1-D, 3-D+, biases, ...)
    not_float,      // integer / already-quantized dtype
    unaligned,      // last dimension not a multiple of 32 (or empty)
};

const char *keep_reason_name(keep_reason r);  // "quantized", "vision", "mtp", ...
keep_reason decide_tensor(const std::string &name, dtype type, const std::vector<int64_t> &shape);
bool is_mtp_tensor(const std::string &name);

}  // namespace mlxmtp::detail
