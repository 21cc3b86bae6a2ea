#include "vk/pipeline.h"

#include "util/fs.h"
#include "vk/device.h"
#include "vk/embedded_kernels.h"
#include "vk/vk_check.h"

#include <shaderc/shaderc.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mlxmtp::detail {

uint64_t fnv1a64(const void *data, size_t size, uint64_t h) {
    const auto *p = static_cast<const uint8_t *>(data);
    for (size_t i = 0; i < size; ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

namespace {

constexpr char kSpirvMagic[8] = {'M', 'L', 'X', 'S', 'P', 'V', '0', '1'};
constexpr char kPipelineMagic[8] = {'M', 'L', 'X', 'P', 'C', 'H', '0', '1'};
constexpr uint32_t kPipelineCacheFormat = 1;

struct spirv_file_header {
    char magic[8];
    uint64_t key;
    uint64_t payload_size;
    uint64_t checksum;
};
static_assert(sizeof(spirv_file_header) == 32, "layout");

struct pipeline_cache_header {
    char magic[8];
    uint32_t format_version;
    uint32_t library_version;
    uint32_t vendor_id;
    uint32_t device_id;
    uint32_t driver_version;
    uint32_t reserved0;
    uint8_t uuid[VK_UUID_SIZE];
    uint64_t data_size;
    uint64_t checksum;
    uint32_t reserved[4];
};
static_assert(sizeof(pipeline_cache_header) == 80, "layout");

std::string key_string(const std::string &name, const define_list &defs) {
    std::string k = name;
    for (auto &d : defs) {
        k += '|';
        k += d.first;
        k += '=';
        k += d.second;
    }
    return k;
}

struct include_ctx {
    const kernel_registry *reg;
};

shaderc_include_result *make_include_result(const std::string &name, const std::string &content) {
    auto *r = new shaderc_include_result;
    auto *n = new std::string(name);
    auto *c = new std::string(content);
    r->source_name = n->c_str();
    r->source_name_length = n->size();
    r->content = c->c_str();
    r->content_length = c->size();
    // user_data keeps both strings alive until release.
    r->user_data = new std::pair<std::string *, std::string *>(n, c);
    return r;
}

shaderc_include_result *resolve_include(void *user, const char *requested, int, const char *, size_t) {
    (void)user;
    std::string path = requested;
    try {
        return make_include_result(path, kernel_registry::source_of(path));
    } catch (const std::exception &e) {
        return make_include_result("", std::string("cannot include ") + path + ": " + e.what());
    }
}

void release_include(void *, shaderc_include_result *r) {
    auto *p = static_cast<std::pair<std::string *, std::string *> *>(r->user_data);
    delete p->first;
    delete p->second;
    delete p;
    delete r;
}

std::string shaderc_version_string() {
    unsigned int v = 0, rev = 0;
    shaderc_get_spv_version(&v, &rev);
    return strprintf("spv%u.%u", v, rev);
}

}  // namespace

// Development override (docs/debugging.md): MLXMTP_KERNEL_DIR, read once.
static const std::string &kernel_source_dir() {
    static const std::string dir = [] {
        const char *d = std::getenv("MLXMTP_KERNEL_DIR");
        return std::string(d ? d : "");
    }();
    return dir;
}

std::string kernel_registry::source_of(const std::string &path) {
    const std::string &dir = kernel_source_dir();
    if (!dir.empty()) {
        std::ifstream f(dir + "/" + path, std::ios::binary);
        if (f) {
            std::stringstream ss;
            ss << f.rdbuf();
            return ss.str();
        }
    }
    for (const embedded_kernel *k = k_embedded_kernels; k->path; ++k)
        if (path == k->path) return std::string(k->text, k->size);
    fail(MLXMTP_ERR_SHADER, "kernel source %s is not embedded in the library", path.c_str());
}

std::vector<std::string> kernel_registry::kernel_names() {
    std::vector<std::string> out;
    for (const embedded_kernel *k = k_embedded_kernels; k->path; ++k) {
        std::string p = k->path;
        if (p.size() > 5 && p.compare(p.size() - 5, 5, ".comp") == 0 && p.find('/') == std::string::npos)
            out.push_back(p.substr(0, p.size() - 5));
    }
    return out;
}

kernel_registry::kernel_registry(vk_device &dev) : dev_(dev) {
    const mlxmtp_device_info &info = dev.info();
    device_defines_.emplace_back("SUBGROUP_SIZE", std::to_string(info.subgroup_size ? info.subgroup_size : 1));
    if (info.features & MLXMTP_FEATURE_SUBGROUP_ARITH) device_defines_.emplace_back("HAS_SUBGROUP_ARITH", "1");
    if (info.features & MLXMTP_FEATURE_FP16) device_defines_.emplace_back("HAS_FP16", "1");
    if (info.features & MLXMTP_FEATURE_INT8) device_defines_.emplace_back("HAS_INT8", "1");
    if (info.features & MLXMTP_FEATURE_STORAGE8) device_defines_.emplace_back("HAS_STORAGE8", "1");
    if (dev.cooperative_matrix()) device_defines_.emplace_back("HAS_COOPMAT_NV", "1");
    cache_dir_ = dev.instance().options().cache_dir;
    load_pipeline_cache();
}

kernel_registry::~kernel_registry() {
    try {
        save_pipeline_cache();
    } catch (const std::exception &e) {
        dev_.log().logf(MLXMTP_LOG_WARN, "could not save the pipeline cache: %s", e.what());
    } catch (...) {
    }
    VkDevice d = dev_.handle();
    for (auto &kv : entries_) {
        pipeline &p = kv.second->p;
        if (p.handle) vkDestroyPipeline(d, p.handle, nullptr);
        if (p.layout) vkDestroyPipelineLayout(d, p.layout, nullptr);
        if (p.set_layout) vkDestroyDescriptorSetLayout(d, p.set_layout, nullptr);
    }
    if (cache_) vkDestroyPipelineCache(d, cache_, nullptr);
}

kernel_cache_stats kernel_registry::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

std::string kernel_registry::spirv_cache_dir() const {
    return cache_dir_.empty() ? std::string() : cache_dir_ + "/spirv";
}

std::string kernel_registry::pipeline_cache_path() const {
    if (cache_dir_.empty()) return {};
    const mlxmtp_device_info &i = dev_.info();
    return cache_dir_ + strprintf("/pipeline-%04x-%04x.bin", i.vendor_id, i.device_id);
}

std::vector<uint32_t> kernel_registry::compile(const std::string &name, const define_list &defines) {
    std::string source = source_of(name + ".comp");
    shaderc_compiler_t compiler = shaderc_compiler_initialize();
    shaderc_compile_options_t opts = shaderc_compile_options_initialize();
    if (!compiler || !opts) {
        if (compiler) shaderc_compiler_release(compiler);
        if (opts) shaderc_compile_options_release(opts);
        fail(MLXMTP_ERR_SHADER, "shaderc failed to initialise");
    }
    shaderc_compile_options_set_target_env(opts, shaderc_target_env_vulkan, shaderc_env_version_vulkan_1_2);
    shaderc_compile_options_set_target_spirv(opts, shaderc_spirv_version_1_5);
    // A kernel whose source asks for it is handed to the driver unoptimized:
    // spirv-opt fully unrolls every [[unroll]] loop itself, which took
    // minutes for the large matvec variants; drivers honour the hint.
    const bool driver_unroll = source.find("// mlxmtp-compile: driver-unroll") != std::string::npos;
    shaderc_compile_options_set_optimization_level(
        opts, driver_unroll ? shaderc_optimization_level_zero : shaderc_optimization_level_performance);
    shaderc_compile_options_set_include_callbacks(opts, resolve_include, release_include, nullptr);
    for (auto &d : defines)
        shaderc_compile_options_add_macro_definition(opts, d.first.c_str(), d.first.size(), d.second.c_str(),
                                                     d.second.size());
    shaderc_compilation_result_t res = shaderc_compile_into_spv(
        compiler, source.c_str(), source.size(), shaderc_compute_shader, (name + ".comp").c_str(), "main", opts);
    std::vector<uint32_t> out;
    std::string err;
    if (shaderc_result_get_compilation_status(res) == shaderc_compilation_status_success) {
        size_t n = shaderc_result_get_length(res);
        out.resize(n / 4);
        std::memcpy(out.data(), shaderc_result_get_bytes(res), n);
    } else {
        err = shaderc_result_get_error_message(res);
    }
    shaderc_result_release(res);
    shaderc_compile_options_release(opts);
    shaderc_compiler_release(compiler);
    if (out.empty()) fail(MLXMTP_ERR_SHADER, "kernel %s failed to compile:\n%s", name.c_str(), err.c_str());
    return out;
}

std::vector<uint32_t> kernel_registry::load_or_compile(const std::string &name, const define_list &all) {
    // Cache key: main source, every shared include, defines, compiler, target.
    std::string keymat = key_string(name, all) + "|" + shaderc_version_string() + "|vk1.2";
    uint64_t key = fnv1a64(keymat.data(), keymat.size());
    std::string src = source_of(name + ".comp");
    key = fnv1a64(src.data(), src.size(), key);
    for (const embedded_kernel *k = k_embedded_kernels; k->path; ++k)
        if (std::strncmp(k->path, "common/", 7) == 0) {
            std::string inc = source_of(k->path);
            key = fnv1a64(inc.data(), inc.size(), key);
        }
    std::string dir = spirv_cache_dir();
    std::string path = dir.empty() ? std::string() : dir + strprintf("/%016llx.spv", static_cast<unsigned long long>(key));

    if (!path.empty()) {
        std::vector<uint8_t> bytes;
        if (read_file(path, &bytes)) {
            spirv_file_header h;
            bool ok = bytes.size() >= sizeof h;
            if (ok) std::memcpy(&h, bytes.data(), sizeof h);
            ok = ok && std::memcmp(h.magic, kSpirvMagic, 8) == 0 && h.key == key &&
                 h.payload_size == bytes.size() - sizeof h && h.payload_size % 4 == 0 && h.payload_size >= 20 &&
                 h.checksum == fnv1a64(bytes.data() + sizeof h, h.payload_size);
            if (ok) {
                std::vector<uint32_t> code(h.payload_size / 4);
                std::memcpy(code.data(), bytes.data() + sizeof h, h.payload_size);
                if (code[0] == 0x07230203u) {
                    std::lock_guard<std::mutex> lock(mutex_);
                    ++stats_.spirv_hits;
                    return code;
                }
            }
            dev_.log().logf(MLXMTP_LOG_WARN, "kernel cache file %s is corrupt; rebuilding it", path.c_str());
            std::lock_guard<std::mutex> lock(mutex_);
            ++stats_.spirv_rejected;
        }
    }
    std::vector<uint32_t> code = compile(name, all);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++stats_.compiled;
    }
    if (!path.empty()) {
        spirv_file_header h;
        std::memcpy(h.magic, kSpirvMagic, 8);
        h.key = key;
        h.payload_size = code.size() * 4;
        h.checksum = fnv1a64(code.data(), h.payload_size);
        std::vector<uint8_t> bytes(sizeof h + h.payload_size);
        std::memcpy(bytes.data(), &h, sizeof h);
        std::memcpy(bytes.data() + sizeof h, code.data(), h.payload_size);
        try {
            make_dirs(dir);
            write_file_atomic(path, bytes.data(), bytes.size(), false);
        } catch (const std::exception &e) {
            dev_.log().logf(MLXMTP_LOG_WARN, "could not write kernel cache %s: %s", path.c_str(), e.what());
        }
    }
    return code;
}

void reflect_spirv(const std::vector<uint32_t> &spv, uint32_t *binding_count, uint32_t local_size[3]) {
    if (spv.size() < 5 || spv[0] != 0x07230203u) fail(MLXMTP_ERR_SHADER, "not SPIR-V");
    uint32_t max_binding = 0;
    bool any = false;
    local_size[0] = local_size[1] = local_size[2] = 1;
    for (size_t i = 5; i < spv.size();) {
        uint32_t op = spv[i] & 0xffffu, len = spv[i] >> 16;
        if (len == 0 || i + len > spv.size()) fail(MLXMTP_ERR_SHADER, "malformed SPIR-V");
        if (op == 71 && len >= 4 && spv[i + 2] == 33) {  // OpDecorate id Binding n
            max_binding = std::max(max_binding, spv[i + 3]);
            any = true;
        } else if (op == 16 && len >= 6 && spv[i + 2] == 17) {  // OpExecutionMode LocalSize x y z
            local_size[0] = spv[i + 3];
            local_size[1] = spv[i + 4];
            local_size[2] = spv[i + 5];
        }
        i += len;
    }
    *binding_count = any ? max_binding + 1 : 0;
}

pipeline kernel_registry::build(const std::string &name, const std::vector<uint32_t> &spirv) {
    VkDevice d = dev_.handle();
    pipeline p;
    p.name = name;
    reflect_spirv(spirv, &p.binding_count, p.local_size);

    std::vector<VkDescriptorSetLayoutBinding> bindings(p.binding_count);
    for (uint32_t i = 0; i < p.binding_count; ++i) {
        bindings[i] = {};
        bindings[i].binding = i;
        bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        bindings[i].descriptorCount = 1;
        bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    }
    VkDescriptorSetLayoutCreateInfo dl{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    if (dev_.push_descriptors()) dl.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
    dl.bindingCount = p.binding_count;
    dl.pBindings = bindings.data();
    VkShaderModule module = VK_NULL_HANDLE;
    try {
        MLXMTP_VK_CHECK(vkCreateDescriptorSetLayout(d, &dl, nullptr, &p.set_layout));
        VkPushConstantRange pc{VK_SHADER_STAGE_COMPUTE_BIT, 0, kMaxPushConstantBytes};
        VkPipelineLayoutCreateInfo pl{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
        pl.setLayoutCount = 1;
        pl.pSetLayouts = &p.set_layout;
        pl.pushConstantRangeCount = 1;
        pl.pPushConstantRanges = &pc;
        MLXMTP_VK_CHECK(vkCreatePipelineLayout(d, &pl, nullptr, &p.layout));
        VkShaderModuleCreateInfo sm{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
        sm.codeSize = spirv.size() * 4;
        sm.pCode = spirv.data();
        MLXMTP_VK_CHECK(vkCreateShaderModule(d, &sm, nullptr, &module));
        VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
        ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
        ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
        ci.stage.module = module;
        ci.stage.pName = "main";
        ci.layout = p.layout;
        if (dev_.pipeline_statistics()) ci.flags |= VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR;
        MLXMTP_VK_CHECK(vkCreateComputePipelines(d, cache_, 1, &ci, nullptr, &p.handle));
    } catch (...) {
        if (module) vkDestroyShaderModule(d, module, nullptr);
        if (p.layout) vkDestroyPipelineLayout(d, p.layout, nullptr);
        if (p.set_layout) vkDestroyDescriptorSetLayout(d, p.set_layout, nullptr);
        throw;
    }
    vkDestroyShaderModule(d, module, nullptr);
    return p;
}

const pipeline &kernel_registry::get(const std::string &name, const define_list &defines) {
    // The in-memory key leaves out the device defines (fixed per registry):
    // this lookup runs for every recorded dispatch, so it must stay cheap.
    std::string key = key_string(name, defines);
    entry *e;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        auto it = entries_.find(key);
        if (it != entries_.end()) {
            e = it->second.get();
            cv_.wait(lock, [&] { return e->ready || e->failed; });
            if (e->failed) fail(MLXMTP_ERR_SHADER, "%s", e->error.c_str());
            return e->p;
        }
        e = entries_.emplace(key, std::make_unique<entry>()).first->second.get();
    }
    // Compile outside the lock; other threads asking for this key wait on cv_.
    try {
        define_list all = device_defines_;
        all.insert(all.end(), defines.begin(), defines.end());
        std::vector<uint32_t> spirv = load_or_compile(name, all);
        pipeline p = build(name, spirv);
        std::lock_guard<std::mutex> lock(mutex_);
        e->p = p;
        e->ready = true;
    } catch (const std::exception &ex) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            e->failed = true;
            e->error = ex.what();
            entries_.erase(key);  // a later call may retry (e.g. after fixing the cache dir)
        }
        cv_.notify_all();
        throw;
    }
    cv_.notify_all();
    return e->p;
}

std::vector<std::pair<std::string, std::string>> kernel_registry::executable_statistics() {
    std::vector<std::pair<std::string, std::string>> out;
    if (!dev_.pipeline_statistics()) return out;
    VkDevice d = dev_.handle();
    auto get_stats = reinterpret_cast<PFN_vkGetPipelineExecutableStatisticsKHR>(
        vkGetDeviceProcAddr(d, "vkGetPipelineExecutableStatisticsKHR"));
    if (!get_stats) return out;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto &[key, e] : entries_) {
        if (!e->ready) continue;
        VkPipelineExecutableInfoKHR info{VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR};
        info.pipeline = e->p.handle;
        info.executableIndex = 0;  // a compute pipeline has one executable
        uint32_t n = 0;
        if (get_stats(d, &info, &n, nullptr) != VK_SUCCESS) continue;
        std::vector<VkPipelineExecutableStatisticKHR> st(n, {VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR});
        if (get_stats(d, &info, &n, st.data()) != VK_SUCCESS) continue;
        std::string line;
        for (uint32_t i = 0; i < n; ++i) {
            char v[64];
            switch (st[i].format) {
            case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: std::snprintf(v, sizeof v, "%u", st[i].value.b32); break;
            case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR:
                std::snprintf(v, sizeof v, "%lld", static_cast<long long>(st[i].value.i64));
                break;
            case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR:
                std::snprintf(v, sizeof v, "%llu", static_cast<unsigned long long>(st[i].value.u64));
                break;
            default: std::snprintf(v, sizeof v, "%g", st[i].value.f64); break;
            }
            if (!line.empty()) line += "; ";
            line += std::string(st[i].name) + " = " + v;
        }
        out.emplace_back(key, line);
    }
    return out;
}

