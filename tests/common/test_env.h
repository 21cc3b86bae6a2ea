// Shared test helpers: fixture paths, a validated Vulkan device on lavapipe
// (any validation warning or error fails the test), temporary directories.
#pragma once
#include "vk/device.h"
#include "vk/instance.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace mlxmtp::test {

std::string fixture(const std::string &rel);  // MLXMTP_FIXTURES_DIR/rel

// A fresh temporary directory, removed when the object dies.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    const std::string &path() const { return path_; }
    std::string operator/(const std::string &rel) const { return path_ + "/" + rel; }

private:
    std::string path_;
};

// A validation-enabled instance and device 0, shared by the tests of one
// executable.  Tests call validated_device(); at the end of each test the
// ValidationGuard listener fails the test if the layer reported anything.
detail::vk_device &validated_device();
std::shared_ptr<detail::vk_device> validated_device_ptr();
detail::vk_instance &validated_instance();
uint64_t validation_issue_count();

// Fails the current test if validation issues appeared since construction.
class validation_scope {
public:
    validation_scope();
    ~validation_scope();

private:
    uint64_t start_;
};

}  // namespace mlxmtp::test
