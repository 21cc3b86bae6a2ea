// Command streams: work split by flush() (submitted without waiting, more
// parts than the stream has command buffers) is ordered like one submission,
// the development profiler accounts for every recorded command, and the
// stage numbers change at every ordering point.
#include "ops/basic_ops.h"
#include "test_env.h"
#include "vk/command.h"
#include "vk/kernel_check.h"

#include <algorithm>
#include <random>

using namespace mlxmtp;

namespace {
// y <- 2 y + b, `steps` times, flushing every `flush_every` steps; returns y.
std::vector<float> chain(detail::vk_device &dev, const std::vector<float> &y0, const std::vector<float> &b, int steps,
                         int flush_every, detail::gpu_profile *prof) {
    detail::check_buffers bufs(dev);
    const uint32_t n = static_cast<uint32_t>(y0.size());
    detail::buffer_span y[2] = {bufs.upload(y0), bufs.zeros(n * 4)}, db = bufs.upload(b);
    detail::command_stream cs(dev);
    cs.set_profile(prof);
    for (int i = 0; i < steps; ++i) {
        detail::ops::scale_add(cs, y[i % 2], db, y[(i + 1) % 2], n, 2.0f);
        cs.barrier();
        if (flush_every && i % flush_every == flush_every - 1) cs.flush();
    }
    cs.submit();
    return bufs.read<float>(y[steps % 2], n);
}
}  // namespace

TEST(CommandStream, FlushedPartsRunInOrder) {
    detail::vk_device &dev = test::validated_device();
    test::validation_scope vs;
    std::mt19937_64 rng(3);
    const uint32_t n = 3000;
    auto y0 = detail::random_floats(rng, n), b = detail::random_floats(rng, n);
    const int steps = 23;
    std::vector<float> ref = y0;
    for (int i = 0; i < steps; ++i)
        for (uint32_t j = 0; j < n; ++j) ref[j] = 2.0f * ref[j] + b[j];  // exact in the kernel too (one rounding each)
    for (int every : {0, 1, 2, 5}) {
        std::vector<float> got = chain(dev, y0, b, steps, every, nullptr);
        ASSERT_EQ(got, ref) << "flush every " << every;
    }
}

TEST(CommandStream, ProfileCountsEveryCommand) {
    detail::vk_device &dev = test::validated_device();
    test::validation_scope vs;
    std::mt19937_64 rng(4);
    auto y0 = detail::random_floats(rng, 256), b = detail::random_floats(rng, 256);
    detail::gpu_profile prof;
    chain(dev, y0, b, 9, 2, &prof);  // flush() is a no-op while profiling: one submit
    EXPECT_EQ(prof.submits, 1u);
    ASSERT_EQ(prof.entries.size(), 1u);
    EXPECT_EQ(prof.entries.begin()->first, "/scale_add_f32");
    EXPECT_EQ(prof.entries.begin()->second.count, 9u);
    EXPECT_GE(prof.entries.begin()->second.gpu_us, 0.0);
    EXPECT_GE(prof.gpu_span_us, prof.entries.begin()->second.gpu_us * 0.999);
}

// stage(): commands recorded under one value may overlap on the device, so
// it must change at every barrier, flush and submit and never repeat on a
// device, across streams (KSPLIT's scratch guard relies on it).
TEST(CommandStream, StagesChangeAtEveryOrderingPointAndNeverRepeat) {
    detail::vk_device &dev = test::validated_device();
    detail::command_stream a(dev), b(dev);
    std::vector<uint64_t> seen{a.stage(), b.stage()};
    const uint64_t s0 = a.stage();
    detail::check_buffers bufs(dev);
    detail::buffer_span y = bufs.zeros(64 * 4), db = bufs.zeros(64 * 4), y2 = bufs.zeros(64 * 4);
    detail::ops::scale_add(a, y, db, y2, 64, 2.0f);
    EXPECT_EQ(a.stage(), s0);  // a dispatch is no ordering point
    a.barrier();
    seen.push_back(a.stage());
    b.barrier();
    seen.push_back(b.stage());
    detail::ops::scale_add(a, y2, db, y, 64, 2.0f);
    a.flush();
    seen.push_back(a.stage());
    a.submit();
    seen.push_back(a.stage());
    b.submit();
    seen.push_back(b.stage());
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "a stage value repeated";
}
