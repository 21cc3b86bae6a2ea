#include "vk/device.h"

#include "vk/pipeline.h"
#include "vk/vk_check.h"

#include <algorithm>
#include <cstring>

namespace mlxmtp::detail {

vk_device::vk_device(vk_instance &inst, uint32_t index) : inst_(inst) {
    if (index >= inst.devices().size())
        fail(MLXMTP_ERR_NO_DEVICE, "device index %u out of range (%zu devices)", index,
             inst.devices().size());
    desc_ = inst.devices()[index];
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(desc_.handle, &props);
    limits_ = props.limits;
    vkGetPhysicalDeviceMemoryProperties(desc_.handle, &mem_props_);

    VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceFeatures2 avail{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    avail.pNext = &f11;
    f11.pNext = &f12;
    vkGetPhysicalDeviceFeatures2(desc_.handle, &avail);

    // One extension's feature struct as the device reports it.
    auto queried = [&](auto have) {
        VkPhysicalDeviceFeatures2 q2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
        q2.pNext = &have;
        vkGetPhysicalDeviceFeatures2(desc_.handle, &q2);
        return have;
    };

    // Enable only what the kernels may use.
    VkPhysicalDeviceVulkan11Features e11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    VkPhysicalDeviceVulkan12Features e12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceFeatures2 en{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    en.pNext = &e11;
    e11.pNext = &e12;
    e11.storageBuffer16BitAccess = f11.storageBuffer16BitAccess;
    e12.storageBuffer8BitAccess = f12.storageBuffer8BitAccess;
    e12.shaderFloat16 = f12.shaderFloat16;
    e12.shaderInt8 = f12.shaderInt8;
    en.features.shaderInt64 = avail.features.shaderInt64;
    en.features.shaderInt16 = avail.features.shaderInt16;

    std::vector<const char *> exts;
    if (desc_.has_extension(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME)) {
        exts.push_back(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
        push_descriptors_ = true;
    }
    VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR pe{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR};
    if (inst.options().pipeline_statistics &&
        desc_.has_extension(VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME)) {
        exts.push_back(VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);
        pe.pipelineExecutableInfo = VK_TRUE;
        e12.pNext = &pe;
        pipeline_statistics_ = true;
    }

    VkPhysicalDeviceCooperativeMatrixFeaturesNV cm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    if (inst.options().cooperative_matrix && desc_.has_extension(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME) &&
        f12.vulkanMemoryModel && f12.shaderFloat16 && f12.storageBuffer8BitAccess) {
        if (queried(VkPhysicalDeviceCooperativeMatrixFeaturesNV{
                        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV})
                .cooperativeMatrix) {
            exts.push_back(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
            cm.cooperativeMatrix = VK_TRUE;
            cm.pNext = en.pNext;  // chain in front of the 1.1 / 1.2 features
            en.pNext = &cm;
            e12.vulkanMemoryModel = VK_TRUE;
            cooperative_matrix_ = true;
            auto props_fn = reinterpret_cast<PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV>(
                vkGetInstanceProcAddr(inst.handle(), "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV"));
            uint32_t n = 0;
            if (props_fn && props_fn(desc_.handle, &n, nullptr) == VK_SUCCESS && n) {
                std::vector<VkCooperativeMatrixPropertiesNV> v(n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV});
                if (props_fn(desc_.handle, &n, v.data()) == VK_SUCCESS)
                    for (uint32_t i = 0; i < n; ++i)
                        coop_shapes_.push_back({v[i].MSize, v[i].NSize, v[i].KSize, v[i].AType, v[i].BType,
                                                v[i].CType, v[i].DType, v[i].scope});
            }
        }
    }

    // Diagnostics: the device clock and SM ids (instance_options::shader_clock).
    VkPhysicalDeviceShaderClockFeaturesKHR clk{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CLOCK_FEATURES_KHR};
    VkPhysicalDeviceShaderSMBuiltinsFeaturesNV smb{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_FEATURES_NV};
    if (inst.options().shader_clock && desc_.has_extension(VK_KHR_SHADER_CLOCK_EXTENSION_NAME)) {
        if (queried(VkPhysicalDeviceShaderClockFeaturesKHR{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CLOCK_FEATURES_KHR})
                .shaderDeviceClock) {
            exts.push_back(VK_KHR_SHADER_CLOCK_EXTENSION_NAME);
            clk.shaderDeviceClock = VK_TRUE;
            clk.pNext = e12.pNext;  // behind the 1.2 features (the fallback below edits the front)
            e12.pNext = &clk;
            shader_clock_ = true;
            if (desc_.has_extension(VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME)) {
                exts.push_back(VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME);
                smb.shaderSMBuiltins = VK_TRUE;
                smb.pNext = e12.pNext;
                e12.pNext = &smb;
                sm_builtins_ = true;
            }
        }
    }

    float prio = 1.0f;
    VkDeviceQueueCreateInfo q{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    q.queueFamilyIndex = desc_.compute_queue_family;
    q.queueCount = 1;
    q.pQueuePriorities = &prio;
    VkDeviceCreateInfo ci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    ci.pNext = &en;
    ci.queueCreateInfoCount = 1;
    ci.pQueueCreateInfos = &q;
    ci.enabledExtensionCount = static_cast<uint32_t>(exts.size());
    ci.ppEnabledExtensionNames = exts.data();
    VkResult created = vkCreateDevice(desc_.handle, &ci, nullptr, &device_);
    if (created != VK_SUCCESS && cooperative_matrix_) {
        // The tensor-core extension is on by default (mlxmtp_instance_create):
        // a driver that lists it but cannot create a device with it still
        // gets a device, without it (models then use the standard kernels).
        exts.erase(std::find_if(exts.begin(), exts.end(), [](const char *e) {
            return std::strcmp(e, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME) == 0;
        }));
        en.pNext = cm.pNext;
        e12.vulkanMemoryModel = VK_FALSE;
        cooperative_matrix_ = false;
        coop_shapes_.clear();
        ci.enabledExtensionCount = static_cast<uint32_t>(exts.size());
        ci.ppEnabledExtensionNames = exts.data();
        created = vkCreateDevice(desc_.handle, &ci, nullptr, &device_);
    }
    MLXMTP_VK_CHECK(created);
    vkGetDeviceQueue(device_, desc_.compute_queue_family, 0, &queue_);
    if (push_descriptors_) {
        push_descriptor_fn_ = reinterpret_cast<PFN_vkCmdPushDescriptorSetKHR>(
            vkGetDeviceProcAddr(device_, "vkCmdPushDescriptorSetKHR"));
        push_descriptors_ = push_descriptor_fn_ != nullptr;
    }

    max_allocation_size_ = desc_.info.max_allocation_size ? desc_.info.max_allocation_size : (1ull << 30);
    if (inst.options().max_allocation_size)
        max_allocation_size_ = std::min(max_allocation_size_, inst.options().max_allocation_size);
    storage_alignment_ = std::max<uint64_t>(256, limits_.minStorageBufferOffsetAlignment);

    try {
        kernels_ = std::make_unique<kernel_registry>(*this);
    } catch (...) {
        vkDestroyDevice(device_, nullptr);
        throw;
    }
}

vk_device::~vk_device() {
    if (device_ != VK_NULL_HANDLE) vkDeviceWaitIdle(device_);
    kernels_.reset();  // saves the pipeline cache, destroys pipelines
    if (device_ != VK_NULL_HANDLE) vkDestroyDevice(device_, nullptr);
}

uint32_t vk_device::find_memory_type(uint32_t type_bits, VkMemoryPropertyFlags required,
                                     VkMemoryPropertyFlags preferred) const {
    uint32_t fallback = UINT32_MAX;
    for (uint32_t i = 0; i < mem_props_.memoryTypeCount; ++i) {
        if (!(type_bits & (1u << i))) continue;
        VkMemoryPropertyFlags f = mem_props_.memoryTypes[i].propertyFlags;
        if ((f & required) != required) continue;
        if ((f & preferred) == preferred) return i;
        if (fallback == UINT32_MAX) fallback = i;
    }
    return fallback;
}

vk_device::allocation vk_device::allocate(uint64_t size, bool host_visible, const char *what) {
    if (lost()) fail(MLXMTP_ERR_DEVICE_LOST, "the device was lost");
    if (size == 0) size = 4;
    if (size > max_allocation_size_)
        fail(MLXMTP_ERR_DEVICE_OUT_OF_MEMORY,
             "%s: %llu bytes exceed the device's maximum allocation size (%llu bytes)", what,
             static_cast<unsigned long long>(size), static_cast<unsigned long long>(max_allocation_size_));
    uint64_t cap = inst_.options().max_device_memory;
    if (cap && allocated_.load() + size > cap)
        fail(MLXMTP_ERR_DEVICE_OUT_OF_MEMORY,
             "%s: %llu bytes would exceed the device memory limit (%llu of %llu bytes in use)", what,
             static_cast<unsigned long long>(size), static_cast<unsigned long long>(allocated_.load()),
             static_cast<unsigned long long>(cap));
    if (allocation_count_.load() + 1 > limits_.maxMemoryAllocationCount)
        fail(MLXMTP_ERR_DEVICE_OUT_OF_MEMORY, "%s: maxMemoryAllocationCount (%u) reached", what,
             limits_.maxMemoryAllocationCount);

    allocation a;
    a.size = size;
    VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = size;
    bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    MLXMTP_VK_CHECK(vkCreateBuffer(device_, &bi, nullptr, &a.buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(device_, a.buffer, &req);
    uint32_t type;
    if (host_visible)
        type = find_memory_type(req.memoryTypeBits,
                                VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    else
        type = find_memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    if (type == UINT32_MAX) type = find_memory_type(req.memoryTypeBits, 0, 0);
    if (type == UINT32_MAX) {
        vkDestroyBuffer(device_, a.buffer, nullptr);
        fail(MLXMTP_ERR_VULKAN, "%s: no memory type fits the buffer", what);
    }
    VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = type;
    VkResult r = vkAllocateMemory(device_, &ai, nullptr, &a.memory);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(device_, a.buffer, nullptr);
        fail(vk_result_status(r), "%s: allocating %llu bytes of device memory failed (%s)", what,
             static_cast<unsigned long long>(size), vk_result_name(r));
    }
    r = vkBindBufferMemory(device_, a.buffer, a.memory, 0);
    if (r == VK_SUCCESS && (mem_props_.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)) {
        void *p = nullptr;
        r = vkMapMemory(device_, a.memory, 0, VK_WHOLE_SIZE, 0, &p);
        a.mapped = static_cast<uint8_t *>(p);
    }
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(device_, a.buffer, nullptr);
        vkFreeMemory(device_, a.memory, nullptr);
        fail(vk_result_status(r), "%s: binding or mapping memory failed (%s)", what, vk_result_name(r));
    }
    uint64_t now = allocated_.fetch_add(size) + size;
    uint64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {}
    allocation_count_.fetch_add(1);
    return a;
}

void vk_device::free(allocation &a) {
    if (a.buffer != VK_NULL_HANDLE) vkDestroyBuffer(device_, a.buffer, nullptr);
    if (a.memory != VK_NULL_HANDLE) {
        vkFreeMemory(device_, a.memory, nullptr);
        allocated_.fetch_sub(a.size);
        allocation_count_.fetch_sub(1);
    }
    a = allocation{};
}

void vk_device::submit_and_wait(VkCommandBuffer cb, VkFence fence) {
    submit_async(cb, fence);
    wait_and_reset(fence);
}

void vk_device::submit_async(VkCommandBuffer cb, VkFence fence) {
    if (lost()) fail(MLXMTP_ERR_DEVICE_LOST, "the device was lost");
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cb;
    VkResult r;
    {
        std::lock_guard<std::mutex> lock(submit_mutex_);
        r = vkQueueSubmit(queue_, 1, &si, fence);
    }
    if (r == VK_ERROR_DEVICE_LOST) lost_.store(true);
    if (r != VK_SUCCESS) vk_fail(r, "vkQueueSubmit");
}

void vk_device::wait_and_reset(VkFence fence) {
    VkResult r = vkWaitForFences(device_, 1, &fence, VK_TRUE, UINT64_MAX);
    if (r == VK_ERROR_DEVICE_LOST) lost_.store(true);
    if (r != VK_SUCCESS) vk_fail(r, "vkWaitForFences");
    MLXMTP_VK_CHECK(vkResetFences(device_, 1, &fence));
}

}  // namespace mlxmtp::detail
