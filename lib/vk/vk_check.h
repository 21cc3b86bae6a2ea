// Maps VkResult failures to mlxmtp statuses (never terminate on device loss).
#pragma once
#include "util/error.h"

#include <vulkan/vulkan.h>

namespace mlxmtp::detail {

const char *vk_result_name(VkResult r);
mlxmtp_status vk_result_status(VkResult r);
[[noreturn]] void vk_fail(VkResult r, const char *what);

}  // namespace mlxmtp::detail

#define MLXMTP_VK_CHECK(expr)                                           \
    do {                                                                \
        VkResult mlxmtp_vk_r_ = (expr);                                 \
        if (mlxmtp_vk_r_ != VK_SUCCESS) ::mlxmtp::detail::vk_fail(mlxmtp_vk_r_, #expr); \
    } while (0)
