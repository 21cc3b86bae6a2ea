// libFuzzer entry for one target, chosen at build time with
// -DMLXMTP_FUZZ_TARGET="name" (scripts/fuzz.sh builds one binary per target).
#include "fuzz_targets.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const mlxmtp::fuzz::target *t = [] {
        for (const auto &x : mlxmtp::fuzz::targets())
            if (std::strcmp(x.name, MLXMTP_FUZZ_TARGET) == 0) return &x;
        std::fprintf(stderr, "no fuzz target %s\n", MLXMTP_FUZZ_TARGET);
        std::abort();
    }();
    std::string bug = mlxmtp::fuzz::run_one(*t, data, size);
    if (!bug.empty()) {
        std::fprintf(stderr, "%s: %s\n", t->name, bug.c_str());
        std::abort();
    }
    return 0;
}
