#include "util/durable_file.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <vector>

namespace mlxmtp::detail {

namespace {
[[noreturn]] void io_fail(const std::string &path, const char *what, int e) {
    mlxmtp_status st = (e == ENOSPC || e == EDQUOT || e == EFBIG) ? MLXMTP_ERR_NO_SPACE : MLXMTP_ERR_IO;
    fail(st, "%s: %s: %s", path.c_str(), what, std::strerror(e));
}
}  // namespace

output_file::output_file(const std::string &path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        int e = errno;
        if (e == EEXIST) fail(MLXMTP_ERR_EXISTS, "%s: already exists", path.c_str());
        io_fail(path, "cannot create", e);
    }
}

output_file::~output_file() {
    if (fd_ >= 0) ::close(fd_);
}

void output_file::reserve(uint64_t size) {
    if (size == 0) return;
    int r = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
    if (r == EOPNOTSUPP || r == EINVAL) {  // file system without fallocate: a sparse size still helps
        if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) io_fail(path_, "cannot size", errno);
        return;
    }
    if (r != 0) io_fail(path_, "cannot reserve space", r);
}

void output_file::pwrite_all(uint64_t offset, const void *data, size_t len) {
    const char *p = static_cast<const char *>(data);
    while (len > 0) {
        ssize_t n = ::pwrite(fd_, p, len > (1u << 30) ? (1u << 30) : len, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            io_fail(path_, "write failed", errno);
        }
        if (n == 0) io_fail(path_, "write made no progress", EIO);
        p += n;
        len -= static_cast<size_t>(n);
        offset += static_cast<uint64_t>(n);
    }
}

void output_file::start_writeback(uint64_t offset, uint64_t len) {
#ifdef SYNC_FILE_RANGE_WRITE
    if (len) (void)::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(len), SYNC_FILE_RANGE_WRITE);
#else
    (void)offset;
    (void)len;
#endif
}

void output_file::sync_and_close() {
    if (fd_ < 0) return;
    int fd = fd_;
    fd_ = -1;
    if (::fsync(fd) != 0) {
        int e = errno;
        ::close(fd);
        io_fail(path_, "fsync failed (not retried)", e);
    }
    if (::close(fd) != 0) io_fail(path_, "close failed", errno);
}



std::string base_name(const std::string &path) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    size_t s = p.rfind('/');
    return s == std::string::npos ? p : p.substr(s + 1);
}


std::string read_file_limited(const std::string &path, size_t limit) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        fail(e == ENOENT ? MLXMTP_ERR_NOT_FOUND : MLXMTP_ERR_IO, "%s: cannot open: %s", path.c_str(),
             std::strerror(e));
    }
    std::string out;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ::close(fd);
            io_fail(path, "read failed", e);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > limit) {
            ::close(fd);
            fail(MLXMTP_ERR_FORMAT, "%s: larger than %zu bytes", path.c_str(), limit);
        }
    }
    ::close(fd);
    return out;
}

void copy_file_durable(const std::string &src, const std::string &dst) {
    int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) io_fail(src, "cannot open", errno);
    struct stat st;
    if (::fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(in);
        fail(MLXMTP_ERR_IO, "%s: not a regular file", src.c_str());
    }
    try {
        output_file out(dst);
        std::vector<char> buf(1 << 20);
        uint64_t off = 0;
        for (;;) {
            ssize_t n = ::read(in, buf.data(), buf.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                io_fail(src, "read failed", errno);
            }
            if (n == 0) break;
            out.pwrite_all(off, buf.data(), static_cast<size_t>(n));
            off += static_cast<uint64_t>(n);
        }
        out.sync_and_close();
    } catch (...) {
        ::close(in);
        throw;
    }
    ::close(in);
}

void remove_tree(const std::string &path) noexcept {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        if (DIR *d = ::opendir(path.c_str())) {
            std::vector<std::string> names;
            while (struct dirent *e = ::readdir(d)) {
                std::string n = e->d_name;
                if (n != "." && n != "..") names.push_back(n);
            }
            ::closedir(d);
            for (auto &n : names) remove_tree(path + "/" + n);
        }
        ::rmdir(path.c_str());
    } else {
        ::unlink(path.c_str());
    }
}

uint64_t free_space(const std::string &path) {
    struct statvfs s;
    if (::statvfs(path.c_str(), &s) != 0) io_fail(path, "statvfs failed", errno);
    return static_cast<uint64_t>(s.f_bavail) * static_cast<uint64_t>(s.f_frsize);
}

std::string canonical_path(const std::string &path) {
    char *r = ::realpath(path.c_str(), nullptr);
    if (!r) {
        int e = errno;
        fail(e == ENOENT ? MLXMTP_ERR_NOT_FOUND : MLXMTP_ERR_IO, "%s: %s", path.c_str(), std::strerror(e));
    }
    std::string s(r);
    std::free(r);
    return s;
}

bool lpath_exists(const std::string &path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string &path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool dir_is_empty(const std::string &path) {
    DIR *d = ::opendir(path.c_str());
    if (!d) return false;
    bool empty = true;
    while (struct dirent *e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") {
            empty = false;
            break;
        }
    }
    ::closedir(d);
    return empty;
}

}  // namespace mlxmtp::detail