void kernel_registry::load_pipeline_cache() {
    std::vector<uint8_t> data;
    std::string path = pipeline_cache_path();
    if (!path.empty()) {
        std::vector<uint8_t> bytes;
        if (read_file(path, &bytes)) {
            VkPhysicalDeviceProperties props;
            vkGetPhysicalDeviceProperties(dev_.physical(), &props);
            pipeline_cache_header h;
            bool ok = bytes.size() >= sizeof h;
            if (ok) std::memcpy(&h, bytes.data(), sizeof h);
            ok = ok && std::memcmp(h.magic, kPipelineMagic, 8) == 0 && h.format_version == kPipelineCacheFormat &&
                 h.library_version == MLXMTP_VERSION_NUMBER && h.vendor_id == props.vendorID &&
                 h.device_id == props.deviceID && h.driver_version == props.driverVersion &&
                 std::memcmp(h.uuid, props.pipelineCacheUUID, VK_UUID_SIZE) == 0 &&
                 h.data_size == bytes.size() - sizeof h &&
                 h.checksum == fnv1a64(bytes.data() + sizeof h, h.data_size);
            if (ok) {
                data.assign(bytes.begin() + sizeof h, bytes.end());
                stats_.pipeline_cache_loaded = true;
            } else {
                stats_.pipeline_cache_rejected = true;
                dev_.log().logf(MLXMTP_LOG_WARN, "pipeline cache %s is invalid or stale; rebuilding it",
                                path.c_str());
            }
        }
    }
    VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    ci.initialDataSize = data.size();
    ci.pInitialData = data.empty() ? nullptr : data.data();
    if (vkCreatePipelineCache(dev_.handle(), &ci, nullptr, &cache_) != VK_SUCCESS) {
        ci.initialDataSize = 0;
        ci.pInitialData = nullptr;
        stats_.pipeline_cache_loaded = false;
        MLXMTP_VK_CHECK(vkCreatePipelineCache(dev_.handle(), &ci, nullptr, &cache_));
    }
}

