// safetensors writing: shard planning (greedy, size-capped, MLX file names),
// header serialisation (8-byte aligned data section, tensors ordered by
// alignment then name, {"format": "mlx"} metadata), the index file, and an
// atomic single-file writer.
#pragma once
#include "io/safetensors.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mlxmtp::detail {

constexpr uint64_t kDefaultShardBytes = 5ull << 30;  // MLX's MAX_FILE_SIZE_GB = 5

struct st_entry {
    std::string name;
    dtype type = dtype::u8;
    std::vector<int64_t> shape;
    uint64_t nbytes = 0;
};

struct st_file_plan {
    std::string file_name;               // model.safetensors or model-0000k-of-0000N.safetensors
    std::vector<st_entry> entries;       // in data order
    std::vector<uint64_t> data_offset;   // absolute file offset of each entry's bytes
    std::string header;                  // the first bytes of the file: length + JSON + padding
    uint64_t file_size = 0;
};

// Serialises the header for `entries` (already in data order); returns the
// bytes to put at offset 0 and fills `data_offset` / `file_size`.
std::string build_header(const std::vector<st_entry> &entries, const std::map<std::string, std::string> &metadata,
                         std::vector<uint64_t> *data_offset, uint64_t *file_size);

// Splits `entries` (any order; they are sorted by name first) into shards of
// at most `max_shard_bytes` tensor bytes (a larger tensor gets its own).
std::vector<st_file_plan> plan_shards(std::vector<st_entry> entries, uint64_t max_shard_bytes,
                                      const std::map<std::string, std::string> &metadata);

// model.safetensors.index.json text: {"metadata": {"total_size": N}, "weight_map": {sorted}}.
std::string build_index_json(const std::vector<st_file_plan> &plans);

// JSON string literal (quoted, escaped).
std::string json_quote(const std::string &s);

// Writes one safetensors file atomically (temp file, fsync, rename, fsync dir).
struct st_tensor_data {
    st_entry entry;
    const void *data = nullptr;
};
void write_safetensors_file(const std::string &path, const std::vector<st_tensor_data> &tensors,
                            const std::map<std::string, std::string> &metadata);

}  // namespace mlxmtp::detail
