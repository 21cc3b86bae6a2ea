#include "ops/tuning.h"

namespace mlxmtp::detail::ops {

namespace {
void add_define(std::vector<std::pair<std::string, std::string>> &to, const std::string &spec) {
    const size_t eq = spec.find('=');
    to.emplace_back(spec.substr(0, eq), eq == std::string::npos ? "1" : spec.substr(eq + 1));
}
}  // namespace

void kernel_tuning::add_matvec_define(const std::string &spec) { add_define(matvec_defines, spec); }
void kernel_tuning::add_matmul_define(const std::string &spec) { add_define(matmul_defines, spec); }
void kernel_tuning::add_frag_define(const std::string &spec) { add_define(frag_defines, spec); }

kernel_tuning &tuning() {
    static kernel_tuning t;
    return t;
}

}  // namespace mlxmtp::detail::ops