void kernel_registry::save_pipeline_cache() {
    std::string path = pipeline_cache_path();
    if (path.empty() || !cache_ || dev_.lost()) return;
    size_t n = 0;
    MLXMTP_VK_CHECK(vkGetPipelineCacheData(dev_.handle(), cache_, &n, nullptr));
    std::vector<uint8_t> bytes(sizeof(pipeline_cache_header) + n);
    MLXMTP_VK_CHECK(vkGetPipelineCacheData(dev_.handle(), cache_, &n, bytes.data() + sizeof(pipeline_cache_header)));
    bytes.resize(sizeof(pipeline_cache_header) + n);
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(dev_.physical(), &props);
    pipeline_cache_header h{};
    std::memcpy(h.magic, kPipelineMagic, 8);
    h.format_version = kPipelineCacheFormat;
    h.library_version = MLXMTP_VERSION_NUMBER;
    h.vendor_id = props.vendorID;
    h.device_id = props.deviceID;
    h.driver_version = props.driverVersion;
    std::memcpy(h.uuid, props.pipelineCacheUUID, VK_UUID_SIZE);
    h.data_size = n;
    h.checksum = fnv1a64(bytes.data() + sizeof h, n);
    std::memcpy(bytes.data(), &h, sizeof h);
    make_dirs(cache_dir_);
    write_file_atomic(path, bytes.data(), bytes.size(), false);
}

}  // namespace mlxmtp::detail
