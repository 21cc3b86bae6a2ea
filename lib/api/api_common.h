// The exception firewall shared by every extern "C" definition (lib/api/*.cpp).
// Each public function body runs inside guard(): a detail::error becomes its
// status, std::bad_alloc becomes MLXMTP_ERR_OUT_OF_MEMORY, anything else
// MLXMTP_ERR_INTERNAL; the message goes to the thread-local last error and,
// when given, to the object's own last-error slot.
#pragma once
#include "mlxmtp.h"
#include "util/error.h"

#include <cstring>
#include <new>
#include <string>

namespace mlxmtp::detail {

// Thread-local last error (mlxmtp_last_error).
void set_thread_error(const std::string &msg);
const char *thread_error();

// Objects that carry their own last error embed this.
struct error_slot {
    std::string message;
};

inline void record_error(error_slot *slot, const std::string &msg) {
    set_thread_error(msg);
    if (slot) slot->message = msg;
}

template <class F>
mlxmtp_status guard(error_slot *slot, F &&body) noexcept {
    try {
        return body();
    } catch (const error &e) {
        try { record_error(slot, e.what()); } catch (...) {}
        return e.status();
    } catch (const std::bad_alloc &) {
        try { record_error(slot, "out of host memory"); } catch (...) {}
        return MLXMTP_ERR_OUT_OF_MEMORY;
    } catch (const std::exception &e) {
        try { record_error(slot, std::string("internal error: ") + e.what()); } catch (...) {}
        return MLXMTP_ERR_INTERNAL;
    } catch (...) {
        try { record_error(slot, "internal error: unknown exception"); } catch (...) {}
        return MLXMTP_ERR_INTERNAL;
    }
}

// Copies a caller-sized struct prefix over defaults: the struct_size rule.
template <class T>
T read_params(const T *user, const T &defaults) {
    T out = defaults;
    if (user) {
        if (user->struct_size < sizeof(uint32_t))
            fail(MLXMTP_ERR_INVALID_ARG, "params struct_size is %u: call the _init() function first",
                 user->struct_size);
        size_t n = user->struct_size < sizeof(T) ? user->struct_size : sizeof(T);
        std::memcpy(static_cast<void *>(&out), user, n);
        out.struct_size = sizeof(T);
    }
    return out;
}

// Writes at most out->struct_size bytes of `value` into the caller's struct.
template <class T>
void write_info(T *out, const T &value) {
    if (!out || out->struct_size < sizeof(uint32_t))
        fail(MLXMTP_ERR_INVALID_ARG, "info struct is NULL or struct_size unset: call the _init() function first");
    uint32_t caller_size = out->struct_size;
    size_t n = caller_size < sizeof(T) ? caller_size : sizeof(T);
    std::memcpy(static_cast<void *>(out), &value, n);
    out->struct_size = caller_size;
}

}  // namespace mlxmtp::detail
