#include "vk/memory.h"

#include "vk/command.h"

#include <algorithm>
#include <cstring>

namespace mlxmtp::detail {

buffer_span buffer_span::sub(uint64_t off, uint64_t len) const {
    if (off > size || len > size - off)
        fail(MLXMTP_ERR_INTERNAL, "buffer sub-range [%llu, +%llu) outside span of %llu bytes",
             static_cast<unsigned long long>(off), static_cast<unsigned long long>(len),
             static_cast<unsigned long long>(size));
    buffer_span s = *this;
    s.offset += off;
    s.size = len;
    if (mapped) s.mapped = mapped + off;
    return s;
}

arena::arena(vk_device &dev, bool host_visible, uint64_t block_size, std::string name)
    : dev_(dev), host_visible_(host_visible), block_size_(block_size), name_(std::move(name)) {
    uint64_t cap = dev.max_allocation_size();
    if (block_size_ == 0) block_size_ = std::min<uint64_t>(256ull << 20, cap);
    block_size_ = std::min(block_size_, cap);
}

arena::~arena() { release(); }

buffer_span arena::alloc(uint64_t size, const char *what) {
    const uint64_t align = dev_.storage_alignment();
    // Spans are whole uints: shaders read byte arrays (MX scales) as uint[].
    size = size == 0 ? 4 : (size + 3) / 4 * 4;
    uint64_t need = (size + align - 1) / align * align;
    for (block &b : blocks_) {
        if (b.top + need <= b.a.size) {
            buffer_span s{b.a.buffer, b.top, size, b.a.mapped ? b.a.mapped + b.top : nullptr};
            b.top += need;
            used_ += need;
            return s;
        }
    }
    uint64_t bsize = std::max(block_size_, need);
    block b;
    b.a = dev_.allocate(bsize, host_visible_, what);
    buffer_span s{b.a.buffer, 0, size, b.a.mapped};
    b.top = need;
    used_ += need;
    blocks_.push_back(b);
    return s;
}

void arena::reset() {
    for (block &b : blocks_) b.top = 0;
    used_ = 0;
}

void arena::release() {
    for (block &b : blocks_) dev_.free(b.a);
    blocks_.clear();
    used_ = 0;
}

uint64_t arena::reserved_bytes() const {
    uint64_t n = 0;
    for (const block &b : blocks_) n += b.a.size;
    return n;
}

namespace {
// Chunked staging copies keep the temporary buffer small.
constexpr uint64_t kStagingChunk = 64ull << 20;

template <class F>
void staged(vk_device &dev, uint64_t size, F &&fn) {
    uint64_t chunk = std::min<uint64_t>({kStagingChunk, size, dev.max_allocation_size()});
    vk_device::allocation st = dev.allocate(chunk, true, "staging buffer");
    try {
        command_stream cs(dev);
        for (uint64_t off = 0; off < size; off += chunk) fn(cs, st, off, std::min(chunk, size - off));
    } catch (...) {
        dev.free(st);
        throw;
    }
    dev.free(st);
}
}  // namespace

void upload(vk_device &dev, const buffer_span &dst, const void *src, uint64_t size) {
    if (size > dst.size) fail(MLXMTP_ERR_INTERNAL, "upload larger than its destination");
    if (dst.mapped) {
        std::memcpy(dst.mapped, src, size);
        return;
    }
    staged(dev, size, [&](command_stream &cs, vk_device::allocation &st, uint64_t off, uint64_t n) {
        std::memcpy(st.mapped, static_cast<const uint8_t *>(src) + off, n);
        cs.copy(buffer_span{st.buffer, 0, n, st.mapped}, dst.sub(off, n), n);
        cs.submit();
    });
}

void download(vk_device &dev, const buffer_span &src, void *dst, uint64_t size) {
    if (size > src.size) fail(MLXMTP_ERR_INTERNAL, "download larger than its source");
    if (src.mapped) {
        std::memcpy(dst, src.mapped, size);
        return;
    }
    staged(dev, size, [&](command_stream &cs, vk_device::allocation &st, uint64_t off, uint64_t n) {
        cs.copy(src.sub(off, n), buffer_span{st.buffer, 0, n, st.mapped}, n);
        cs.submit();
        std::memcpy(static_cast<uint8_t *>(dst) + off, st.mapped, n);
    });
}

}  // namespace mlxmtp::detail
