#include "chat/chat.h"

#include "chat/template.h"
#include "tok/json_util.h"
#include "tok/tokenizer.h"
#include "util/error.h"

#include <json-c/json.h>

#include <memory>
#include <mutex>
#include <unordered_map>

namespace mlxmtp::detail {

using namespace jinja;

namespace {

// Compiled templates by source text (templates are immutable; a few per process).
std::shared_ptr<const chat_template> compile_cached(const std::string &src) {
    static std::mutex mu;  // guards cache
    static std::unordered_map<std::string, std::shared_ptr<const chat_template>> cache;
    {
        std::lock_guard<std::mutex> lk(mu);
        auto it = cache.find(src);
        if (it != cache.end()) return it->second;
    }
    auto t = std::make_shared<const chat_template>(src);
    std::lock_guard<std::mutex> lk(mu);
    if (cache.size() > 16) cache.clear();
    cache.emplace(src, t);
    return t;
}

void parse_string_arguments(value &messages) {
    if (!messages.is_list()) return;
    for (value &m : *messages.l) {
        if (!m.is_dict()) continue;
        value *calls = m.d->find("tool_calls");
        if (!calls || !calls->is_list()) continue;
        for (value &c : *calls->l) {
            if (!c.is_dict()) continue;
            value *fn = c.d->find("function");
            dict *target = fn && fn->is_dict() ? fn->d.get() : c.d.get();
            value *args = target->find("arguments");
            if (!args || !args->is_string()) continue;
            json_tokener *tk = json_tokener_new();
            json_object *o = json_tokener_parse_ex(tk, args->sv().data(), static_cast<int>(args->sv().size()));
            bool ok = json_tokener_get_error(tk) == json_tokener_success && o && json_object_is_type(o, json_type_object);
            json_tokener_free(tk);
            if (ok) *args = from_json(o);
            if (o) json_object_put(o);
        }
    }
}

}  // namespace

std::string render_chat(const tokenizer *tok, const std::string &template_source, const std::string &input_json,
                        const chat_options &opt) {
    std::string src = template_source;
    if (src.empty() && tok) src = tok->chat_template();
    if (src.empty()) fail(MLXMTP_ERR_NOT_FOUND, "no chat template (no chat_template.jinja or tokenizer_config.json chat_template)");
    json_ptr in;
    try {
        in = json_parse(input_json, "chat input");
    } catch (const error &e) {
        fail(MLXMTP_ERR_INVALID_ARG, "%s", e.what());
    }
    if (!json_object_is_type(in.get(), json_type_object))
        fail(MLXMTP_ERR_INVALID_ARG, "chat input must be a JSON object with \"messages\"");
    json_object *msgs = json_get(in.get(), "messages");
    if (!msgs || !json_object_is_type(msgs, json_type_array))
        fail(MLXMTP_ERR_INVALID_ARG, "chat input: \"messages\" must be an array");

    std::vector<std::pair<std::string, value>> vars;
    auto set = [&](const std::string &k, value v) {
        for (auto &kv : vars)
            if (kv.first == k) { kv.second = std::move(v); return; }
        vars.emplace_back(k, std::move(v));
    };
    // The reference always passes these (defaults: no tools, no generation prompt).
    set("tools", value::none());
    set("add_generation_prompt", value::boolean(false));
    if (tok) {
        if (!tok->bos_token().empty()) set("bos_token", value::str(tok->bos_token()));
        if (!tok->eos_token().empty()) set("eos_token", value::str(tok->eos_token()));
        if (!tok->pad_token().empty()) set("pad_token", value::str(tok->pad_token()));
        if (!tok->unk_token().empty()) set("unk_token", value::str(tok->unk_token()));
    }
    json_object_object_foreach(in.get(), key, val) set(key, from_json(val));
    if (opt.parse_tool_arguments)
        for (auto &kv : vars)
            if (kv.first == "messages") parse_string_arguments(kv.second);
    return compile_cached(src)->render(vars);
}

}  // namespace mlxmtp::detail
