// The range of a device buffer that kernels bind (its own header: the
// device and the memory arenas both use it).
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>

namespace mlxmtp::detail {

// A range of a VkBuffer that kernels bind.  `mapped` is non-null when the
// memory is host visible (then the host may read / write it directly).
struct buffer_span {
    VkBuffer buffer = VK_NULL_HANDLE;
    uint64_t offset = 0;
    uint64_t size = 0;
    uint8_t *mapped = nullptr;

    bool valid() const { return buffer != VK_NULL_HANDLE; }
    buffer_span sub(uint64_t off, uint64_t len) const;  // bounds-checked
};

}  // namespace mlxmtp::detail
