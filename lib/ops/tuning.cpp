#include "ops/tuning.h"

namespace mlxmtp::detail::ops {

void kernel_tuning::add_matvec_define(const std::string &spec) {
    const size_t eq = spec.find('=');
    matvec_defines.emplace_back(spec.substr(0, eq), eq == std::string::npos ? "1" : spec.substr(eq + 1));
}

kernel_tuning &tuning() {
    static kernel_tuning t;
    return t;
}

}  // namespace mlxmtp::detail::ops
