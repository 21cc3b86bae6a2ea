// mlxmtp chat-template: a JSON object on stdin (messages, tools,
// add_generation_prompt, enable_thinking, ...) -> the rendered prompt.
#include "cli.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

namespace mlxmtp_cli {
namespace {

struct chat_opts {
    std::string model;
    std::string template_file;
    bool json = false;
    bool parse_args = false;
    bool ids = false;
};

int run_chat_template(const chat_opts &o) {
    std::string tmpl;
    if (!o.template_file.empty()) {
        std::ifstream f(o.template_file, std::ios::binary);
        if (!f) {
            if (o.json) {
                json_object *r = json_object_new_object();
                json_object_object_add(r, "error", json_object_new_string(("cannot read " + o.template_file).c_str()));
                print_json(r);
            } else {
                std::fprintf(stderr, "error: cannot read %s\n", o.template_file.c_str());
            }
            return kExitFailure;
        }
        std::stringstream ss;
        ss << f.rdbuf();
        tmpl = ss.str();
    }
    std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    mlxmtp_tokenizer *tok = nullptr;
    mlxmtp_status st = mlxmtp_tokenizer_open(o.model.c_str(), &tok);
    if (st != MLXMTP_OK) return report_failure("opening the tokenizer", st, o.json);
    mlxmtp_chat_params p;
    mlxmtp_chat_params_init(&p);
    if (!tmpl.empty()) p.template_source = tmpl.c_str();
    if (o.parse_args) p.flags |= MLXMTP_CHAT_PARSE_TOOL_ARGUMENTS;
    const char *text = nullptr;
    size_t len = 0;
    st = mlxmtp_tokenizer_render_chat(tok, input.c_str(), &p, &text, &len);
    int rc = 0;
    if (st != MLXMTP_OK) {
        rc = report_failure("rendering the chat template", st, o.json);
    } else {
        std::string rendered(text, len);
        std::vector<int32_t> ids;
        if (o.ids) {
            size_t n = 0;
            ids.resize(rendered.size() + 8);
            st = mlxmtp_tokenizer_encode(tok, rendered.data(), rendered.size(), 0, ids.data(), ids.size(), &n);
            if (st != MLXMTP_OK) {
                mlxmtp_tokenizer_destroy(tok);
                return report_failure("tokenizing", st, o.json);
            }
            ids.resize(n);
        }
        if (o.json) {
            json_object *r = json_object_new_object();
            json_object_object_add(r, "text", json_object_new_string_len(rendered.data(), static_cast<int>(rendered.size())));
            if (o.ids) {
                json_object *a = json_object_new_array();
                for (int32_t id : ids) json_object_array_add(a, json_object_new_int(id));
                json_object_object_add(r, "ids", a);
            }
            print_json(r);
        } else {
            std::fwrite(rendered.data(), 1, rendered.size(), stdout);
            if (o.ids) {
                for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? " %d" : "\n%d", ids[i]);
                std::printf("\n");
            }
        }
    }
    mlxmtp_tokenizer_destroy(tok);
    return rc;
}

[[maybe_unused]] const bool registered = register_command(
    "chat-template", "Render a chat (JSON object on stdin) with the model's chat template", [](CLI::App &sub) {
        auto o = std::make_shared<chat_opts>();
        sub.add_option("--model", o->model, "Model or tokenizer directory")->required();
        sub.add_option("--template", o->template_file, "Use this Jinja template file instead of the model's");
        sub.add_flag("--json", o->json, "Print {\"text\": ...} or {\"error\": ...}");
        sub.add_flag("--ids", o->ids, "Also print the token ids of the rendered text");
        sub.add_flag("--parse-tool-arguments", o->parse_args,
                     "Turn string tool_calls[].function.arguments (OpenAI style) into JSON objects");
        sub.footer("stdin: {\"messages\": [...], \"tools\": [...], \"add_generation_prompt\": true, "
                   "\"enable_thinking\": false, ...}; every key is a template variable.");
        return [o]() { return run_chat_template(*o); };
    });

}  // namespace
}  // namespace mlxmtp_cli
