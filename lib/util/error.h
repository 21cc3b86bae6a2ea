// Internal error type: thrown inside the library, turned into mlxmtp_status at
// the C ABI (lib/api/). Never crosses the ABI.
#pragma once
#include "mlxmtp.h"

#include <stdexcept>
#include <string>

namespace mlxmtp::detail {

class error : public std::runtime_error {
public:
    error(mlxmtp_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    mlxmtp_status status() const noexcept { return status_; }

private:
    mlxmtp_status status_;
};

// Throws error(status, printf-formatted message).
[[noreturn]] void fail(mlxmtp_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// printf into a std::string.
std::string strprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace mlxmtp::detail
