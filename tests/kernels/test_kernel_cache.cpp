// The two-level kernel cache: SPIR-V files and the VkPipelineCache file are
// reused when valid, and detected and rebuilt when their header or contents
// are corrupted.
#include "test_env.h"
#include "util/fs.h"
#include "vk/device.h"
#include "vk/pipeline.h"

#include <dirent.h>

#include <fstream>

using namespace mlxmtp;

namespace {

std::vector<std::string> list_dir(const std::string &dir, const std::string &suffix) {
    std::vector<std::string> out;
    DIR *d = opendir(dir.c_str());
    if (!d) return out;
    while (dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
            out.push_back(dir + "/" + n);
    }
    closedir(d);
    return out;
}

void flip_byte(const std::string &path, size_t offset) {
    std::vector<uint8_t> b;
    ASSERT_TRUE(detail::read_file(path, &b));
    ASSERT_LT(offset, b.size());
    b[offset] ^= 0x5a;
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<char *>(b.data()), b.size());
}

size_t file_size(const std::string &path) {
    std::vector<uint8_t> b;
    detail::read_file(path, &b);
    return b.size();
}

struct cache_world {
    std::unique_ptr<detail::vk_instance> inst;
    std::unique_ptr<detail::vk_device> dev;
    explicit cache_world(const std::string &dir) {
        detail::instance_options o;
        o.validation = true;
        o.cache_dir = dir;
        inst = std::make_unique<detail::vk_instance>(o);
        dev = std::make_unique<detail::vk_device>(*inst, 0);
    }
    ~cache_world() {
        dev.reset();
        EXPECT_EQ(inst->validation_issues(), 0u) << inst->last_validation_message();
    }
    detail::kernel_cache_stats use() {
        dev->kernels().get("rms_norm_f32");
        return dev->kernels().stats();
    }
};

}  // namespace

TEST(KernelCache, ReusesValidFiles) {
    test::temp_dir tmp;
    {
        cache_world w(tmp.path());
        auto s = w.use();
        EXPECT_EQ(s.compiled, 1u);
        EXPECT_EQ(s.spirv_hits, 0u);
    }
    ASSERT_EQ(list_dir(tmp / "spirv", ".spv").size(), 1u);
    ASSERT_EQ(list_dir(tmp.path(), ".bin").size(), 1u);
    cache_world w(tmp.path());
    auto s = w.use();
    EXPECT_EQ(s.compiled, 0u);
    EXPECT_EQ(s.spirv_hits, 1u);
    EXPECT_TRUE(s.pipeline_cache_loaded);
    EXPECT_FALSE(s.pipeline_cache_rejected);
}

class KernelCacheCorruption : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(KernelCacheCorruption, DetectedAndRebuilt) {
    const bool spirv = std::get<0>(GetParam());     // which file
    const bool in_header = std::get<1>(GetParam());  // where
    test::temp_dir tmp;
    { cache_world(tmp.path()).use(); }
    std::string path = spirv ? list_dir(tmp / "spirv", ".spv").at(0) : list_dir(tmp.path(), ".bin").at(0);
    size_t size = file_size(path);
    flip_byte(path, in_header ? 3 : size / 2 + 7);
    {
        cache_world w(tmp.path());
        auto s = w.use();
        if (spirv) {
            EXPECT_EQ(s.spirv_rejected, 1u);
            EXPECT_EQ(s.compiled, 1u);
        } else {
            EXPECT_TRUE(s.pipeline_cache_rejected);
            EXPECT_FALSE(s.pipeline_cache_loaded);
        }
    }
    // Rebuilt: the next run accepts both files again.
    cache_world w(tmp.path());
    auto s = w.use();
    EXPECT_EQ(s.compiled, 0u);
    EXPECT_EQ(s.spirv_rejected, 0u);
    EXPECT_TRUE(s.pipeline_cache_loaded);
}

INSTANTIATE_TEST_SUITE_P(Files, KernelCacheCorruption,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<bool, bool>> &i) {
                             return std::string(std::get<0>(i.param) ? "Spirv" : "PipelineCache") +
                                    (std::get<1>(i.param) ? "Header" : "Middle");
                         });

TEST(KernelCache, TruncatedSpirvFileIsRejected) {
    test::temp_dir tmp;
    { cache_world(tmp.path()).use(); }
    std::string path = list_dir(tmp / "spirv", ".spv").at(0);
    std::vector<uint8_t> b;
    ASSERT_TRUE(detail::read_file(path, &b));
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<char *>(b.data()), 20);
    cache_world w(tmp.path());
    auto s = w.use();
    EXPECT_EQ(s.spirv_rejected, 1u);
    EXPECT_EQ(s.compiled, 1u);
}
