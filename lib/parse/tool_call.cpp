// One <tool_call> body -> name + JSON arguments (JSON or XML form).
#include "parse/output_parser.h"
#include "tok/json_util.h"

#include <json-c/json.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace mlxmtp::detail {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Parses JSON text leniently (no throw); nullptr on failure.
json_object *try_json(std::string_view s) {
    json_tokener *tk = json_tokener_new();
    if (!tk) return nullptr;
    std::string buf(s);  // NUL-terminated: a bare number at the end is complete
    json_object *o = json_tokener_parse_ex(tk, buf.c_str(), static_cast<int>(buf.size() + 1));
    bool ok = json_tokener_get_error(tk) == json_tokener_success;
    size_t end = json_tokener_get_parse_end(tk);
    json_tokener_free(tk);
    if (ok)
        for (size_t i = end; i < s.size() && s[i]; ++i)
            if (!is_space(s[i])) ok = false;
    if (!ok) {
        if (o) json_object_put(o);
        return nullptr;
    }
    if (!o) return json_object_new_null();  // "null"
    return o;
}

std::string dump(json_object *o) {
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

// The JSON schema of parameter `param` of tool `fn`, or nullptr.
json_object *param_schema(json_object *tools, const std::string &fn, const std::string &param) {
    if (!tools || !json_object_is_type(tools, json_type_array)) return nullptr;
    size_t n = json_object_array_length(tools);
    for (size_t i = 0; i < n; ++i) {
        json_object *t = json_object_array_get_idx(tools, i);
        json_object *f = json_get(t, "function");
        if (!f) f = t;
        if (json_get_string(f, "name") != fn) continue;
        json_object *props = json_get(json_get(f, "parameters"), "properties");
        return json_get(props, param.c_str());
    }
    return nullptr;
}

void collect_types(json_object *schema, std::vector<std::string> &types) {
    if (!schema) return;
    json_object *t = json_get(schema, "type");
    if (t && json_object_is_type(t, json_type_string)) types.push_back(json_object_get_string(t));
    else if (t && json_object_is_type(t, json_type_array))
        for (size_t i = 0; i < json_object_array_length(t); ++i) {
            json_object *e = json_object_array_get_idx(t, i);
            if (json_object_is_type(e, json_type_string)) types.push_back(json_object_get_string(e));
        }
    for (const char *k : {"anyOf", "oneOf"}) {
        json_object *alts = json_get(schema, k);
        if (alts && json_object_is_type(alts, json_type_array))
            for (size_t i = 0; i < json_object_array_length(alts); ++i) collect_types(json_object_array_get_idx(alts, i), types);
    }
    if (types.empty() && json_get(schema, "enum")) types.push_back("enum");
}

// Typed value of an XML parameter: numbers, booleans, null, arrays and
// objects parsed as the schema says; everything else a string.
json_object *typed_value(const std::string &text, json_object *schema) {
    std::vector<std::string> types;
    collect_types(schema, types);
    std::string_view t = trim(text);
    for (const std::string &ty : types) {
        if (ty == "string") break;  // string wins when it is listed first
        if (ty == "integer") {
            errno = 0;
            char *end = nullptr;
            std::string s(t);
            long long v = std::strtoll(s.c_str(), &end, 10);
            if (!s.empty() && end && !*end && !errno) return json_object_new_int64(v);
            double d = std::strtod(s.c_str(), &end);
            // Integral doubles ("1e3") inside int64's range (casting others is undefined).
            if (!s.empty() && end && !*end && d >= -0x1p63 && d < 0x1p63 && d == std::trunc(d))
                return json_object_new_int64(static_cast<long long>(d));
        } else if (ty == "number") {
            json_object *o = try_json(t);
            if (o && (json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double))) return o;
            if (o) json_object_put(o);
        } else if (ty == "boolean") {
            std::string s(t);
            for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (s == "true") return json_object_new_boolean(1);
            if (s == "false") return json_object_new_boolean(0);
        } else if (ty == "null") {
            if (t == "null" || t == "None") return json_object_new_null();
        } else if (ty == "array" || ty == "object") {
            json_object *o = try_json(t);
            if (o && json_object_is_type(o, ty == "array" ? json_type_array : json_type_object)) return o;
            if (o) json_object_put(o);
        } else if (ty == "enum") {
            json_object *o = try_json(t);
            if (o && !json_object_is_type(o, json_type_string) && !json_object_is_type(o, json_type_null)) return o;
            if (o) json_object_put(o);
        }
    }
    return json_object_new_string_len(text.data(), static_cast<int>(text.size()));
}

