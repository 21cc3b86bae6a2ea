// The mlxmtp command-line program: subcommands register themselves here.
// Each tools/mlxmtp/cmd_<name>.cpp defines one subcommand with
//     [[maybe_unused]] const bool registered = mlxmtp_cli::register_command(  // in an anonymous namespace
//         "name", "one-line help", [](CLI::App &sub) { ...add options...;
//                                      return [=]() -> int { ...run...; }; });
// The program links only the public library (include/mlxmtp.h).
#pragma once
#include <CLI/CLI.hpp>
#include <json-c/json.h>
#include <mlxmtp.h>

#include <functional>
#include <memory>
#include <string>

namespace mlxmtp_cli {

using run_fn = std::function<int()>;
using setup_fn = std::function<run_fn(CLI::App &)>;

bool register_command(const char *name, const char *help, setup_fn setup);

// Exit codes: 0 ok, 1 operation failed, 2 usage error.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Prints "error: <what>: <status text>: <last error>" (or a JSON error object
// when json is set) and returns kExitFailure.
int report_failure(const char *what, mlxmtp_status st, bool json);

// --tensor-cores / --no-tensor-cores as instance flags (added to *flags);
// false, after printing the usage error, when both are given.
bool add_tensor_core_flags(bool tensor_cores, bool no_tensor_cores, uint32_t *flags);

// Prints a json-c object to stdout (pretty) and releases it.
void print_json(json_object *obj);

// RAII for json-c objects built by a command.
struct json_deleter {
    void operator()(json_object *o) const { json_object_put(o); }
};
using json_ptr = std::unique_ptr<json_object, json_deleter>;

// A progress bar on stderr when it is a terminal; a no-op otherwise.
class progress_bar {
public:
    explicit progress_bar(std::string label);
    ~progress_bar();
    void update(double fraction, const std::string &detail = "");
    void finish();

private:
    std::string label_;
    bool tty_;
    bool done_ = false;
};

}  // namespace mlxmtp_cli
