// The public C API surface: versions, statuses, errors, params structs,
// instances and devices; and the C++ wrapper over it.
#include <gtest/gtest.h>
#include <mlxmtp.h>
#include <mlxmtp.hpp>

#include <cstring>
#include <set>
#include <string>

TEST(Version, HeaderMatchesLibrary) {
    EXPECT_EQ(mlxmtp_version_number(), static_cast<uint32_t>(MLXMTP_VERSION_NUMBER));
    EXPECT_STREQ(mlxmtp_version_string(), MLXMTP_VERSION_STRING);
    EXPECT_EQ(mlxmtp_abi_version(), static_cast<uint32_t>(MLXMTP_ABI_VERSION));
    EXPECT_TRUE(MLXMTP_AT_LEAST_VERSION(0, 1, 0));
    EXPECT_FALSE(MLXMTP_AT_LEAST_VERSION(99, 0, 0));
}

TEST(Status, EveryCodeHasDistinctText) {
    const mlxmtp_status codes[] = {MLXMTP_OK, MLXMTP_ERR_INVALID_ARG, MLXMTP_ERR_OUT_OF_MEMORY,
                                   MLXMTP_ERR_DEVICE_OUT_OF_MEMORY, MLXMTP_ERR_DEVICE_LOST, MLXMTP_ERR_NO_DEVICE,
                                   MLXMTP_ERR_VULKAN, MLXMTP_ERR_IO, MLXMTP_ERR_FORMAT, MLXMTP_ERR_CONFIG,
                                   MLXMTP_ERR_UNSUPPORTED, MLXMTP_ERR_NOT_FOUND, MLXMTP_ERR_EXISTS,
                                   MLXMTP_ERR_BUSY, MLXMTP_ERR_ABORTED, MLXMTP_ERR_CONTEXT_FULL,
                                   MLXMTP_ERR_SHADER, MLXMTP_ERR_TEMPLATE, MLXMTP_ERR_NO_SPACE,
                                   MLXMTP_ERR_BAD_STATE, MLXMTP_ERR_BUFFER_TOO_SMALL, MLXMTP_ERR_INTERNAL};
    std::set<std::string> seen;
    for (mlxmtp_status s : codes) {
        const char *t = mlxmtp_status_string(s);
        ASSERT_NE(t, nullptr);
        EXPECT_STRNE(t, "unknown status") << s;
        EXPECT_TRUE(seen.insert(t).second) << "duplicate text for " << s;
    }
    EXPECT_STREQ(mlxmtp_status_string(-12345), "unknown status");
    // Pinned values (docs/errors.md): never renumbered.
    EXPECT_EQ(MLXMTP_ERR_INVALID_ARG, -1);
    EXPECT_EQ(MLXMTP_ERR_DEVICE_LOST, -4);
    EXPECT_EQ(MLXMTP_ERR_FORMAT, -8);
    EXPECT_EQ(MLXMTP_ERR_CONTEXT_FULL, -15);
    EXPECT_EQ(MLXMTP_ERR_INTERNAL, -99);
}

TEST(Instance, NullOutIsInvalidArgument) {
    EXPECT_EQ(mlxmtp_instance_create(nullptr, nullptr), MLXMTP_ERR_INVALID_ARG);
    EXPECT_STRNE(mlxmtp_last_error(), "");
    mlxmtp_instance_destroy(nullptr);  // no-op
}

TEST(Instance, UnsetStructSizeAndUnknownFlagsAreRejected) {
    mlxmtp_instance_params p;
    std::memset(&p, 0, sizeof p);  // struct_size 0: caller forgot _init()
    mlxmtp_instance *inst = reinterpret_cast<mlxmtp_instance *>(0x1);
    EXPECT_EQ(mlxmtp_instance_create(&p, &inst), MLXMTP_ERR_INVALID_ARG);
    EXPECT_EQ(inst, nullptr);
    mlxmtp_instance_params_init(&p);
    p.flags = 0x80000000u;
    EXPECT_EQ(mlxmtp_instance_create(&p, &inst), MLXMTP_ERR_INVALID_ARG);
    EXPECT_NE(std::string(mlxmtp_last_error()).find("flags"), std::string::npos);
}

TEST(Instance, OlderSmallerParamsStructStillWorks) {
    // An old caller knew only {struct_size, flags}: the rest takes defaults.
    struct old_params {
        uint32_t struct_size;
        uint32_t flags;
    } old{sizeof(old_params), MLXMTP_INSTANCE_VALIDATION};
    mlxmtp_instance *inst = nullptr;
    ASSERT_EQ(mlxmtp_instance_create(reinterpret_cast<const mlxmtp_instance_params *>(&old), &inst), MLXMTP_OK)
        << mlxmtp_last_error();
    EXPECT_GE(mlxmtp_instance_device_count(inst), 1u);
    mlxmtp_instance_destroy(inst);
}