bool parse_json_form(std::string_view inner, parsed_tool_call *out) {
    json_object *o = try_json(inner);
    if (!o) return false;
    json_ptr holder(o);
    if (!json_object_is_type(o, json_type_object)) return false;
    json_object *name = json_get(o, "name");
    if (!name || !json_object_is_type(name, json_type_string)) return false;
    out->name = json_object_get_string(name);
    json_object *args = json_get(o, "arguments");
    if (!args) args = json_get(o, "parameters");
    if (!args || json_object_is_type(args, json_type_null)) {
        out->arguments = "{}";
    } else if (json_object_is_type(args, json_type_string)) {
        // A JSON string holding the arguments (OpenAI style).
        json_object *inner_args = try_json(json_object_get_string(args));
        if (!inner_args || !json_object_is_type(inner_args, json_type_object)) {
            if (inner_args) json_object_put(inner_args);
            return false;
        }
        out->arguments = dump(inner_args);
        json_object_put(inner_args);
    } else if (json_object_is_type(args, json_type_object)) {
        out->arguments = dump(args);
    } else {
        return false;
    }
    return !out->name.empty();
}

bool parse_xml_form(std::string_view s, const std::string &tools_json, parsed_tool_call *out) {
    static const std::string_view kFn = "<function=", kFnEnd = "</function>", kP = "<parameter=", kPEnd = "</parameter>";
    if (s.substr(0, kFn.size()) != kFn) return false;
    size_t gt = s.find('>', kFn.size());
    if (gt == std::string_view::npos) return false;
    std::string name(trim(s.substr(kFn.size(), gt - kFn.size())));
    if (name.empty() || name.find('<') != std::string::npos || name.find('\n') != std::string::npos) return false;
    json_ptr tools;
    if (!tools_json.empty()) tools.reset(try_json(tools_json));
    json_ptr args(json_object_new_object());
    size_t p = gt + 1;
    while (true) {
        while (p < s.size() && is_space(s[p])) ++p;
        if (p >= s.size()) break;  // truncated: tolerate a missing </function>
        if (s.substr(p, kFnEnd.size()) == kFnEnd) {
            p += kFnEnd.size();
            while (p < s.size() && is_space(s[p])) ++p;
            if (p != s.size()) return false;  // text after </function>
            break;
        }
        if (s.substr(p, kP.size()) != kP) return false;
        size_t pgt = s.find('>', p + kP.size());
        if (pgt == std::string_view::npos) return false;
        std::string pname(trim(s.substr(p + kP.size(), pgt - p - kP.size())));
        if (pname.empty()) return false;
        size_t vb = pgt + 1;
        size_t ve = s.find(kPEnd, vb);
        size_t next;
        size_t np = s.find(kP, vb), nf = s.find(kFnEnd, vb);
        if (ve != std::string_view::npos && (np < ve || nf < ve)) ve = std::string_view::npos;
        if (ve == std::string_view::npos) {
            // Missing </parameter>: the value runs to the next parameter or the end.
            ve = std::min(np, nf);
            if (ve == std::string_view::npos) ve = s.size();
            next = ve;
        } else {
            next = ve + kPEnd.size();
        }
        std::string val(s.substr(vb, ve - vb));
        if (!val.empty() && val.front() == '\n') val.erase(0, 1);
        if (!val.empty() && val.back() == '\n') val.pop_back();
        json_object_object_add(args.get(), pname.c_str(), typed_value(val, param_schema(tools.get(), name, pname)));
        p = next;
    }
    out->name = name;
    out->arguments = dump(args.get());
    return true;
}

}  // namespace

bool parse_tool_call_body(std::string_view inner, const std::string &tools_json, parsed_tool_call *out) {
    std::string_view t = trim(inner);
    if (t.empty()) return false;
    if (t.front() == '{') return parse_json_form(t, out);
    if (t.front() == '<') return parse_xml_form(t, tools_json, out);
    return false;
}

}  // namespace mlxmtp::detail
