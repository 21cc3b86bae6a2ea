// The Vulkan instance wrapper behind mlxmtp_instance: owns VkInstance, the
// optional validation messenger, the logger and the physical-device list.
// No Vulkan object is global: everything hangs off this object.
#pragma once
#include "mlxmtp.h"
#include "util/log.h"

#include <vulkan/vulkan.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mlxmtp::detail {

struct instance_options {
    bool validation = false;
    logger log;
    std::string cache_dir;           // "" = no disk cache
    uint64_t max_allocation_size = 0;  // testing cap, 0 = device limit
    uint64_t max_device_memory = 0;    // testing cap, 0 = none
    // Benchmarks: ask the driver for each pipeline's statistics (registers,
    // local memory, ...) through VK_KHR_pipeline_executable_properties where
    // the device has it (kernel_registry::executable_statistics).
    bool pipeline_statistics = false;
    // Experiments: enable VK_NV_cooperative_matrix (and the Vulkan memory
    // model its shaders need) where the device has both; kernels then see
    // HAS_COOPMAT_NV (the tensor-core matvec prototype, matvec_coop.comp).
    // Off by default: no library path uses it yet.
    bool cooperative_matrix = false;
    // Diagnostics (verify-bench --timeline): enable VK_KHR_shader_clock's
    // device clock (and VK_NV_shader_sm_builtins where the device has it) so
    // that kernels built with TIMELINE=1 can stamp their workgroups.
    bool shader_clock = false;
};

struct physical_device_desc {
    VkPhysicalDevice handle = VK_NULL_HANDLE;
    mlxmtp_device_info info{};  // fully filled, struct_size = sizeof
    uint32_t compute_queue_family = 0;
    std::vector<std::string> extensions;
    bool has_extension(const char *name) const;
};

class vk_instance {
public:
    explicit vk_instance(const instance_options &opt);
    ~vk_instance();
    vk_instance(const vk_instance &) = delete;
    vk_instance &operator=(const vk_instance &) = delete;

    VkInstance handle() const { return instance_; }
    const instance_options &options() const { return opt_; }
    const logger &log() const { return opt_.log; }
    const std::vector<physical_device_desc> &devices() const { return devices_; }

    // Validation messages of severity WARNING or ERROR seen so far (tests fail on any).
    uint64_t validation_issues() const { return validation_issues_.load(); }
    std::string last_validation_message() const;

private:
    static VKAPI_ATTR VkBool32 VKAPI_CALL debug_callback(
        VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
        const VkDebugUtilsMessengerCallbackDataEXT *data, void *user);
    void enumerate_devices();
    void release();

    instance_options opt_;
    VkInstance instance_ = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    std::vector<physical_device_desc> devices_;
    std::atomic<uint64_t> validation_issues_{0};
    mutable std::mutex validation_mutex_;  // guards last_validation_; leaf lock
    std::string last_validation_;
};

// Default kernel cache directory: $XDG_CACHE_HOME/mlxmtp or $HOME/.cache/mlxmtp.
std::string default_cache_dir();

}  // namespace mlxmtp::detail