TEST(Instance, DeviceInfoHonoursCallerStructSize) {
    mlxmtp_instance *inst = nullptr;
    ASSERT_EQ(mlxmtp_instance_create(nullptr, &inst), MLXMTP_OK) << mlxmtp_last_error();
    ASSERT_GE(mlxmtp_instance_device_count(inst), 1u);
    // A caller whose struct ends after `name`: bytes past it stay untouched.
    const size_t prefix = offsetof(mlxmtp_device_info, driver);
    unsigned char buf[sizeof(mlxmtp_device_info)];
    std::memset(buf, 0xAB, sizeof buf);
    auto *info = reinterpret_cast<mlxmtp_device_info *>(buf);
    info->struct_size = static_cast<uint32_t>(prefix);
    ASSERT_EQ(mlxmtp_instance_device_info(inst, 0, info), MLXMTP_OK);
    EXPECT_EQ(info->struct_size, prefix);
    EXPECT_GT(std::strlen(info->name), 0u);
    for (size_t i = prefix; i < sizeof buf; ++i) ASSERT_EQ(buf[i], 0xAB) << "byte " << i << " overwritten";

    mlxmtp_device_info full;
    mlxmtp_device_info_init(&full);
    EXPECT_EQ(mlxmtp_instance_device_info(inst, 999, &full), MLXMTP_ERR_NO_DEVICE);
    EXPECT_NE(std::string(mlxmtp_instance_last_error(inst)).find("999"), std::string::npos);
    ASSERT_EQ(mlxmtp_instance_device_info(inst, 0, &full), MLXMTP_OK);
    EXPECT_GT(full.max_storage_buffer_range, 0u);
    EXPECT_GT(full.subgroup_size, 0u);

    uint32_t idx = 77;
    EXPECT_EQ(mlxmtp_instance_find_device(inst, "no such gpu name", &idx), MLXMTP_ERR_NOT_FOUND);
    std::string partial(full.name, 4);
    EXPECT_EQ(mlxmtp_instance_find_device(inst, partial.c_str(), &idx), MLXMTP_OK);
    EXPECT_EQ(idx, 0u);
    mlxmtp_instance_destroy(inst);
}

TEST(Instance, SelftestPassesWithValidation) {
    mlxmtp_instance_params p;
    mlxmtp_instance_params_init(&p);
    p.flags = MLXMTP_INSTANCE_VALIDATION;
    struct counter {
        int warnings = 0;
        std::string last;
    } c;
    p.log_cb = [](int32_t level, const char *msg, void *ud) {
        auto *cc = static_cast<counter *>(ud);
        if (level <= MLXMTP_LOG_WARN) {
            ++cc->warnings;
            cc->last = msg;
        }
    };
    p.log_user_data = &c;
    p.cache_dir = "";  // no disk cache
    mlxmtp_instance *inst = nullptr;
    ASSERT_EQ(mlxmtp_instance_create(&p, &inst), MLXMTP_OK) << mlxmtp_last_error();
    const char *report = nullptr;
    EXPECT_EQ(mlxmtp_instance_selftest(inst, 0, &report), MLXMTP_OK) << mlxmtp_instance_last_error(inst);
    ASSERT_NE(report, nullptr);
    EXPECT_NE(std::string(report).find("linear_bf16"), std::string::npos);
    EXPECT_EQ(mlxmtp_instance_selftest(inst, 42, &report), MLXMTP_ERR_NO_DEVICE);
    mlxmtp_instance_destroy(inst);
    EXPECT_EQ(c.warnings, 0) << c.last;
}

TEST(CppWrapper, ThrowsWithStatusAndMessage) {
    mlxmtp::Instance inst = mlxmtp::Instance::create();
    ASSERT_TRUE(inst);
    EXPECT_GE(inst.device_count(), 1u);
    EXPECT_FALSE(inst.device_info(0).name().empty());
    try {
        inst.device_info(1000);
        FAIL() << "expected mlxmtp::Error";
    } catch (const mlxmtp::Error &e) {
        EXPECT_EQ(e.status(), MLXMTP_ERR_NO_DEVICE);
        EXPECT_NE(std::string(e.what()).find("1000"), std::string::npos);
    }
    mlxmtp::Instance moved = std::move(inst);
    EXPECT_TRUE(moved);
    EXPECT_FALSE(inst);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
}
