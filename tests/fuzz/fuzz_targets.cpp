#include "fuzz_targets.h"

#include "chat/chat.h"
#include "io/json_strict.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "model/config.h"
#include "parse/output_parser.h"
#include "tok/tokenizer.h"
#include "util/error.h"
#include "util/fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

namespace mlxmtp::fuzz {

namespace {

using detail::error;

// A private scratch directory for targets whose parser reads files,
// removed at exit with what the targets wrote into it.
std::vector<std::string> &scratch_paths() {  // in creation order (never destroyed: the atexit handler reads it)
    static auto *p = new std::vector<std::string>;
    return *p;
}

const std::string &scratch_dir() {
    static const std::string dir = [] {
        std::string tmpl = "/tmp/mlxmtp-fuzz-XXXXXX";
        if (!mkdtemp(tmpl.data())) std::abort();
        std::atexit([] {
            auto &p = scratch_paths();
            for (auto it = p.rbegin(); it != p.rend(); ++it) (void)std::remove(it->c_str());
        });
        scratch_paths().push_back(tmpl);
        return tmpl;
    }();
    return dir;
}

std::string write_scratch(const char *name, const uint8_t *data, size_t size) {
    std::string path = scratch_dir() + "/" + name;
    auto &known = scratch_paths();
    if (std::find(known.begin(), known.end(), path) == known.end()) known.push_back(path);
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
    return path;
}

std::string_view text(const uint8_t *data, size_t size) { return {reinterpret_cast<const char *>(data), size}; }

void safetensors_header(const uint8_t *data, size_t size) {
    auto f = detail::safetensors_file::open(write_scratch("f.safetensors", data, size));
    // Every accepted tensor's bytes must lie inside the file: touch them.
    volatile uint8_t sink = 0;
    for (const auto &t : f->tensors()) {
        if (t.nbytes) sink = sink + t.data[0] + t.data[t.nbytes - 1];
        (void)f->find(t.name);
    }
    (void)f->metadata().size();
}

// The input is model.safetensors.index.json; the directory holds two small
// valid shards (a.safetensors: tensors x, y; b.safetensors: z).
void checkpoint_index(const uint8_t *data, size_t size) {
    static const std::string dir = [] {
        std::string d = scratch_dir() + "/ckpt";
        if (mkdir(d.c_str(), 0700) != 0) std::abort();
        scratch_paths().push_back(d);
        static const uint8_t bytes[16] = {};
        using detail::dtype;
        auto shard = [&](const char *name, std::vector<detail::st_tensor_data> tensors) {
            scratch_paths().push_back(d + "/" + name);
            detail::write_safetensors_file(d + "/" + name, tensors, {});
        };
        shard("a.safetensors", {{{"x", dtype::f32, {2}, 8}, bytes}, {{"y", dtype::bf16, {2, 2}, 8}, bytes}});
        shard("b.safetensors", {{{"z", dtype::u8, {3}, 3}, bytes}});
        return d;
    }();
    write_scratch("ckpt/model.safetensors.index.json", data, size);
    auto ck = detail::checkpoint::open(dir);
    for (const auto *t : ck->tensors()) (void)ck->find(t->name);
}

void json(const uint8_t *data, size_t size) { (void)detail::parse_json_strict(text(data, size), "fuzz"); }

void model_config(const uint8_t *data, size_t size) {
    (void)detail::parse_model_config_json(std::string(text(data, size)), "fuzz");
}

// Whatever loads must encode and decode without crashing.
void exercise(const detail::tokenizer &tok) {
    static const char *samples[] = {"Hello, world! 123", "  multiple   spaces\n\ttabs", "<|im_start|>user\nhi<|im_end|>",
                                    "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80", ""};
    for (const char *s : samples) {
        std::vector<int32_t> ids = tok.encode(s);
        try {
            (void)tok.decode(ids.data(), ids.size());
        } catch (const error &) {
        }
    }
    std::vector<int32_t> all;
    for (size_t i = 0; i < tok.vocab_size() && i < 300; ++i) all.push_back(static_cast<int32_t>(i));
    (void)tok.decode(all.data(), all.size(), true);
}

void tokenizer_json(const uint8_t *data, size_t size) {
    exercise(*detail::tokenizer::open(write_scratch("tokenizer.json", data, size)));
}

void tokenizer_model(const uint8_t *data, size_t size) {
    exercise(*detail::tokenizer::open(write_scratch("tokenizer.model", data, size)));
}

// The input is a template; the variables are fixed (the chat tests cover them).
void chat_template(const uint8_t *data, size_t size) {
    static const std::string vars =
        R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"},)"
        R"({"role":"assistant","content":"a","tool_calls":[{"function":{"name":"f","arguments":{"x":1}}}]}],)"
        R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],)"
        R"("add_generation_prompt":true})";
    (void)detail::render_chat(nullptr, std::string(text(data, size)), vars);
}

// The input is the variables (a request's messages, tools, flags) for the
// Qwen3.5 chat template.
void chat_input(const uint8_t *data, size_t size) {
    static const std::string tmpl = [] {
        std::string t;
        if (!detail::read_text_file(std::string(MLXMTP_SOURCE_DIR) + "/tests/fixtures/chat_templates/qwen3.5.jinja", &t) ||
            t.empty())
            std::abort();
        return t;
    }();
    detail::chat_options opt;
    opt.parse_tool_arguments = size && (data[size - 1] & 1);
    (void)detail::render_chat(nullptr, tmpl, std::string(text(data, size)), opt);
}

// The input is generated text, fed in pieces whose sizes come from its first byte.
void output_parser(const uint8_t *data, size_t size) {
    if (size == 0) return;
    detail::output_parser_options opt;
    opt.start_in_reasoning = data[0] & 1;
    if (data[0] & 2)
        opt.tools_json = R"([{"type":"function","function":{"name":"f","parameters":{"type":"object",)"
                         R"("properties":{"n":{"type":"integer"},"s":{"type":"string"},"o":{"type":"object"}}}}}])";
    const size_t step = 1 + (data[0] >> 2);
    detail::output_parser p(opt);
    std::string_view s = text(data + 1, size - 1);
    for (size_t i = 0; i < s.size(); i += step) p.feed(s.substr(i, step));
    p.finish();
    (void)p.result_json();
}

}  // namespace

const std::vector<target> &targets() {
    static const std::vector<target> t = {
        {"safetensors_header", safetensors_header}, {"checkpoint_index", checkpoint_index},
        {"json", json},
        {"model_config", model_config},             {"tokenizer_json", tokenizer_json},
        {"tokenizer_model", tokenizer_model},       {"chat_template", chat_template},
        {"chat_input", chat_input},                 {"output_parser", output_parser},
    };
    return t;
}

std::string run_one(const target &t, const uint8_t *data, size_t size) {
    if (size > kMaxInput) return "";
    try {
        t.run(data, size);
    } catch (const error &) {
        // a clean rejection
    } catch (const std::exception &e) {
        return std::string("unexpected exception: ") + e.what();
    } catch (...) {
        return "unexpected non-standard exception";
    }
    return "";
}

}  // namespace mlxmtp::fuzz
