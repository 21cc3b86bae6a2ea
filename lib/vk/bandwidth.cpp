#include "vk/bandwidth.h"

#include "vk/command.h"
#include "vk/memory.h"
#include "vk/pipeline.h"

#include <algorithm>
#include <chrono>

namespace mlxmtp::detail {

double measure_copy_bandwidth(vk_device &dev, uint32_t mib, uint32_t reps) {
    uint64_t bytes = std::min<uint64_t>(uint64_t(mib) << 20, dev.max_allocation_size() / 2);
    bytes = std::min<uint64_t>(bytes, dev.info().device_local_bytes / 4);
    bytes = std::min<uint64_t>(bytes, dev.max_binding_range());
    bytes &= ~uint64_t(255);
    arena a(dev, false, bytes, "bandwidth test");
    buffer_span src = a.alloc(bytes, "copy source"), dst = a.alloc(bytes, "copy destination");
    // A compute copy (vkCmdCopyBuffer on a compute queue is much slower on some drivers).
    const pipeline &p = dev.kernels().get("copy_u32");
    struct {
        uint32_t n;
    } pc{static_cast<uint32_t>(bytes / 16)};
    const uint32_t groups = std::min<uint32_t>(65535, (pc.n + 255) / 256);
    command_stream cs(dev);
    cs.dispatch(p, {src, dst}, pc, groups);  // warm-up
    cs.submit();
    auto t0 = std::chrono::steady_clock::now();
    for (uint32_t i = 0; i < reps; ++i) {
        cs.dispatch(p, {i % 2 ? dst : src, i % 2 ? src : dst}, pc, groups);
        cs.barrier();
    }
    cs.submit();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return 2.0 * double(bytes) * reps / s / 1e9;
}

}  // namespace mlxmtp::detail
