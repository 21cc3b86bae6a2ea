#include "vk/vk_check.h"

namespace mlxmtp::detail {

const char *vk_result_name(VkResult r) {
    switch (r) {
#define C(x) case x: return #x;
        C(VK_SUCCESS) C(VK_NOT_READY) C(VK_TIMEOUT) C(VK_INCOMPLETE)
        C(VK_ERROR_OUT_OF_HOST_MEMORY) C(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        C(VK_ERROR_INITIALIZATION_FAILED) C(VK_ERROR_DEVICE_LOST) C(VK_ERROR_MEMORY_MAP_FAILED)
        C(VK_ERROR_LAYER_NOT_PRESENT) C(VK_ERROR_EXTENSION_NOT_PRESENT)
        C(VK_ERROR_FEATURE_NOT_PRESENT) C(VK_ERROR_INCOMPATIBLE_DRIVER)
        C(VK_ERROR_TOO_MANY_OBJECTS) C(VK_ERROR_FORMAT_NOT_SUPPORTED)
        C(VK_ERROR_FRAGMENTED_POOL) C(VK_ERROR_OUT_OF_POOL_MEMORY) C(VK_ERROR_UNKNOWN)
#undef C
    default: return "VkResult(unknown)";
    }
}

mlxmtp_status vk_result_status(VkResult r) {
    switch (r) {
    case VK_SUCCESS: return MLXMTP_OK;
    case VK_ERROR_OUT_OF_HOST_MEMORY: return MLXMTP_ERR_OUT_OF_MEMORY;
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    case VK_ERROR_TOO_MANY_OBJECTS:
    case VK_ERROR_OUT_OF_POOL_MEMORY:
    case VK_ERROR_FRAGMENTED_POOL: return MLXMTP_ERR_DEVICE_OUT_OF_MEMORY;
    case VK_ERROR_DEVICE_LOST: return MLXMTP_ERR_DEVICE_LOST;
    case VK_ERROR_INCOMPATIBLE_DRIVER:
    case VK_ERROR_INITIALIZATION_FAILED: return MLXMTP_ERR_NO_DEVICE;
    case VK_ERROR_LAYER_NOT_PRESENT:
    case VK_ERROR_EXTENSION_NOT_PRESENT:
    case VK_ERROR_FEATURE_NOT_PRESENT: return MLXMTP_ERR_UNSUPPORTED;
    default: return MLXMTP_ERR_VULKAN;
    }
}

void vk_fail(VkResult r, const char *what) {
    fail(vk_result_status(r), "Vulkan call failed with %s: %s", vk_result_name(r), what);
}

}  // namespace mlxmtp::detail
