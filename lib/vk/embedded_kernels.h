// The kernel sources embedded at build time (cmake/EmbedKernels.cmake).
#pragma once
#include <cstddef>

namespace mlxmtp::detail {

struct embedded_kernel {
    const char *path;  // relative to kernels/, e.g. "rms_norm_f32.comp", "common/types.glsl"
    const char *text;  // NUL-terminated source
    size_t size;
};

// Terminated by an entry whose path is nullptr.
extern const embedded_kernel k_embedded_kernels[];

}  // namespace mlxmtp::detail
