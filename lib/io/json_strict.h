// A small strict JSON reader for untrusted file headers (safetensors headers,
// model.safetensors.index.json).  Unlike general-purpose parsers it rejects
// duplicate object keys, keeps integers exact up to 2^64-1 (no double
// rounding), requires valid UTF-8 and limits nesting depth.  Errors throw
// detail::error(MLXMTP_ERR_FORMAT, "<where>: ...").
#pragma once
#include "util/error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlxmtp::detail {

struct jvalue {
    enum kind_t : uint8_t { null_v, bool_v, int_v, num_v, str_v, arr_v, obj_v };
    kind_t kind = null_v;
    bool b = false;
    bool negative = false;  // int_v: value is -u
    uint64_t u = 0;         // int_v: magnitude
    double d = 0;           // num_v (and int_v converted)
    std::string s;          // str_v
    std::vector<jvalue> arr;                             // arr_v
    std::vector<std::pair<std::string, jvalue>> obj;     // obj_v, in file order

    const jvalue *get(std::string_view key) const;       // obj_v lookup, nullptr if absent
    bool is_uint() const { return kind == int_v && !negative; }
};

// Parses `text` as one JSON value surrounded by optional JSON whitespace.
// `where` prefixes error messages (e.g. the file name).
jvalue parse_json_strict(std::string_view text, const std::string &where, int max_depth = 64);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s);

}  // namespace mlxmtp::detail
