#include "vk/instance.h"

#include "vk/vk_check.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace mlxmtp::detail {

namespace {
const char *kValidationLayer = "VK_LAYER_KHRONOS_validation";

bool layer_available(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, nullptr) != VK_SUCCESS) return false;
    std::vector<VkLayerProperties> layers(n);
    if (vkEnumerateInstanceLayerProperties(&n, layers.data()) != VK_SUCCESS) return false;
    for (auto &l : layers)
        if (std::strcmp(l.layerName, name) == 0) return true;
    return false;
}

bool instance_extension_available(const char *name, const char *layer) {
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, nullptr) != VK_SUCCESS) return false;
    std::vector<VkExtensionProperties> ext(n);
    if (vkEnumerateInstanceExtensionProperties(layer, &n, ext.data()) != VK_SUCCESS) return false;
    for (auto &e : ext)
        if (std::strcmp(e.extensionName, name) == 0) return true;
    return false;
}
}  // namespace

std::string default_cache_dir() {
    const char *xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && *xdg) return std::string(xdg) + "/mlxmtp";
    const char *home = std::getenv("HOME");
    if (home && *home) return std::string(home) + "/.cache/mlxmtp";
    return "";
}

bool physical_device_desc::has_extension(const char *name) const {
    return std::find(extensions.begin(), extensions.end(), name) != extensions.end();
}

