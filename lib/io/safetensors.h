// Strict, memory-mapped safetensors reading (single files and sharded
// checkpoints).  Every violation throws detail::error(MLXMTP_ERR_FORMAT or
// MLXMTP_ERR_IO / MLXMTP_ERR_NOT_FOUND) naming the file and tensor.
#pragma once
#include "util/error.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mlxmtp::detail {

enum class dtype : uint8_t {
    boolean, u8, i8, u16, i16, f16, bf16, u32, i32, f32, u64, i64, f64, f8_e4m3, f8_e5m2, f8_e8m0,
};

const char *dtype_name(dtype t);          // "BF16", "F32", ... (safetensors spelling)
size_t dtype_size(dtype t);               // bytes per element
bool parse_dtype(std::string_view s, dtype *out);

// True when `n` names a file directly inside a directory: not empty, not "."
// or "..", and without '/', '\\' or NUL.  Used for shard names.
bool is_plain_file_name(std::string_view n);

struct tensor_info {
    std::string name;
    dtype type = dtype::f32;
    std::vector<int64_t> shape;
    const uint8_t *data = nullptr;  // points into the mapping; valid while the file lives
    uint64_t nbytes = 0;
    std::string file;               // path of the file holding it

    int64_t numel() const {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        return n;
    }
};

// A read-only memory mapping of a whole file.
class mapped_file {
public:
    explicit mapped_file(const std::string &path);  // throws
    ~mapped_file();
    mapped_file(const mapped_file &) = delete;
    mapped_file &operator=(const mapped_file &) = delete;
    const uint8_t *data() const { return data_; }
    uint64_t size() const { return size_; }
    const std::string &path() const { return path_; }

private:
    std::string path_;
    const uint8_t *data_ = nullptr;
    uint64_t size_ = 0;
};

// One .safetensors file.
class safetensors_file {
public:
    static std::unique_ptr<safetensors_file> open(const std::string &path);
    ~safetensors_file();

    const std::string &path() const;
    const std::vector<tensor_info> &tensors() const;  // in data-offset order
    const tensor_info *find(std::string_view name) const;
    const std::map<std::string, std::string> &metadata() const;

    struct impl;
private:
    explicit safetensors_file(std::unique_ptr<impl> p);
    std::unique_ptr<impl> p_;
};

// A checkpoint directory: model.safetensors, or model.safetensors.index.json
// plus its shards (shard names that escape the directory are rejected).
class checkpoint {
public:
    static std::unique_ptr<checkpoint> open(const std::string &dir);
    ~checkpoint();

    const std::string &dir() const;
    const tensor_info *find(std::string_view name) const;
    std::vector<const tensor_info *> tensors() const;  // sorted by name
    const std::vector<std::unique_ptr<safetensors_file>> &files() const;

    struct impl;
private:
    explicit checkpoint(std::unique_ptr<impl> p);
    std::unique_ptr<impl> p_;
};

}  // namespace mlxmtp::detail
