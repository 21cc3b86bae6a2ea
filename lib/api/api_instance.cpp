// C ABI: versions, statuses, errors, logging, instances and devices.
#include "api/api_objects.h"
#include "vk/kernel_check.h"

#include <cctype>
#include <cstdlib>
#include <cstring>

using namespace mlxmtp::detail;

namespace mlxmtp::detail {
namespace {
thread_local std::string t_last_error;
}
void set_thread_error(const std::string &msg) { t_last_error = msg; }
const char *thread_error() { return t_last_error.c_str(); }
}  // namespace mlxmtp::detail

std::shared_ptr<vk_device> mlxmtp_instance::device(uint32_t index) {
    std::lock_guard<std::mutex> lock(devices_mutex_);
    if (index >= vk->devices().size())
        fail(MLXMTP_ERR_NO_DEVICE, "device index %u out of range (%zu devices)", index, vk->devices().size());
    if (devices_.size() < vk->devices().size()) devices_.resize(vk->devices().size());
    std::shared_ptr<vk_device> d = devices_[index].lock();
    if (!d) {
        d = std::make_shared<vk_device>(*vk, index);
        devices_[index] = d;
    }
    return d;
}

extern "C" {

MLXMTP_API uint32_t mlxmtp_version_number(void) { return MLXMTP_VERSION_NUMBER; }
MLXMTP_API const char *mlxmtp_version_string(void) { return MLXMTP_VERSION_STRING; }
MLXMTP_API uint32_t mlxmtp_abi_version(void) { return MLXMTP_ABI_VERSION; }

MLXMTP_API const char *mlxmtp_status_string(mlxmtp_status s) {
    switch (s) {
    case MLXMTP_OK: return "ok";
    case MLXMTP_ERR_INVALID_ARG: return "invalid argument";
    case MLXMTP_ERR_OUT_OF_MEMORY: return "out of host memory";
    case MLXMTP_ERR_DEVICE_OUT_OF_MEMORY: return "out of device memory";
    case MLXMTP_ERR_DEVICE_LOST: return "device lost";
    case MLXMTP_ERR_NO_DEVICE: return "no usable Vulkan device";
    case MLXMTP_ERR_VULKAN: return "Vulkan error";
    case MLXMTP_ERR_IO: return "I/O error";
    case MLXMTP_ERR_FORMAT: return "malformed file";
    case MLXMTP_ERR_CONFIG: return "invalid model configuration";
    case MLXMTP_ERR_UNSUPPORTED: return "unsupported";
    case MLXMTP_ERR_NOT_FOUND: return "not found";
    case MLXMTP_ERR_EXISTS: return "already exists";
    case MLXMTP_ERR_BUSY: return "busy";
    case MLXMTP_ERR_ABORTED: return "aborted";
    case MLXMTP_ERR_CONTEXT_FULL: return "context full";
    case MLXMTP_ERR_SHADER: return "kernel compilation failed";
    case MLXMTP_ERR_TEMPLATE: return "chat template error";
    case MLXMTP_ERR_NO_SPACE: return "not enough disk space";
    case MLXMTP_ERR_BAD_STATE: return "invalid in the current state";
    case MLXMTP_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case MLXMTP_ERR_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}

MLXMTP_API const char *mlxmtp_last_error(void) { return thread_error(); }

MLXMTP_API void mlxmtp_set_log_callback(mlxmtp_log_fn fn, void *user_data) {
    set_global_log_callback(fn, user_data);
}

MLXMTP_API void mlxmtp_instance_params_init(mlxmtp_instance_params *p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->log_level = MLXMTP_LOG_WARN;
}

MLXMTP_API mlxmtp_status mlxmtp_instance_create(const mlxmtp_instance_params *params, mlxmtp_instance **out) {
    if (out) *out = nullptr;
    return guard(nullptr, [&] {
        if (!out) fail(MLXMTP_ERR_INVALID_ARG, "out is NULL");
        mlxmtp_instance_params defaults;
        mlxmtp_instance_params_init(&defaults);
        mlxmtp_instance_params p = read_params(params, defaults);
        if (p.flags & ~(MLXMTP_INSTANCE_VALIDATION | MLXMTP_INSTANCE_TENSOR_CORES | MLXMTP_INSTANCE_NO_TENSOR_CORES))
            fail(MLXMTP_ERR_INVALID_ARG, "unknown instance flags 0x%x", p.flags);
        if ((p.flags & MLXMTP_INSTANCE_TENSOR_CORES) && (p.flags & MLXMTP_INSTANCE_NO_TENSOR_CORES))
            fail(MLXMTP_ERR_INVALID_ARG, "MLXMTP_INSTANCE_TENSOR_CORES and MLXMTP_INSTANCE_NO_TENSOR_CORES together");
        if (p.reserved0 != 0) fail(MLXMTP_ERR_INVALID_ARG, "reserved0 must be 0");
        instance_options opt;
        opt.validation = (p.flags & MLXMTP_INSTANCE_VALIDATION) != 0;
        opt.cooperative_matrix = (p.flags & MLXMTP_INSTANCE_NO_TENSOR_CORES) == 0;  // the default: on where present
        opt.log.fn = p.log_cb;
        opt.log.user_data = p.log_user_data;
        opt.log.level = p.log_level;
        opt.cache_dir = p.cache_dir ? std::string(p.cache_dir) : default_cache_dir();
        opt.max_allocation_size = p.max_allocation_size;
        opt.max_device_memory = p.max_device_memory;
        auto inst = std::make_unique<mlxmtp_instance>();
        inst->vk = std::make_unique<vk_instance>(opt);
        *out = inst.release();
        return MLXMTP_OK;
    });
}

MLXMTP_API void mlxmtp_instance_destroy(mlxmtp_instance *inst) {
    try {
        delete inst;
    } catch (...) {
    }
}

MLXMTP_API const char *mlxmtp_instance_last_error(const mlxmtp_instance *inst) {
    return inst ? inst->err.message.c_str() : "";
}

MLXMTP_API uint32_t mlxmtp_instance_device_count(const mlxmtp_instance *inst) {
    return inst && inst->vk ? static_cast<uint32_t>(inst->vk->devices().size()) : 0;
}

MLXMTP_API void mlxmtp_device_info_init(mlxmtp_device_info *info) {
    if (!info) return;
    std::memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
}

MLXMTP_API mlxmtp_status mlxmtp_instance_device_info(const mlxmtp_instance *inst, uint32_t index,
                                                     mlxmtp_device_info *info) {
    return guard(inst ? const_cast<error_slot *>(&inst->err) : nullptr, [&] {
        if (!inst || !info) fail(MLXMTP_ERR_INVALID_ARG, "instance or info is NULL");
        if (index >= inst->vk->devices().size())
            fail(MLXMTP_ERR_NO_DEVICE, "device index %u out of range (%zu devices)", index,
                 inst->vk->devices().size());
        write_info(info, inst->vk->devices()[index].info);
        return MLXMTP_OK;
    });
}

MLXMTP_API mlxmtp_status mlxmtp_instance_find_device(const mlxmtp_instance *inst, const char *name_substring,
                                                     uint32_t *index) {
    return guard(inst ? const_cast<error_slot *>(&inst->err) : nullptr, [&] {
        if (!inst || !name_substring || !index) fail(MLXMTP_ERR_INVALID_ARG, "NULL argument");
        auto lower = [](std::string s) {
            for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return s;
        };
        std::string want = lower(name_substring);
        const auto &devs = inst->vk->devices();
        for (size_t i = 0; i < devs.size(); ++i)
            if (lower(devs[i].info.name).find(want) != std::string::npos) {
                *index = static_cast<uint32_t>(i);
                return MLXMTP_OK;
            }
        fail(MLXMTP_ERR_NOT_FOUND, "no device name contains \"%s\"", name_substring);
    });
}

MLXMTP_API mlxmtp_status mlxmtp_instance_selftest(mlxmtp_instance *inst, uint32_t index, const char **report) {
    if (report) *report = "";
    return guard(inst ? &inst->err : nullptr, [&] {
        if (!inst) fail(MLXMTP_ERR_INVALID_ARG, "instance is NULL");
        std::shared_ptr<vk_device> dev = inst->device(index);
        std::string rep;
        bool all = true;
        for (const kernel_check &c : kernel_checks()) {
            kernel_check_result r = c.run(*dev, 12345);
            all = all && r.passed;
            rep += strprintf("%-16s %s  max rel error %.3g (tolerance %.3g)\n", r.name.c_str(),
                             r.passed ? "pass" : "FAIL", r.error, r.tolerance);
        }
        inst->report = rep;
        if (report) *report = inst->report.c_str();
        if (!all) fail(MLXMTP_ERR_INTERNAL, "kernel self-test failed:\n%s", rep.c_str());
        return MLXMTP_OK;
    });
}

}  // extern "C"
