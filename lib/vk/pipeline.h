// The kernel registry: GLSL sources (embedded at build time, or read from a
// development directory) compiled at run time by shaderc with defines chosen
// from the device's features, cached at two levels:
//   1. SPIR-V files keyed by hash(source, includes, defines, compiler, target),
//      each with a header and a checksum of its contents;
//   2. the driver's VkPipelineCache blob in a file whose header is validated
//      (magic, format, library version, vendor / device / driver, UUID).
// Compilation is lazy and deduplicated; compiles run without holding locks.
#pragma once
#include <vulkan/vulkan.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mlxmtp::detail {

class vk_device;

using define_list = std::vector<std::pair<std::string, std::string>>;

// Push constants are at most this many bytes for every kernel.
constexpr uint32_t kMaxPushConstantBytes = 128;

struct pipeline {
    std::string name;            // kernel file stem, e.g. "rms_norm_f32"
    VkPipeline handle = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
    uint32_t binding_count = 0;  // storage buffers at bindings 0..n-1 (from SPIR-V reflection)
    uint32_t local_size[3] = {1, 1, 1};
};

struct kernel_cache_stats {
    uint64_t compiled = 0;          // shaderc compilations
    uint64_t spirv_hits = 0;        // SPIR-V loaded from disk
    uint64_t spirv_rejected = 0;    // cache files that failed validation (then rebuilt)
    bool pipeline_cache_loaded = false;
    bool pipeline_cache_rejected = false;
};

class kernel_registry {
public:
    explicit kernel_registry(vk_device &dev);
    ~kernel_registry();  // saves the pipeline cache, destroys pipelines

    // The pipeline for kernels/<name>.comp with `defines` added to the
    // device defines.  Thread-safe; compiles on first use.
    const pipeline &get(const std::string &name, const define_list &defines = {});

    // Compiles GLSL to SPIR-V (used by get(); public for tests and `info`).
    std::vector<uint32_t> compile(const std::string &name, const define_list &defines);

    const define_list &device_defines() const { return device_defines_; }
    kernel_cache_stats stats() const;
    std::string spirv_cache_dir() const;
    std::string pipeline_cache_path() const;
    void save_pipeline_cache();  // atomic write; also called by the destructor

    // The driver's statistics of every pipeline built so far, as one line of
    // "name = value" pairs per pipeline keyed by kernel and defines (empty
    // unless the device captures them: vk_device::pipeline_statistics).
    std::vector<std::pair<std::string, std::string>> executable_statistics();

    // Every kernel source name known (file stems of *.comp).
    static std::vector<std::string> kernel_names();
    static std::string source_of(const std::string &path);  // embedded text; throws if absent

private:
    struct entry {
        bool ready = false;
        bool failed = false;
        std::string error;
        pipeline p;
    };
    std::vector<uint32_t> load_or_compile(const std::string &name, const define_list &all);
    pipeline build(const std::string &name, const std::vector<uint32_t> &spirv);
    void load_pipeline_cache();

    vk_device &dev_;
    define_list device_defines_;
    VkPipelineCache cache_ = VK_NULL_HANDLE;
    std::string cache_dir_;
    mutable std::mutex mutex_;  // guards entries_ and stats_; leaf lock (never held while compiling)
    std::condition_variable cv_;
    std::map<std::string, std::unique_ptr<entry>> entries_;
    kernel_cache_stats stats_;
};

// 64-bit FNV-1a, used for cache keys and file checksums.
uint64_t fnv1a64(const void *data, size_t size, uint64_t seed = 1469598103934665603ull);

// Minimal SPIR-V reflection: number of descriptor bindings in set 0 and the
// LocalSize execution mode.  Throws MLXMTP_ERR_SHADER on malformed code.
void reflect_spirv(const std::vector<uint32_t> &spirv, uint32_t *binding_count, uint32_t local_size[3]);

}  // namespace mlxmtp::detail
