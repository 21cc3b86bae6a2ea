// Logging: each instance owns a logger; messages before an instance exists go
// to the process-wide fallback set by mlxmtp_set_log_callback.
#pragma once
#include "mlxmtp.h"

#include <string>

namespace mlxmtp::detail {

struct logger {
    mlxmtp_log_fn fn = nullptr;  // NULL = process fallback / stderr default
    void *user_data = nullptr;
    int32_t level = MLXMTP_LOG_WARN;

    void log(int32_t lvl, const std::string &msg) const;
    void logf(int32_t lvl, const char *fmt, ...) const __attribute__((format(printf, 3, 4)));
};

// The process-wide fallback (mlxmtp_set_log_callback).
void set_global_log_callback(mlxmtp_log_fn fn, void *user_data);
const logger &global_logger();

}  // namespace mlxmtp::detail
