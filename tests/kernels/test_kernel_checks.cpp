// Every registered kernel check (lib/vk/kernel_checks_*.cpp) against its
// scalar reference, over several random seeds, with validation on.
#include "test_env.h"
#include "ops/linear.h"
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

// Every MX matvec unit width (one, two or four packed words per lane), not
// only the one the defaults pick for a format, is a supported layout: the
// batch-invariance check (each column against the scalar reference, and
// bit-identical alone and in batches) must hold under each.
TEST(KernelCheck, MatvecEveryMxUnitWidth) {
    test::validation_scope vs;
    for (uint32_t words : {1u, 2u, 4u}) {
        detail::ops::tuning().matvec_mx_words = words;
        for (const detail::kernel_check &c : detail::kernel_checks()) {
            const std::string name = c.name;
            if (name != "linear_batch_invariance") continue;  // columns alone vs the reference, and in batches
            detail::kernel_check_result r = c.run(test::validated_device(), 7);
            EXPECT_TRUE(r.passed) << name << " with " << words << " words per unit: error " << r.error << " > "
                                  << r.tolerance;
        }
    }
    detail::ops::tuning().matvec_mx_words = 0;
}
