#include "tok/json_util.h"

#include "util/error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

namespace mlxmtp::detail {

std::string read_file_bytes(const std::string &path) {
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) {
        if (errno == ENOENT) fail(MLXMTP_ERR_NOT_FOUND, "%s: no such file", path.c_str());
        fail(MLXMTP_ERR_IO, "%s: %s", path.c_str(), std::strerror(errno));
    }
    std::string out;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    bool err = std::ferror(f);
    std::fclose(f);
    if (err) fail(MLXMTP_ERR_IO, "%s: read error", path.c_str());
    return out;
}

bool file_exists(const std::string &path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool dir_exists(const std::string &path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

json_ptr json_parse(const std::string &text, const char *what) {
    json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
    if (!tok) fail(MLXMTP_ERR_OUT_OF_MEMORY, "out of host memory");
    json_object *obj = json_tokener_parse_ex(tok, text.c_str(), static_cast<int>(text.size() + 1));
    json_tokener_error jerr = json_tokener_get_error(tok);
    size_t offset = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success || !obj) {
        if (obj) json_object_put(obj);
        if (jerr == json_tokener_continue)
            fail(MLXMTP_ERR_FORMAT, "%s: truncated JSON", what);
        fail(MLXMTP_ERR_FORMAT, "%s: invalid JSON at byte %zu: %s", what, offset,
             json_tokener_error_desc(jerr));
    }
    // Only whitespace may follow the value.
    if (offset > 0 && offset <= text.size() && text[offset - 1] == '\0') --offset;
    for (size_t i = offset; i < text.size(); ++i) {
        char c = text[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            json_object_put(obj);
            fail(MLXMTP_ERR_FORMAT, "%s: trailing data after JSON value at byte %zu", what, i);
        }
    }
    return json_ptr(obj);
}

json_object *json_get(json_object *obj, const char *key) {
    json_object *v = nullptr;
    if (obj && json_object_is_type(obj, json_type_object) && json_object_object_get_ex(obj, key, &v))
        return v;
    return nullptr;
}

std::string json_get_string(json_object *obj, const char *key, const std::string &def) {
    json_object *v = json_get(obj, key);
    if (v && json_object_is_type(v, json_type_string))
        return std::string(json_object_get_string(v), json_object_get_string_len(v));
    return def;
}

bool json_get_bool(json_object *obj, const char *key, bool def) {
    json_object *v = json_get(obj, key);
    if (v && json_object_is_type(v, json_type_boolean)) return json_object_get_boolean(v);
    return def;
}

}  // namespace mlxmtp::detail