vk_instance::vk_instance(const instance_options &opt) : opt_(opt) {
    uint32_t loader_version = VK_API_VERSION_1_0;
    auto enum_version = reinterpret_cast<PFN_vkEnumerateInstanceVersion>(
        vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkEnumerateInstanceVersion"));
    if (!enum_version || enum_version(&loader_version) != VK_SUCCESS ||
        loader_version < VK_API_VERSION_1_2)
        fail(MLXMTP_ERR_NO_DEVICE, "the Vulkan loader is missing or older than 1.2");

    std::vector<const char *> layers, extensions;
    bool debug_utils = false;
    if (opt_.validation) {
        if (!layer_available(kValidationLayer))
            fail(MLXMTP_ERR_UNSUPPORTED,
                 "validation requested but %s is not installed (Debian: vulkan-validationlayers)",
                 kValidationLayer);
        layers.push_back(kValidationLayer);
    }
    if (instance_extension_available(VK_EXT_DEBUG_UTILS_EXTENSION_NAME, nullptr) ||
        (opt_.validation &&
         instance_extension_available(VK_EXT_DEBUG_UTILS_EXTENSION_NAME, kValidationLayer))) {
        extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        debug_utils = true;
    }

    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "mlxmtp";
    app.pEngineName = "mlxmtp";
    app.engineVersion = MLXMTP_VERSION_NUMBER;
    app.apiVersion = VK_API_VERSION_1_2;

    VkDebugUtilsMessengerCreateInfoEXT dbg{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    dbg.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                          VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    dbg.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    dbg.pfnUserCallback = &vk_instance::debug_callback;
    dbg.pUserData = this;

    VkValidationFeatureEnableEXT enables[] = {
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
    features.enabledValidationFeatureCount = 1;
    features.pEnabledValidationFeatures = enables;

    VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ci.pApplicationInfo = &app;
    ci.enabledLayerCount = static_cast<uint32_t>(layers.size());
    ci.ppEnabledLayerNames = layers.data();
    const void *chain = nullptr;
    if (opt_.validation && debug_utils) {
        dbg.pNext = chain;
        chain = &dbg;
        if (instance_extension_available(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME, kValidationLayer)) {
            extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
            features.pNext = chain;
            chain = &features;
        }
    }
    ci.pNext = chain;
    ci.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    ci.ppEnabledExtensionNames = extensions.data();

    VkResult r = vkCreateInstance(&ci, nullptr, &instance_);
    if (r != VK_SUCCESS) {
        instance_ = VK_NULL_HANDLE;
        fail(r == VK_ERROR_INCOMPATIBLE_DRIVER ? MLXMTP_ERR_NO_DEVICE : vk_result_status(r),
             "vkCreateInstance failed: %s", vk_result_name(r));
    }
    if (opt_.validation && debug_utils) {
        auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
        if (create) {
            dbg.pNext = nullptr;
            create(instance_, &dbg, nullptr, &messenger_);
        }
    }
    try {
        enumerate_devices();
    } catch (...) {
        release();
        throw;
    }
}

vk_instance::~vk_instance() { release(); }

void vk_instance::release() {
    if (messenger_ != VK_NULL_HANDLE) {
        auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
        if (destroy) destroy(instance_, messenger_, nullptr);
        messenger_ = VK_NULL_HANDLE;
    }
    if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
    instance_ = VK_NULL_HANDLE;
}

std::string vk_instance::last_validation_message() const {
    std::lock_guard<std::mutex> lock(validation_mutex_);
    return last_validation_;
}

VKAPI_ATTR VkBool32 VKAPI_CALL vk_instance::debug_callback(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    auto *self = static_cast<vk_instance *>(user);
    const char *msg = data && data->pMessage ? data->pMessage : "(no message)";
    bool is_error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
    if (severity & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)) {
        self->validation_issues_.fetch_add(1);
        {
            std::lock_guard<std::mutex> lock(self->validation_mutex_);
            self->last_validation_ = msg;
        }
        self->opt_.log.logf(is_error ? MLXMTP_LOG_ERROR : MLXMTP_LOG_WARN, "vulkan: %s", msg);
    }
    return VK_FALSE;
}

void vk_instance::enumerate_devices() {
    uint32_t n = 0;
    MLXMTP_VK_CHECK(vkEnumeratePhysicalDevices(instance_, &n, nullptr));
    std::vector<VkPhysicalDevice> pds(n);
    MLXMTP_VK_CHECK(vkEnumeratePhysicalDevices(instance_, &n, pds.data()));
    for (VkPhysicalDevice pd : pds) {
        physical_device_desc d;
        d.handle = pd;
        VkPhysicalDeviceProperties props;
        vkGetPhysicalDeviceProperties(pd, &props);
        if (props.apiVersion < VK_API_VERSION_1_2) continue;

        uint32_t qn = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(pd, &qn, nullptr);
        std::vector<VkQueueFamilyProperties> qf(qn);
        vkGetPhysicalDeviceQueueFamilyProperties(pd, &qn, qf.data());
        bool found = false;
        for (uint32_t i = 0; i < qn && !found; ++i)  // prefer a compute queue family
            if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) { d.compute_queue_family = i; found = true; }
        if (!found) continue;

        uint32_t en = 0;
        vkEnumerateDeviceExtensionProperties(pd, nullptr, &en, nullptr);
        std::vector<VkExtensionProperties> ext(en);
        vkEnumerateDeviceExtensionProperties(pd, nullptr, &en, ext.data());
        for (auto &e : ext) d.extensions.emplace_back(e.extensionName);

        VkPhysicalDeviceSubgroupProperties sg{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
        VkPhysicalDeviceMaintenance3Properties m3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
        VkPhysicalDeviceDriverProperties drv{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
        VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
        p2.pNext = &sg;
        sg.pNext = &m3;
        m3.pNext = &drv;
        vkGetPhysicalDeviceProperties2(pd, &p2);

        VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
        VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
        VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
        f2.pNext = &f11;
        f11.pNext = &f12;
        vkGetPhysicalDeviceFeatures2(pd, &f2);

        VkPhysicalDeviceMemoryProperties mem;
        vkGetPhysicalDeviceMemoryProperties(pd, &mem);

        mlxmtp_device_info &info = d.info;
        std::memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        info.index = static_cast<uint32_t>(devices_.size());
        std::snprintf(info.name, sizeof info.name, "%s", props.deviceName);
        std::snprintf(info.driver, sizeof info.driver, "%.120s %.120s", drv.driverName, drv.driverInfo);
        info.type = static_cast<uint32_t>(props.deviceType);
        info.vendor_id = props.vendorID;
        info.device_id = props.deviceID;
        info.api_version = props.apiVersion;
        for (uint32_t h = 0; h < mem.memoryHeapCount; ++h)
            if (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
                info.device_local_bytes = std::max<uint64_t>(info.device_local_bytes, mem.memoryHeaps[h].size);
        info.max_allocation_size = m3.maxMemoryAllocationSize;
        info.max_storage_buffer_range = props.limits.maxStorageBufferRange;
        info.max_allocation_count = props.limits.maxMemoryAllocationCount;
        info.subgroup_size = sg.subgroupSize;
        info.max_shared_memory = props.limits.maxComputeSharedMemorySize;
        uint32_t feat = 0;
        if (f12.shaderFloat16) feat |= MLXMTP_FEATURE_FP16;
        if (f12.shaderInt8) feat |= MLXMTP_FEATURE_INT8;
        if (f11.storageBuffer16BitAccess) feat |= MLXMTP_FEATURE_STORAGE16;
        if (f12.storageBuffer8BitAccess) feat |= MLXMTP_FEATURE_STORAGE8;
        if ((sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
            (sg.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT))
            feat |= MLXMTP_FEATURE_SUBGROUP_ARITH;
        if (d.has_extension("VK_KHR_cooperative_matrix")) feat |= MLXMTP_FEATURE_COOPMAT_KHR;
        if (d.has_extension("VK_NV_cooperative_matrix")) feat |= MLXMTP_FEATURE_COOPMAT_NV;
        if (d.has_extension("VK_KHR_shader_bfloat16")) feat |= MLXMTP_FEATURE_BFLOAT16;
        if (d.has_extension(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME)) feat |= MLXMTP_FEATURE_PUSH_DESCRIPTOR;
        if (f2.features.shaderInt64) feat |= MLXMTP_FEATURE_INT64;
        info.features = feat;
        devices_.push_back(std::move(d));
    }
}

}  // namespace mlxmtp::detail
