// Device memory arenas: blocks capped by maxMemoryAllocationSize, bump
// sub-allocation, and the staging paths for uploads and downloads.
#pragma once
#include "vk/buffer_span.h"
#include "vk/device.h"

#include <string>
#include <vector>

namespace mlxmtp::detail {

class arena {
public:
    // block_size 0 = min(256 MiB, device max allocation).
    arena(vk_device &dev, bool host_visible, uint64_t block_size, std::string name);
    ~arena();
    arena(const arena &) = delete;
    arena &operator=(const arena &) = delete;

    // Aligned to the device's storage-buffer offset alignment.  Sizes above
    // the block size get a block of their own (up to the allocation limit).
    buffer_span alloc(uint64_t size, const char *what);
    void reset();     // forget all sub-allocations, keep the blocks
    void release();   // free every block
    uint64_t reserved_bytes() const;  // sum of block sizes
    uint64_t used_bytes() const { return used_; }

private:
    struct block {
        vk_device::allocation a;
        uint64_t top = 0;
    };
    vk_device &dev_;
    bool host_visible_;
    uint64_t block_size_;
    std::string name_;
    std::vector<block> blocks_;
    uint64_t used_ = 0;
};

// Copies between host memory and device spans (direct when mapped, through a
// temporary staging buffer and a transfer otherwise).
void upload(vk_device &dev, const buffer_span &dst, const void *src, uint64_t size);
void download(vk_device &dev, const buffer_span &src, void *dst, uint64_t size);

}  // namespace mlxmtp::detail
