// Small filesystem helpers: whole-file reads and durable atomic writes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mlxmtp::detail {

// Reads a whole file; false when it does not exist or cannot be read.
bool read_file(const std::string &path, std::vector<uint8_t> *out);
bool read_text_file(const std::string &path, std::string *out);

// Writes `path` atomically: a temporary file in the same directory, then
// rename; with `durable`, fsync of the file before and of the directory after
// the rename.  Throws MLXMTP_ERR_IO / MLXMTP_ERR_NO_SPACE.
void write_file_atomic(const std::string &path, const void *data, size_t size, bool durable);

// mkdir -p; throws MLXMTP_ERR_IO.
void make_dirs(const std::string &path);

// fsyncs a directory (after renames inside it); throws MLXMTP_ERR_IO.
void fsync_dir(const std::string &dir);

std::string parent_dir(const std::string &path);
bool path_exists(const std::string &path);

}  // namespace mlxmtp::detail
