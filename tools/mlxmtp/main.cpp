// mlxmtp: quantize, run, inspect and benchmark Qwen3.5/3.6 models.
#include "cli.h"

#include <cstdio>
#include <map>
#include <unistd.h>
#include <vector>

namespace mlxmtp_cli {

namespace {
struct command_entry {
    std::string name, help;
    setup_fn setup;
};
std::vector<command_entry> &registry() {
    static std::vector<command_entry> r;
    return r;
}
}  // namespace

bool register_command(const char *name, const char *help, setup_fn setup) {
    registry().push_back({name, help, std::move(setup)});
    return true;
}

int report_failure(const char *what, mlxmtp_status st, bool json) {
    const char *detail = mlxmtp_last_error();
    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_string(detail && *detail ? detail : mlxmtp_status_string(st)));
        json_object_object_add(o, "status", json_object_new_int(st));
        json_object_object_add(o, "status_text", json_object_new_string(mlxmtp_status_string(st)));
        print_json(o);
    } else {
        std::fprintf(stderr, "error: %s: %s%s%s\n", what, mlxmtp_status_string(st), detail && *detail ? ": " : "",
                     detail ? detail : "");
    }
    return kExitFailure;
}

bool add_tensor_core_flags(bool tensor_cores, bool no_tensor_cores, uint32_t *flags) {
    if (tensor_cores && no_tensor_cores) {
        std::fprintf(stderr, "error: --tensor-cores and --no-tensor-cores together\n");
        return false;
    }
    if (tensor_cores) *flags |= MLXMTP_INSTANCE_TENSOR_CORES;
    if (no_tensor_cores) *flags |= MLXMTP_INSTANCE_NO_TENSOR_CORES;
    return true;
}

void print_json(json_object *obj) {
    std::printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
}

progress_bar::progress_bar(std::string label) : label_(std::move(label)), tty_(isatty(2) != 0) {}
progress_bar::~progress_bar() { finish(); }

void progress_bar::update(double f, const std::string &detail) {
    if (!tty_ || done_) return;
    if (f < 0) f = 0;
    if (f > 1) f = 1;
    const int width = 30;
    int filled = static_cast<int>(f * width + 0.5);
    std::fprintf(stderr, "\r%s [%.*s%*s] %5.1f%% %s\x1b[K", label_.c_str(), filled,
                 "##############################", width - filled, "", f * 100.0, detail.c_str());
    std::fflush(stderr);
}

void progress_bar::finish() {
    if (!tty_ || done_) return;
    done_ = true;
    std::fprintf(stderr, "\n");
}

}  // namespace mlxmtp_cli

int main(int argc, char **argv) {
    using namespace mlxmtp_cli;
    CLI::App app{"mlxmtp " MLXMTP_VERSION_STRING
                 ": quantize and run Qwen3.5/3.6 models on Vulkan with native MTP speculative decoding"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string(mlxmtp_version_string()));
    std::map<CLI::App *, run_fn> runs;
    for (auto &c : registry()) {
        CLI::App *sub = app.add_subcommand(c.name, c.help);
        runs[sub] = c.setup(*sub);
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        int r = app.exit(e);
        return r == 0 ? 0 : kExitUsage;
    }
    for (auto &kv : runs)
        if (kv.first->parsed()) {
            try {
                return kv.second();
            } catch (const std::exception &e) {
                std::fprintf(stderr, "error: %s\n", e.what());
                return kExitFailure;
            }
        }
    return kExitUsage;
}
