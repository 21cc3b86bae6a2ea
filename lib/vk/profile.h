// Development profiler for command streams: when a stream has a profile
// attached, it writes a GPU timestamp after every recorded command and, at
// submit, adds each command's time (from the previous timestamp: its barrier,
// launch and run) to the entry for "<section>/<kernel>".  Off by default; the
// only cost when off is one pointer test per command.  Used by the benchmark
// tools (mlxmtp-verify-bench --profile), never by the library on its own.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace mlxmtp::detail {

struct gpu_profile {
    struct entry {
        double gpu_us = 0;   // summed GPU time
        uint64_t count = 0;  // commands
    };
    std::map<std::string, entry> entries;
    double record_cpu_us = 0;  // first command recorded -> submit called
    double submit_wait_us = 0;  // vkQueueSubmit + fence wait
    double gpu_span_us = 0;     // first -> last timestamp
    uint64_t submits = 0;
    void clear() { *this = gpu_profile{}; }
};

}  // namespace mlxmtp::detail
