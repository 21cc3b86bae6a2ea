// Command recording: many dispatches per command buffer, conservative
// compute barriers between dependent dispatches.  flush() hands what was
// recorded to the queue without waiting (the GPU starts while the CPU records
// the rest); submit() submits the remainder and waits for everything.
// Each command_stream owns its command pool, fences and (without push
// descriptors) a descriptor pool, so streams on different threads never share
// externally synchronised objects; only vkQueueSubmit is serialised (device).
#pragma once
#include "vk/device.h"
#include "vk/memory.h"
#include "vk/pipeline.h"
#include "vk/profile.h"

#include <chrono>
#include <string>

#include <initializer_list>
#include <type_traits>
#include <vector>

namespace mlxmtp::detail {

class command_stream {
public:
    explicit command_stream(vk_device &dev);
    ~command_stream();
    command_stream(const command_stream &) = delete;
    command_stream &operator=(const command_stream &) = delete;

    vk_device &device() const { return dev_; }

    // Records a dispatch.  `buffers` bind to 0..n-1 and must match the
    // kernel's binding count; `push` is at most kMaxPushConstantBytes.
    void dispatch(const pipeline &p, std::initializer_list<buffer_span> buffers, const void *push,
                  uint32_t push_size, uint32_t gx, uint32_t gy = 1, uint32_t gz = 1);
    void dispatch(const pipeline &p, const std::vector<buffer_span> &buffers, const void *push,
                  uint32_t push_size, uint32_t gx, uint32_t gy = 1, uint32_t gz = 1);
    // (Not for pointers or nullptr: `dispatch(p, {b}, nullptr, 0, 1)` once
    // picked this overload, T = nullptr_t, and dispatched 0 workgroups.)
    template <class T, class = std::enable_if_t<!std::is_pointer_v<T> && !std::is_null_pointer_v<T>>>
    void dispatch(const pipeline &p, std::initializer_list<buffer_span> buffers, const T &push,
                  uint32_t gx, uint32_t gy = 1, uint32_t gz = 1) {
        static_assert(sizeof(T) <= kMaxPushConstantBytes, "push constants too large");
        dispatch(p, buffers, &push, sizeof(T), gx, gy, gz);
    }

    // Makes all earlier shader / transfer writes visible to later commands.
    void barrier();
    // Timing only (wrong results): barrier() records nothing.
    bool diag_no_barriers = false;
    void copy(const buffer_span &src, const buffer_span &dst, uint64_t size);
    void fill_zero(const buffer_span &dst);

    // Submits what was recorded without waiting; later commands are ordered
    // after it by a barrier.  A no-op while profiling (timestamps need one
    // command buffer).
    void flush();
    // Submits what was recorded and waits for it and every flushed part; the
    // stream is reusable afterwards.
    void submit();
    uint32_t recorded() const { return recorded_; }
    // The current stage, a number unique on the device (vk_device::
    // next_serial) that barrier(), flush() and submit() renew: commands
    // recorded under one value may run at the same time.
    uint64_t stage() const { return stage_; }
    // Claims a resource that one dispatch at a time may use (cross-workgroup
    // scratch): fails (MLXMTP_ERR_INTERNAL, naming `what`) if `last_stage`
    // is already this stage, else sets it to this stage.
    void claim_stage(uint64_t &last_stage, const char *what) const;

    // Profiling (development tools only; see vk/profile.h).  `section` names
    // the part of the model being recorded; it prefixes profile entries.
    void set_profile(gpu_profile *p);
    void section(const char *name) { section_ = name; }

private:
    struct slot {
        VkCommandBuffer cb = VK_NULL_HANDLE;
        VkFence fence = VK_NULL_HANDLE;
        bool pending = false;  // submitted, not yet waited for
    };
    static constexpr uint32_t kSlots = 4;
    void begin_if_needed();
    void dispatch_impl(const pipeline &p, const buffer_span *buffers, size_t n, const void *push, uint32_t push_size,
                       uint32_t gx, uint32_t gy, uint32_t gz);
    void wait_pending();  // waits for and recycles every flushed slot
    void mark(const char *what);  // profile timestamp after a command
    void collect_profile();

    vk_device &dev_;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    slot slots_[kSlots];
    uint32_t cur_ = 0;                // the slot being recorded
    VkCommandBuffer cb_ = VK_NULL_HANDLE;  // slots_[cur_].cb
    bool after_flush_ = false;        // the next command buffer starts with a barrier
    std::vector<VkDescriptorPool> desc_pools_;  // fallback path only
    uint32_t desc_pool_used_ = 0;               // sets allocated from desc_pools_.back()
    bool recording_ = false;
    uint32_t recorded_ = 0;
    uint64_t stage_ = 0;
    gpu_profile *profile_ = nullptr;
    VkQueryPool queries_ = VK_NULL_HANDLE;
    uint32_t query_cap_ = 0, query_used_ = 0;
    std::vector<std::string> query_labels_;
    const char *section_ = "";
    std::chrono::steady_clock::time_point record_start_;
};

}  // namespace mlxmtp::detail
