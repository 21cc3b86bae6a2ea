// Definitions of the opaque handle structs behind the C API.  Only lib/api/
// sees them; internals use the detail:: classes they wrap.
#pragma once
#include "api/api_common.h"
#include "vk/device.h"
#include "vk/instance.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct mlxmtp_instance {
    mlxmtp::detail::error_slot err;
    std::unique_ptr<mlxmtp::detail::vk_instance> vk;
    std::string report;  // last selftest report

    // Devices are created on first use and shared by every model on them.
    std::shared_ptr<mlxmtp::detail::vk_device> device(uint32_t index);

private:
    std::mutex devices_mutex_;  // guards devices_; taken before any device lock
    std::vector<std::weak_ptr<mlxmtp::detail::vk_device>> devices_;
};
