// mlxmtp.hpp -- header-only C++17 RAII wrapper over the C API in mlxmtp.h.
// It calls only the public C API and adds no exported symbols.
//
// Errors throw mlxmtp::Error (status + message).  Define
// MLXMTP_HPP_NO_EXCEPTIONS before including to get mlxmtp::Result<T> returns
// instead.  Lifetimes follow the C rules: a child (Model, Session) must not
// outlive its parent (Instance, Model).
#ifndef MLXMTP_HPP
#define MLXMTP_HPP

#ifndef __cplusplus
#error "mlxmtp.hpp is C++; include mlxmtp.h from C"
#endif

#include "mlxmtp.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>
#if !defined(MLXMTP_HPP_NO_EXCEPTIONS)
#include <stdexcept>
#endif

namespace mlxmtp {

/** The text of a failed call: status plus the library's message. */
struct ErrorInfo {
    mlxmtp_status status = MLXMTP_OK;
    std::string message;
};

#if !defined(MLXMTP_HPP_NO_EXCEPTIONS)
/** Thrown by the wrapper when a C call fails. */
class Error : public std::runtime_error {
public:
    Error(mlxmtp_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    mlxmtp_status status() const noexcept { return status_; }

private:
    mlxmtp_status status_;
};
#endif

/** A value or an error (used when exceptions are off). */
template <class T>
class Result {
public:
    Result(T value) : value_(std::move(value)), ok_(true) {}
    Result(ErrorInfo e) : error_(std::move(e)), ok_(false) {}
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    T &value() { return value_; }
    const ErrorInfo &error() const { return error_; }

private:
    T value_{};
    ErrorInfo error_;
    bool ok_;
};

namespace detail {
inline ErrorInfo make_error(mlxmtp_status st, const char *msg) {
    ErrorInfo e;
    e.status = st;
    e.message = std::string(mlxmtp_status_string(st)) + (msg && *msg ? std::string(": ") + msg : std::string());
    return e;
}
#if !defined(MLXMTP_HPP_NO_EXCEPTIONS)
inline void check(mlxmtp_status st, const char *msg) {
    if (st != MLXMTP_OK) {
        ErrorInfo e = make_error(st, msg);
        throw Error(e.status, e.message);
    }
}
#endif
struct InstanceDeleter {
    void operator()(mlxmtp_instance *p) const noexcept { mlxmtp_instance_destroy(p); }
};
}  // namespace detail

/** A device description (copy of mlxmtp_device_info). */
struct DeviceInfo {
    mlxmtp_device_info raw;
    std::string name() const { return raw.name; }
};

/** Owns an mlxmtp_instance.  Move-only. */
class Instance {
public:
    Instance() = default;
    explicit Instance(mlxmtp_instance *raw) : p_(raw) {}

    /** Creates an instance (params may be null for defaults). */
#if !defined(MLXMTP_HPP_NO_EXCEPTIONS)
    static Instance create(const mlxmtp_instance_params *params = nullptr) {
        mlxmtp_instance *raw = nullptr;
        mlxmtp_status st = mlxmtp_instance_create(params, &raw);
        detail::check(st, mlxmtp_last_error());
        return Instance(raw);
    }
    DeviceInfo device_info(uint32_t index) const {
        DeviceInfo d;
        mlxmtp_device_info_init(&d.raw);
        mlxmtp_status st = mlxmtp_instance_device_info(get(), index, &d.raw);
        detail::check(st, mlxmtp_instance_last_error(get()));
        return d;
    }
    /** Runs the kernel self-test on a device and returns its report. */
    std::string selftest(uint32_t index) {
        const char *rep = "";
        mlxmtp_status st = mlxmtp_instance_selftest(get(), index, &rep);
        detail::check(st, mlxmtp_instance_last_error(get()));
        return rep;
    }
#else
    static Result<Instance> create(const mlxmtp_instance_params *params = nullptr) {
        mlxmtp_instance *raw = nullptr;
        mlxmtp_status st = mlxmtp_instance_create(params, &raw);
        if (st != MLXMTP_OK) return detail::make_error(st, mlxmtp_last_error());
        return Instance(raw);
    }
    Result<DeviceInfo> device_info(uint32_t index) const {
        DeviceInfo d;
        mlxmtp_device_info_init(&d.raw);
        mlxmtp_status st = mlxmtp_instance_device_info(get(), index, &d.raw);
        if (st != MLXMTP_OK) return detail::make_error(st, mlxmtp_instance_last_error(get()));
        return d;
    }
#endif
    uint32_t device_count() const { return mlxmtp_instance_device_count(get()); }

    mlxmtp_instance *get() const { return p_.get(); }
    mlxmtp_instance *release() { return p_.release(); }
    explicit operator bool() const { return static_cast<bool>(p_); }

private:
    std::unique_ptr<mlxmtp_instance, detail::InstanceDeleter> p_;
};

/** Library version at run time. */
inline std::string version() { return mlxmtp_version_string(); }

}  // namespace mlxmtp

#endif  // MLXMTP_HPP
