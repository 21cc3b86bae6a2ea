// The handle structs of the tokenizer section of the C API.  A model that
// owns a tokenizer shares it with a handle through make_tokenizer_handle().
#pragma once
#include "api/api_common.h"
#include "parse/output_parser.h"
#include "tok/detokenizer.h"
#include "tok/tokenizer.h"

#include <memory>
#include <mutex>
#include <string>

struct mlxmtp_tokenizer {
    std::shared_ptr<const mlxmtp::detail::tokenizer> tok;
    mlxmtp::detail::error_slot err;
    std::mutex err_mutex;  // guards err.message writes (encode/decode may run concurrently)
    std::string result;    // last render_chat / id_to_token result
};

struct mlxmtp_detokenizer {
    std::unique_ptr<mlxmtp::detail::detokenizer> d;
    mlxmtp::detail::error_slot err;
    std::string out;
    bool keep = false;  // out holds text not yet returned (a push failed midway)
};

struct mlxmtp_parser {
    std::unique_ptr<mlxmtp::detail::output_parser> p;
    mlxmtp::detail::error_slot err;
    std::string json;
    size_t calls_seen = 0;
};

namespace mlxmtp::detail {
// A new handle over a tokenizer the caller (e.g. a model) also keeps.
mlxmtp_tokenizer *make_tokenizer_handle(std::shared_ptr<const tokenizer> tok);
}  // namespace mlxmtp::detail
