// Durable file-system helpers for writers (beyond util/fs.h): full-write loops, fsync that is
// never retried, directory fsync, atomic whole-file replacement, recursive
// removal, free-space queries.  Failures throw detail::error naming the path.
#pragma once
#include "util/error.h"
#include "util/fs.h"

#include <cstdint>
#include <string>
#include <sys/types.h>

namespace mlxmtp::detail {

// A file created with O_CREAT|O_EXCL for writing.  Not unlinked on
// destruction: callers write into a temporary directory or rename.
class output_file {
public:
    explicit output_file(const std::string &path);  // throws MLXMTP_ERR_IO / MLXMTP_ERR_EXISTS
    ~output_file();
    output_file(const output_file &) = delete;
    output_file &operator=(const output_file &) = delete;

    // Reserves `size` bytes (posix_fallocate) so that ENOSPC shows up early.
    void reserve(uint64_t size);
    // Writes all of [data, data+len) at `offset`; thread-safe (pwrite).
    void pwrite_all(uint64_t offset, const void *data, size_t len);
    // Starts write-back of a written range now (Linux sync_file_range), so that
    // the final fsync has little left to do; a hint, errors surface at fsync.
    void start_writeback(uint64_t offset, uint64_t len);
    // fsync then close; an fsync failure is final (never retried).
    void sync_and_close();
    const std::string &path() const { return path_; }

private:
    std::string path_;
    int fd_ = -1;
};

// Copies a regular file to `dst` (created exclusively) and fsyncs it.
void copy_file_durable(const std::string &src, const std::string &dst);
// Reads a whole (small) file; throws MLXMTP_ERR_NOT_FOUND / MLXMTP_ERR_IO.
std::string read_file_limited(const std::string &path, size_t limit = 64u << 20);
// Removes a file or directory tree; missing paths are fine.  Best effort.
void remove_tree(const std::string &path) noexcept;
// Free bytes available to unprivileged users on the file system of `path`.
uint64_t free_space(const std::string &path);
// Last component of a path ("a/b/" -> "b").
std::string base_name(const std::string &path);
bool lpath_exists(const std::string &path);  // lstat succeeds (a dangling link counts)
// Canonical absolute path (realpath); throws MLXMTP_ERR_NOT_FOUND.
std::string canonical_path(const std::string &path);
bool is_dir(const std::string &path);       // stat (follows links) says directory
bool dir_is_empty(const std::string &path);

}  // namespace mlxmtp::detail
