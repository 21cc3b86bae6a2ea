// Device memory limits: exhausting a forced limit gives a clean
// MLXMTP_ERR_DEVICE_OUT_OF_MEMORY, and the device keeps working afterwards.
#include "test_env.h"
#include "vk/kernel_check.h"
#include "vk/memory.h"

using namespace mlxmtp;

namespace {
struct limited_world {
    std::unique_ptr<detail::vk_instance> inst;
    std::unique_ptr<detail::vk_device> dev;
    limited_world(uint64_t max_alloc, uint64_t max_total) {
        detail::instance_options o;
        o.validation = true;
        o.max_allocation_size = max_alloc;
        o.max_device_memory = max_total;
        inst = std::make_unique<detail::vk_instance>(o);
        dev = std::make_unique<detail::vk_device>(*inst, 0);
    }
    ~limited_world() {
        dev.reset();
        EXPECT_EQ(inst->validation_issues(), 0u) << inst->last_validation_message();
    }
};

mlxmtp_status status_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const detail::error &e) {
        return e.status();
    }
    return MLXMTP_OK;
}
}  // namespace

TEST(DeviceMemory, TotalLimitExhaustedThenRecovers) {
    limited_world w(0, 8u << 20);
    {
        detail::arena a(*w.dev, false, 1u << 20, "test");
        // Fill the budget with 1 MiB blocks until the limit refuses one.
        mlxmtp_status st = MLXMTP_OK;
        int blocks = 0;
        while (st == MLXMTP_OK && blocks < 100) {
            st = status_of([&] { a.alloc(1u << 20, "filler"); });
            if (st == MLXMTP_OK) ++blocks;
        }
        EXPECT_EQ(st, MLXMTP_ERR_DEVICE_OUT_OF_MEMORY);
        EXPECT_EQ(blocks, 8);
        EXPECT_LE(w.dev->allocated_bytes(), 8u << 20);
    }
    // Everything was released; the device still runs kernels.
    EXPECT_EQ(w.dev->allocated_bytes(), 0u);
    for (const auto &c : detail::kernel_checks()) EXPECT_TRUE(c.run(*w.dev, 7).passed) << c.name;
}

TEST(DeviceMemory, SingleAllocationLimit) {
    limited_world w(1u << 20, 0);
    detail::arena a(*w.dev, false, 0, "test");
    EXPECT_EQ(status_of([&] { a.alloc((1u << 20) + 1, "too big"); }), MLXMTP_ERR_DEVICE_OUT_OF_MEMORY);
    EXPECT_EQ(status_of([&] { a.alloc(1u << 19, "fits"); }), MLXMTP_OK);
}

TEST(DeviceMemory, BindingLargerThanRangeIsRefused) {
    // A span over maxStorageBufferRange (128 MiB on lavapipe) must not reach the driver.
    detail::vk_device &dev = test::validated_device();
    test::validation_scope vs;
    detail::buffer_span fake{reinterpret_cast<VkBuffer>(uintptr_t(1)), 0, dev.max_binding_range() + 4, nullptr};
    detail::command_stream cs(dev);
    const auto &p = dev.kernels().get("scale_add_f32");
    struct {
        uint32_t n;
        float a;
    } pc{1, 1};
    EXPECT_EQ(status_of([&] { cs.dispatch(p, {fake, fake, fake}, pc, 1); }), MLXMTP_ERR_DEVICE_OUT_OF_MEMORY);
}
