#include "test_env.h"

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>

namespace mlxmtp::test {

std::string fixture(const std::string &rel) { return std::string(MLXMTP_FIXTURES_DIR) + "/" + rel; }

temp_dir::temp_dir() {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (int i = 0; i < 100; ++i) {
        auto p = base / ("mlxmtp-test-" + std::to_string(rd()));
        if (std::filesystem::create_directory(p)) {
            path_ = p.string();
            return;
        }
    }
    throw std::runtime_error("cannot create a temporary directory");
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

namespace {
struct shared_vk {
    std::unique_ptr<detail::vk_instance> inst;
    std::shared_ptr<detail::vk_device> dev;
    temp_dir cache;
};
shared_vk &vk() {
    static shared_vk *s = [] {
        auto *v = new shared_vk;  // lives until exit; destroyed by the OS
        detail::instance_options opt;
        // The GPU machine has no validation layers: MLXMTP_TEST_VALIDATION=0 there.
        const char *val = std::getenv("MLXMTP_TEST_VALIDATION");
        opt.validation = !(val && std::string(val) == "0");
        opt.cache_dir = v->cache.path();
        opt.log.level = MLXMTP_LOG_WARN;
        v->inst = std::make_unique<detail::vk_instance>(opt);
        if (v->inst->devices().empty()) throw std::runtime_error("no Vulkan device (install mesa-vulkan-drivers)");
        v->dev = std::make_shared<detail::vk_device>(*v->inst, 0);
        return v;
    }();
    return *s;
}
}  // namespace

detail::vk_device &validated_device() { return *vk().dev; }
std::shared_ptr<detail::vk_device> validated_device_ptr() { return vk().dev; }
detail::vk_instance &validated_instance() { return *vk().inst; }
uint64_t validation_issue_count() { return vk().inst->validation_issues(); }

validation_scope::validation_scope() : start_(validation_issue_count()) {}
validation_scope::~validation_scope() {
    uint64_t now = validation_issue_count();
    EXPECT_EQ(now, start_) << "Vulkan validation reported " << (now - start_)
                           << " issue(s); last: " << validated_instance().last_validation_message();
}

}  // namespace mlxmtp::test
