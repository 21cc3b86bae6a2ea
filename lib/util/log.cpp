#include "util/log.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <vector>

namespace mlxmtp::detail {

namespace {
logger g_fallback;  // guarded by nothing: documented as set-before-use
std::mutex g_stderr_mutex;  // serialises default stderr output only

const char *level_name(int32_t lvl) {
    switch (lvl) {
    case MLXMTP_LOG_ERROR: return "error";
    case MLXMTP_LOG_WARN: return "warning";
    case MLXMTP_LOG_INFO: return "info";
    default: return "debug";
    }
}
}  // namespace

void set_global_log_callback(mlxmtp_log_fn fn, void *user_data) {
    g_fallback.fn = fn;
    g_fallback.user_data = user_data;
}

const logger &global_logger() { return g_fallback; }

void logger::log(int32_t lvl, const std::string &msg) const {
    if (lvl > level) return;
    mlxmtp_log_fn f = fn ? fn : g_fallback.fn;
    void *ud = fn ? user_data : g_fallback.user_data;
    if (f) {
        f(lvl, msg.c_str(), ud);
        return;
    }
    std::lock_guard<std::mutex> lock(g_stderr_mutex);
    std::fprintf(stderr, "mlxmtp %s: %s\n", level_name(lvl), msg.c_str());
}

void logger::logf(int32_t lvl, const char *fmt, ...) const {
    if (lvl > level) return;
    va_list ap;
    va_start(ap, fmt);
    char small[512];
    va_list ap2;
    va_copy(ap2, ap);
    int n = std::vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n >= 0 && static_cast<size_t>(n) < sizeof small) {
        va_end(ap);
        log(lvl, small);
        return;
    }
    std::vector<char> buf(n > 0 ? static_cast<size_t>(n) + 1 : 1, 0);
    std::vsnprintf(buf.data(), buf.size(), fmt, ap);
    va_end(ap);
    log(lvl, buf.data());
}

}  // namespace mlxmtp::detail
