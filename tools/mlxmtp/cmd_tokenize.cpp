// mlxmtp tokenize: text on stdin -> token ids (or ids -> text with --decode).
#include "cli.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

namespace mlxmtp_cli {
namespace {

struct tokenize_opts {
    std::string model;
    bool json = false;
    bool decode = false;
    bool no_special = false;
    bool add_special = false;
    bool skip_special = false;
};

std::string read_stdin() {
    std::string s((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return s;
}

int run_decode(mlxmtp_tokenizer *tok, const tokenize_opts &o, const std::string &input) {
    std::vector<int32_t> ids;
    size_t i = 0;
    while (i < input.size()) {
        char c = input[i];
        if (c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '[' || c == ']') { ++i; continue; }
        char *end = nullptr;
        long long v = std::strtoll(input.c_str() + i, &end, 10);
        if (end == input.c_str() + i || v < INT32_MIN || v > INT32_MAX) {
            std::fprintf(stderr, "error: --decode expects integer ids separated by commas or spaces (at byte %zu)\n", i);
            return kExitUsage;
        }
        ids.push_back(static_cast<int32_t>(v));
        i = static_cast<size_t>(end - input.c_str());
    }
    uint32_t flags = o.skip_special ? MLXMTP_DETOKENIZE_SKIP_SPECIAL : 0;
    size_t len = 0;
    mlxmtp_status st = mlxmtp_tokenizer_decode(tok, ids.data(), ids.size(), flags, nullptr, 0, &len);
    std::string text;
    if (st == MLXMTP_ERR_BUFFER_TOO_SMALL) {
        text.resize(len + 1);
        st = mlxmtp_tokenizer_decode(tok, ids.data(), ids.size(), flags, &text[0], text.size(), &len);
        text.resize(len);
    }
    if (st != MLXMTP_OK) return report_failure("decoding", st, o.json);
    if (o.json) {
        json_object *r = json_object_new_object();
        json_object_object_add(r, "text", json_object_new_string_len(text.data(), static_cast<int>(text.size())));
        print_json(r);
    } else {
        std::fwrite(text.data(), 1, text.size(), stdout);
    }
    return 0;
}

int run_tokenize(const tokenize_opts &o) {
    mlxmtp_tokenizer *tok = nullptr;
    mlxmtp_status st = mlxmtp_tokenizer_open(o.model.c_str(), &tok);
    if (st != MLXMTP_OK) return report_failure("opening the tokenizer", st, o.json);
    std::string input = read_stdin();
    int rc;
    if (o.decode) {
        rc = run_decode(tok, o, input);
    } else {
        uint32_t flags = (o.no_special ? MLXMTP_TOKENIZE_NO_SPECIAL : 0) | (o.add_special ? MLXMTP_TOKENIZE_ADD_SPECIAL : 0);
        size_t n = 0;
        std::vector<int32_t> ids(input.size() + 8);
        st = mlxmtp_tokenizer_encode(tok, input.data(), input.size(), flags, ids.data(), ids.size(), &n);
        if (st == MLXMTP_ERR_BUFFER_TOO_SMALL) {
            ids.resize(n);
            st = mlxmtp_tokenizer_encode(tok, input.data(), input.size(), flags, ids.data(), ids.size(), &n);
        }
        if (st != MLXMTP_OK) {
            rc = report_failure("tokenizing", st, o.json);
        } else {
            ids.resize(n);
            if (o.json) {
                json_object *r = json_object_new_object();
                json_object *a = json_object_new_array();
                for (int32_t id : ids) json_object_array_add(a, json_object_new_int(id));
                json_object_object_add(r, "ids", a);
                print_json(r);
            } else {
                for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? " %d" : "%d", ids[i]);
                std::printf("\n");
            }
            rc = 0;
        }
    }
    mlxmtp_tokenizer_destroy(tok);
    return rc;
}

[[maybe_unused]] const bool registered = register_command(
    "tokenize", "Tokenize UTF-8 text from stdin (or decode ids with --decode)", [](CLI::App &sub) {
        auto o = std::make_shared<tokenize_opts>();
        sub.add_option("--model", o->model, "Model or tokenizer directory (tokenizer.json / tokenizer.model)")
            ->required();
        sub.add_flag("--json", o->json, "Print {\"ids\": [...]} (or {\"text\": ...} with --decode)");
        sub.add_flag("--decode", o->decode, "Read ids separated by commas or spaces and print the text");
        sub.add_flag("--no-special", o->no_special, "Treat special-token markers in the text as plain text");
        sub.add_flag("--add-special", o->add_special, "Add BOS/EOS as tokenizer_config.json asks");
        sub.add_flag("--skip-special", o->skip_special, "With --decode: leave special tokens out");
        sub.footer("The whole of stdin is tokenized, including a trailing newline.");
        return [o]() { return run_tokenize(*o); };
    });

}  // namespace
}  // namespace mlxmtp_cli
