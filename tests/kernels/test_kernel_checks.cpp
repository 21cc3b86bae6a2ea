// Every registered kernel check (lib/vk/kernel_checks_*.cpp) against its
// scalar reference, over several random seeds, with validation on.
#include "test_env.h"
#include "vk/kernel_check.h"

using namespace mlxmtp;

class KernelCheck : public ::testing::TestWithParam<size_t> {};

TEST_P(KernelCheck, MatchesScalarReference) {
    test::validation_scope vs;
    const detail::kernel_check &c = detail::kernel_checks()[GetParam()];
    for (uint64_t seed : {1ull, 2ull, 3ull}) {
        detail::kernel_check_result r = c.run(test::validated_device(), seed);
        EXPECT_TRUE(r.passed) << c.name << " seed " << seed << ": error " << r.error << " > " << r.tolerance;
    }
}

INSTANTIATE_TEST_SUITE_P(All, KernelCheck, ::testing::Range<size_t>(0, detail::kernel_checks().size()),
                         [](const ::testing::TestParamInfo<size_t> &i) {
                             return std::string(detail::kernel_checks()[i.param].name);
                         });
