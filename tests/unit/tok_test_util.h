// Helpers for the tokenizer / chat / parser unit tests: fixture paths and JSON.
#pragma once
#include "tok/json_util.h"

#include <json-c/json.h>

#include <string>
#include <vector>

namespace tok_test {

inline std::string fixture(const std::string &rel) { return std::string(MLXMTP_FIXTURES_DIR) + "/" + rel; }

inline mlxmtp::detail::json_ptr load_json(const std::string &rel) {
    std::string p = fixture(rel);
    return mlxmtp::detail::json_parse(mlxmtp::detail::read_file_bytes(p), p.c_str());
}

inline std::string str(json_object *o) {
    return std::string(json_object_get_string(o), static_cast<size_t>(json_object_get_string_len(o)));
}

inline std::vector<int32_t> ids(json_object *arr) {
    std::vector<int32_t> v;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; ++i) v.push_back(static_cast<int32_t>(json_object_get_int64(json_object_array_get_idx(arr, i))));
    return v;
}

inline json_object *get(json_object *o, const char *k) {
    json_object *v = nullptr;
    json_object_object_get_ex(o, k, &v);
    return v;
}

}  // namespace tok_test
