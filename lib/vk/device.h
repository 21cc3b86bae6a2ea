// One logical Vulkan device: the queue (with its submit mutex), memory types,
// allocation accounting under the device limits, and the kernel registry.
// Shared (std::shared_ptr) by every model and session that uses it.
#pragma once
#include "util/error.h"
#include "vk/instance.h"
#include "vk/buffer_span.h"

#include <vulkan/vulkan.h>

#include <atomic>
#include <memory>
#include <vector>
#include <mutex>

namespace mlxmtp::detail {

class kernel_registry;

class vk_device {
public:
    vk_device(vk_instance &inst, uint32_t index);
    ~vk_device();
    vk_device(const vk_device &) = delete;
    vk_device &operator=(const vk_device &) = delete;

    vk_instance &instance() const { return inst_; }
    const logger &log() const { return inst_.log(); }
    VkDevice handle() const { return device_; }
    VkPhysicalDevice physical() const { return desc_.handle; }
    const physical_device_desc &desc() const { return desc_; }
    const mlxmtp_device_info &info() const { return desc_.info; }
    const VkPhysicalDeviceLimits &limits() const { return limits_; }
    uint32_t queue_family() const { return desc_.compute_queue_family; }
    bool push_descriptors() const { return push_descriptors_; }
    // Pipelines are built with their statistics captured (instance option
    // pipeline_statistics, and the device has the extension).
    bool pipeline_statistics() const { return pipeline_statistics_; }
    // VK_NV_cooperative_matrix enabled (instance_options::cooperative_matrix).
    bool cooperative_matrix() const { return cooperative_matrix_; }
    // The multiply-add shapes the driver lists for VK_NV_cooperative_matrix
    // (empty when not enabled), e.g. "16x8x16 f16*f16+f32->f32 subgroup".
    struct coop_shape {
        uint32_t M = 0, N = 0, K = 0;
        VkComponentTypeNV a{}, b{}, c{}, d{};
        VkScopeNV scope{};
    };
    const std::vector<coop_shape> &cooperative_matrix_shapes() const { return coop_shapes_; }
    // Diagnostics (instance_options::shader_clock): the device clock and the
    // SM id builtins are enabled; a valid timeline() makes the tensor-core
    // matvec stamp every workgroup into it (ops::frag_dispatch, TIMELINE=1;
    // the owner records and reads it; verify-bench --timeline; one session
    // recording at a time).  set_timeline also restarts the record count;
    // timeline_records(n) hands a dispatch of n workgroups its first record,
    // timeline_count() is how many were handed out.
    bool shader_clock() const { return shader_clock_; }
    bool sm_builtins() const { return sm_builtins_; }
    // A number no earlier call on this device returned (command_stream's
    // stages; any thread).
    uint64_t next_serial() { return ++serial_; }
    const buffer_span &timeline() const { return timeline_; }
    void set_timeline(const buffer_span &b) { timeline_ = b, timeline_count_ = 0; }
    uint32_t timeline_records(uint32_t n) { return (timeline_count_ += n) - n; }
    uint32_t timeline_count() const { return timeline_count_; }
    PFN_vkCmdPushDescriptorSetKHR push_descriptor_fn() const { return push_descriptor_fn_; }
    kernel_registry &kernels() { return *kernels_; }

    // Effective caps (device limits, possibly lowered by testing knobs).
    uint64_t max_allocation_size() const { return max_allocation_size_; }
    uint64_t max_binding_range() const { return desc_.info.max_storage_buffer_range; }
    uint64_t storage_alignment() const { return storage_alignment_; }

    // Memory: raw allocations, accounted against the caps.  `host_visible`
    // asks for mappable memory (staging); otherwise device-local is preferred.
    struct allocation {
        VkDeviceMemory memory = VK_NULL_HANDLE;
        VkBuffer buffer = VK_NULL_HANDLE;
        uint64_t size = 0;
        uint8_t *mapped = nullptr;  // non-null when host visible
    };
    allocation allocate(uint64_t size, bool host_visible, const char *what);
    void free(allocation &a);
    uint64_t allocated_bytes() const { return allocated_.load(); }
    uint64_t peak_allocated_bytes() const { return peak_.load(); }

    // Submits one command buffer and waits for it.  Device loss is sticky.
    void submit_and_wait(VkCommandBuffer cb, VkFence fence);
    // Submits without waiting; wait_and_reset(fence) completes it.
    void submit_async(VkCommandBuffer cb, VkFence fence);
    void wait_and_reset(VkFence fence);
    bool lost() const { return lost_.load(); }

private:
    uint32_t find_memory_type(uint32_t type_bits, VkMemoryPropertyFlags required,
                              VkMemoryPropertyFlags preferred) const;

    vk_instance &inst_;
    physical_device_desc desc_;
    VkPhysicalDeviceLimits limits_{};
    VkPhysicalDeviceMemoryProperties mem_props_{};
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    std::mutex submit_mutex_;  // guards queue_ (vkQueueSubmit); leaf lock
    bool push_descriptors_ = false;
    bool pipeline_statistics_ = false;
    bool cooperative_matrix_ = false;
    std::vector<coop_shape> coop_shapes_;
    bool shader_clock_ = false, sm_builtins_ = false;
    buffer_span timeline_;
    uint32_t timeline_count_ = 0;
    std::atomic<uint64_t> serial_{0};
    PFN_vkCmdPushDescriptorSetKHR push_descriptor_fn_ = nullptr;
    uint64_t max_allocation_size_ = 0;
    uint64_t storage_alignment_ = 256;
    std::atomic<uint64_t> allocated_{0}, peak_{0};
    std::atomic<uint32_t> allocation_count_{0};
    std::atomic<bool> lost_{false};
    std::unique_ptr<kernel_registry> kernels_;
};

}  // namespace mlxmtp::detail
