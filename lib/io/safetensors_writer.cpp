#include "io/safetensors_writer.h"

#include "util/durable_file.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <unistd.h>

namespace mlxmtp::detail {

std::string json_quote(const std::string &s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': o += "\\\""; break;
        case '\\': o += "\\\\"; break;
        case '\n': o += "\\n"; break;
        case '\r': o += "\\r"; break;
        case '\t': o += "\\t"; break;
        default:
            if (c < 0x20) {
                char b[8];
                std::snprintf(b, sizeof b, "\\u%04x", c);
                o += b;
            } else {
                o += static_cast<char>(c);
            }
        }
    }
    return o + "\"";
}

std::string build_header(const std::vector<st_entry> &entries, const std::map<std::string, std::string> &metadata,
                         std::vector<uint64_t> *data_offset, uint64_t *file_size) {
    std::string j = "{";
    bool first = true;
    if (!metadata.empty()) {
        j += "\"__metadata__\":{";
        bool f2 = true;
        for (auto &kv : metadata) {
            if (!f2) j += ",";
            f2 = false;
            j += json_quote(kv.first) + ":" + json_quote(kv.second);
        }
        j += "}";
        first = false;
    }
    uint64_t off = 0;
    std::vector<uint64_t> rel;
    for (auto &e : entries) {
        if (!first) j += ",";
        first = false;
        j += json_quote(e.name) + ":{\"dtype\":\"" + dtype_name(e.type) + "\",\"shape\":[";
        for (size_t i = 0; i < e.shape.size(); ++i) j += (i ? "," : "") + std::to_string(e.shape[i]);
        j += "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + e.nbytes) + "]}";
        rel.push_back(off);
        off += e.nbytes;
    }
    j += "}";
    while ((8 + j.size()) % 8 != 0) j += ' ';  // the data section starts 8-byte aligned
    std::string h(8, '\0');
    uint64_t n = j.size();
    for (int k = 0; k < 8; ++k) h[k] = static_cast<char>((n >> (8 * k)) & 0xff);
    h += j;
    if (data_offset) {
        data_offset->clear();
        for (uint64_t r : rel) data_offset->push_back(h.size() + r);
    }
    if (file_size) *file_size = h.size() + off;
    return h;
}

std::vector<st_file_plan> plan_shards(std::vector<st_entry> entries, uint64_t max_shard_bytes,
                                      const std::map<std::string, std::string> &metadata) {
    if (max_shard_bytes == 0) max_shard_bytes = kDefaultShardBytes;
    std::sort(entries.begin(), entries.end(), [](const st_entry &a, const st_entry &b) { return a.name < b.name; });
    std::vector<std::vector<st_entry>> groups;
    uint64_t cur = 0;
    for (auto &e : entries) {
        if (groups.empty() || (cur > 0 && cur + e.nbytes > max_shard_bytes)) {
            groups.emplace_back();
            cur = 0;
        }
        groups.back().push_back(e);
        cur += e.nbytes;
    }
    if (groups.empty()) groups.emplace_back();
    std::vector<st_file_plan> plans;
    const size_t n = groups.size();
    for (size_t i = 0; i < n; ++i) {
        st_file_plan p;
        if (n == 1) {
            p.file_name = "model.safetensors";
        } else {
            char b[64];
            std::snprintf(b, sizeof b, "model-%05zu-of-%05zu.safetensors", i + 1, n);
            p.file_name = b;
        }
        p.entries = std::move(groups[i]);
        // data order: larger element alignment first, then name (as the reference writer)
        std::stable_sort(p.entries.begin(), p.entries.end(), [](const st_entry &a, const st_entry &b) {
            size_t sa = dtype_size(a.type), sb = dtype_size(b.type);
            return sa != sb ? sa > sb : a.name < b.name;
        });
        p.header = build_header(p.entries, metadata, &p.data_offset, &p.file_size);
        plans.push_back(std::move(p));
    }
    return plans;
}

std::string build_index_json(const std::vector<st_file_plan> &plans) {
    uint64_t total = 0;
    std::map<std::string, std::string> wm;
    for (auto &p : plans)
        for (auto &e : p.entries) {
            total += e.nbytes;
            wm[e.name] = p.file_name;
        }
    std::string j = "{\n    \"metadata\": {\n        \"total_size\": " + std::to_string(total) +
                    "\n    },\n    \"weight_map\": {";
    bool first = true;
    for (auto &kv : wm) {
        j += first ? "\n" : ",\n";
        first = false;
        j += "        " + json_quote(kv.first) + ": " + json_quote(kv.second);
    }
    j += "\n    }\n}\n";
    return j;
}

void write_safetensors_file(const std::string &path, const std::vector<st_tensor_data> &tensors,
                            const std::map<std::string, std::string> &metadata) {
    std::vector<st_tensor_data> ordered = tensors;  // data order: larger alignment first, then name
    std::stable_sort(ordered.begin(), ordered.end(), [](const st_tensor_data &a, const st_tensor_data &b) {
        size_t sa = dtype_size(a.entry.type), sb = dtype_size(b.entry.type);
        return sa != sb ? sa > sb : a.entry.name < b.entry.name;
    });
    std::vector<st_entry> entries;
    for (auto &t : ordered) entries.push_back(t.entry);
    std::vector<uint64_t> offs;
    uint64_t size = 0;
    std::string header = build_header(entries, metadata, &offs, &size);
    std::random_device rd;
    std::string tmp = parent_dir(path) + "/." + base_name(path) + ".tmp-" + std::to_string(::getpid()) + "-" +
                      std::to_string(rd());
    try {
        output_file f(tmp);
        f.reserve(size);
        f.pwrite_all(0, header.data(), header.size());
        for (size_t i = 0; i < ordered.size(); ++i)
            f.pwrite_all(offs[i], ordered[i].data, ordered[i].entry.nbytes);
        f.sync_and_close();
        safetensors_file::open(tmp);  // validate what we wrote before it gets its name
        if (::rename(tmp.c_str(), path.c_str()) != 0)
            fail(MLXMTP_ERR_IO, "%s: rename failed", path.c_str());
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    fsync_dir(parent_dir(path));
}

}  // namespace mlxmtp::detail
