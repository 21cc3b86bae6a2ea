// Helpers shared by the checkpoint-I/O and quantizer unit tests.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace qtest {

// A fresh directory under $TMPDIR, removed (recursively) at scope exit.
struct temp_dir {
    std::string path;
    temp_dir() {
        const char *t = std::getenv("TMPDIR");
        std::string tmpl = std::string(t && *t ? t : "/tmp") + "/mlxmtp_qtest_XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (!mkdtemp(buf.data())) std::abort();
        path = buf.data();
    }
    ~temp_dir() { std::string cmd = "rm -rf '" + path + "'"; if (std::system(cmd.c_str()) != 0) {} }
    std::string operator/(const std::string &n) const { return path + "/" + n; }
};

inline void write_bytes(const std::string &path, const std::string &bytes) {
    std::ofstream o(path, std::ios::binary | std::ios::trunc);
    o.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string &path) {
    std::ifstream i(path, std::ios::binary);
    std::ostringstream s;
    s << i.rdbuf();
    return s.str();
}

// An 8-byte little-endian length followed by `header`, then `data`.
inline std::string st_bytes(const std::string &header, const std::string &data, uint64_t len_override = UINT64_MAX) {
    uint64_t n = len_override == UINT64_MAX ? header.size() : len_override;
    std::string out(8, '\0');
    for (int k = 0; k < 8; ++k) out[k] = static_cast<char>((n >> (8 * k)) & 0xff);
    return out + header + data;
}

inline bool exists(const std::string &p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0;
}

inline std::string fixture(const std::string &rel) { return std::string(MLXMTP_FIXTURES_DIR) + "/" + rel; }

}  // namespace qtest
