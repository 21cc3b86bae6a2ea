// Small json-c helpers: owning pointer, file reading, typed getters.
#pragma once
#include <json-c/json.h>

#include <memory>
#include <string>

namespace mlxmtp::detail {

struct json_deleter {
    void operator()(json_object *o) const { json_object_put(o); }
};
using json_ptr = std::unique_ptr<json_object, json_deleter>;

// Whole file as bytes; throws MLXMTP_ERR_IO (or NOT_FOUND when it is absent).
std::string read_file_bytes(const std::string &path);
bool file_exists(const std::string &path);
bool dir_exists(const std::string &path);

// Parses JSON text; throws MLXMTP_ERR_FORMAT with `what` and the position.
json_ptr json_parse(const std::string &text, const char *what);

// Object member or nullptr.
json_object *json_get(json_object *obj, const char *key);
// String member, or `def` when absent / not a string.
std::string json_get_string(json_object *obj, const char *key, const std::string &def = "");
bool json_get_bool(json_object *obj, const char *key, bool def);

}  // namespace mlxmtp::detail
