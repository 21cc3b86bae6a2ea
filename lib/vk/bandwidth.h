// The device's copy ceiling: a device-to-device buffer copy, timed, counting
// bytes read plus bytes written (what decode speed is measured against).
#pragma once
#include "vk/device.h"

namespace mlxmtp::detail {

// Copies `mib` MiB `reps` times (after one warm-up) and returns GB/s of
// bytes read + written.
double measure_copy_bandwidth(vk_device &dev, uint32_t mib = 1024, uint32_t reps = 20);

}  // namespace mlxmtp::detail
