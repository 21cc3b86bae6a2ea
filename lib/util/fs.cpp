#include "util/fs.h"

#include "util/error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mlxmtp::detail {

bool read_file(const std::string &path, std::vector<uint8_t> *out) {
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    out->clear();
    uint8_t buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + n);
    bool ok = !std::ferror(f);
    std::fclose(f);
    return ok;
}

bool read_text_file(const std::string &path, std::string *out) {
    std::vector<uint8_t> b;
    if (!read_file(path, &b)) return false;
    out->assign(b.begin(), b.end());
    return true;
}

std::string parent_dir(const std::string &path) {
    size_t p = path.find_last_of('/');
    if (p == std::string::npos) return ".";
    if (p == 0) return "/";
    return path.substr(0, p);
}

bool path_exists(const std::string &path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

void fsync_dir(const std::string &dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail(MLXMTP_ERR_IO, "cannot open directory %s: %s", dir.c_str(), std::strerror(errno));
    int r = ::fsync(fd);
    int e = errno;
    ::close(fd);
    if (r != 0 && e != EINVAL) fail(MLXMTP_ERR_IO, "fsync of directory %s failed: %s", dir.c_str(), std::strerror(e));
}

void write_file_atomic(const std::string &path, const void *data, size_t size, bool durable) {
    std::string tmp = path + strprintf(".tmp.%ld", static_cast<long>(::getpid()));
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail(MLXMTP_ERR_IO, "cannot create %s: %s", tmp.c_str(), std::strerror(errno));
    const auto *p = static_cast<const uint8_t *>(data);
    size_t left = size;
    while (left > 0) {
        ssize_t w = ::write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            fail(e == ENOSPC ? MLXMTP_ERR_NO_SPACE : MLXMTP_ERR_IO, "writing %s failed: %s", tmp.c_str(),
                 std::strerror(e));
        }
        p += w;
        left -= static_cast<size_t>(w);
    }
    if (durable && ::fsync(fd) != 0) {
        int e = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        fail(MLXMTP_ERR_IO, "fsync of %s failed: %s", tmp.c_str(), std::strerror(e));
    }
    if (::close(fd) != 0) {
        ::unlink(tmp.c_str());
        fail(MLXMTP_ERR_IO, "closing %s failed", tmp.c_str());
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        fail(MLXMTP_ERR_IO, "renaming %s to %s failed: %s", tmp.c_str(), path.c_str(), std::strerror(e));
    }
    if (durable) fsync_dir(parent_dir(path));
}

void make_dirs(const std::string &path) {
    if (path.empty()) return;
    std::string cur;
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        cur = path.substr(0, j);
        if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
            fail(MLXMTP_ERR_IO, "cannot create directory %s: %s", cur.c_str(), std::strerror(errno));
        i = j + 1;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        fail(MLXMTP_ERR_IO, "%s is not a directory", path.c_str());
}

}  // namespace mlxmtp::detail
