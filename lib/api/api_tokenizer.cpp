// C ABI of the tokenizer, chat templates, detokenizer and output parser.
#include "api/api_tokenizer.h"

#include "chat/chat.h"

#include <cstring>

using namespace mlxmtp::detail;

namespace {

// guard() for objects used from several threads: the object's error slot is
// written under its mutex.
template <class F>
mlxmtp_status guard_tok(const mlxmtp_tokenizer *t, F &&body) noexcept {
    mlxmtp_status st = guard(nullptr, std::forward<F>(body));
    if (st != MLXMTP_OK && t) {
        auto *m = const_cast<mlxmtp_tokenizer *>(t);
        try {
            std::lock_guard<std::mutex> lk(m->err_mutex);
            m->err.message = thread_error();
        } catch (...) {
        }
    }
    return st;
}

void need(bool ok, const char *what) {
    if (!ok) fail(MLXMTP_ERR_INVALID_ARG, "%s", what);
}

}  // namespace

mlxmtp_tokenizer *mlxmtp::detail::make_tokenizer_handle(std::shared_ptr<const tokenizer> tok) {
    auto *h = new mlxmtp_tokenizer;
    h->tok = std::move(tok);
    return h;
}

extern "C" {

mlxmtp_status mlxmtp_tokenizer_open(const char *path, mlxmtp_tokenizer **out) {
    if (out) *out = nullptr;
    return guard(nullptr, [&] {
        need(path && out, "mlxmtp_tokenizer_open: path and out must not be NULL");
        std::shared_ptr<const tokenizer> t(tokenizer::open(path));
        *out = make_tokenizer_handle(std::move(t));
        return MLXMTP_OK;
    });
}

void mlxmtp_tokenizer_destroy(mlxmtp_tokenizer *tok) { delete tok; }

const char *mlxmtp_tokenizer_last_error(const mlxmtp_tokenizer *tok) {
    return tok ? tok->err.message.c_str() : "";
}

uint32_t mlxmtp_tokenizer_vocab_size(const mlxmtp_tokenizer *tok) {
    return tok ? static_cast<uint32_t>(tok->tok->vocab_size()) : 0;
}

mlxmtp_status mlxmtp_tokenizer_encode(const mlxmtp_tokenizer *tok, const char *text, size_t len, uint32_t flags,
                                      int32_t *ids, size_t capacity, size_t *n_ids) {
    return guard_tok(tok, [&] {
        need(tok && n_ids && (text || len == 0) && (ids || capacity == 0),
             "mlxmtp_tokenizer_encode: NULL argument");
        if (flags & ~(MLXMTP_TOKENIZE_NO_SPECIAL | MLXMTP_TOKENIZE_ADD_SPECIAL))
            fail(MLXMTP_ERR_INVALID_ARG, "mlxmtp_tokenizer_encode: unknown flags 0x%x", flags);
        encode_options o;
        o.parse_special = !(flags & MLXMTP_TOKENIZE_NO_SPECIAL);
        o.add_special = (flags & MLXMTP_TOKENIZE_ADD_SPECIAL) != 0;
        std::vector<int32_t> v = tok->tok->encode(std::string_view(text ? text : "", len), o);
        *n_ids = v.size();
        if (v.size() > capacity)
            fail(MLXMTP_ERR_BUFFER_TOO_SMALL, "mlxmtp_tokenizer_encode: %zu ids do not fit in %zu", v.size(), capacity);
        if (!v.empty()) std::memcpy(ids, v.data(), v.size() * sizeof(int32_t));
        return MLXMTP_OK;
    });
}

mlxmtp_status mlxmtp_tokenizer_decode(const mlxmtp_tokenizer *tok, const int32_t *ids, size_t n_ids, uint32_t flags,
                                      char *text, size_t capacity, size_t *len) {
    return guard_tok(tok, [&] {
        need(tok && len && (ids || n_ids == 0) && (text || capacity == 0), "mlxmtp_tokenizer_decode: NULL argument");
        if (flags & ~MLXMTP_DETOKENIZE_SKIP_SPECIAL)
            fail(MLXMTP_ERR_INVALID_ARG, "mlxmtp_tokenizer_decode: unknown flags 0x%x", flags);
        std::string s = tok->tok->decode(ids, n_ids, (flags & MLXMTP_DETOKENIZE_SKIP_SPECIAL) != 0);
        *len = s.size();
        if (s.size() + 1 > capacity)
            fail(MLXMTP_ERR_BUFFER_TOO_SMALL, "mlxmtp_tokenizer_decode: %zu bytes (+1 for the NUL) do not fit in %zu",
                 s.size(), capacity);
        std::memcpy(text, s.c_str(), s.size() + 1);
        return MLXMTP_OK;
    });
}

mlxmtp_status mlxmtp_tokenizer_token_to_id(const mlxmtp_tokenizer *tok, const char *token, int32_t *id) {
    return guard_tok(tok, [&] {
        need(tok && token && id, "mlxmtp_tokenizer_token_to_id: NULL argument");
        int32_t v = tok->tok->token_to_id(token);
        if (v < 0) fail(MLXMTP_ERR_NOT_FOUND, "token '%s' is not in the vocabulary", token);
        *id = v;
        return MLXMTP_OK;
    });
}

mlxmtp_status mlxmtp_tokenizer_id_to_token(mlxmtp_tokenizer *tok, int32_t id, const char **token) {
    return guard_tok(tok, [&] {
        need(tok && token, "mlxmtp_tokenizer_id_to_token: NULL argument");
        const std::string *s = tok->tok->id_to_token(id);
        if (!s) fail(MLXMTP_ERR_INVALID_ARG, "token id %d is not in the vocabulary", id);
        tok->result = *s;
        *token = tok->result.c_str();
        return MLXMTP_OK;
    });
}

int32_t mlxmtp_tokenizer_special_id(const mlxmtp_tokenizer *tok, int32_t which) {
    if (!tok) return -1;
    switch (which) {
    case MLXMTP_TOKEN_BOS: return tok->tok->bos_id();
    case MLXMTP_TOKEN_EOS: return tok->tok->eos_id();
    case MLXMTP_TOKEN_PAD: return tok->tok->pad_id();
    case MLXMTP_TOKEN_UNK: return tok->tok->token_to_id(tok->tok->unk_token());
    default: return -1;
    }
}

int32_t mlxmtp_tokenizer_is_special(const mlxmtp_tokenizer *tok, int32_t id) {
    return tok && tok->tok->is_special(id) ? 1 : 0;
}

void mlxmtp_chat_params_init(mlxmtp_chat_params *p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
}

mlxmtp_status mlxmtp_tokenizer_render_chat(mlxmtp_tokenizer *tok, const char *input_json,
                                           const mlxmtp_chat_params *params, const char **text, size_t *len) {
    if (text) *text = nullptr;
    return guard_tok(tok, [&] {
        need(tok && input_json && text, "mlxmtp_tokenizer_render_chat: NULL argument");
        mlxmtp_chat_params def;
        mlxmtp_chat_params_init(&def);
        mlxmtp_chat_params p = read_params(params, def);
        if (p.flags & ~MLXMTP_CHAT_PARSE_TOOL_ARGUMENTS)
            fail(MLXMTP_ERR_INVALID_ARG, "mlxmtp_tokenizer_render_chat: unknown flags 0x%x", p.flags);
        chat_options o;
        o.parse_tool_arguments = (p.flags & MLXMTP_CHAT_PARSE_TOOL_ARGUMENTS) != 0;
        tok->result = render_chat(tok->tok.get(), p.template_source ? p.template_source : "", input_json, o);
        *text = tok->result.c_str();
        if (len) *len = tok->result.size();
        return MLXMTP_OK;
    });
}

mlxmtp_status mlxmtp_detokenizer_create(const mlxmtp_tokenizer *tok, uint32_t flags, mlxmtp_detokenizer **out) {
    if (out) *out = nullptr;
    return guard(nullptr, [&] {
        need(tok && out, "mlxmtp_detokenizer_create: NULL argument");
        if (flags & ~MLXMTP_DETOKENIZE_SKIP_SPECIAL)
            fail(MLXMTP_ERR_INVALID_ARG, "mlxmtp_detokenizer_create: unknown flags 0x%x", flags);
        auto d = std::make_unique<mlxmtp_detokenizer>();
        d->d = std::make_unique<detokenizer>(*tok->tok, (flags & MLXMTP_DETOKENIZE_SKIP_SPECIAL) != 0);
        *out = d.release();
        return MLXMTP_OK;
    });
}

void mlxmtp_detokenizer_destroy(mlxmtp_detokenizer *d) { delete d; }

const char *mlxmtp_detokenizer_last_error(const mlxmtp_detokenizer *d) { return d ? d->err.message.c_str() : ""; }

mlxmtp_status mlxmtp_detokenizer_push(mlxmtp_detokenizer *d, const int32_t *ids, size_t n_ids, const char **text,
                                      size_t *len) {
    if (text) *text = "";
    if (len) *len = 0;
    return guard(d ? &d->err : nullptr, [&] {
        need(d && text && (ids || n_ids == 0), "mlxmtp_detokenizer_push: NULL argument");
        if (!d->keep) d->out.clear();
        d->keep = true;  // on failure the text of the ids before the bad one stays for the next call
        for (size_t i = 0; i < n_ids; ++i) d->d->push(&ids[i], 1, d->out);
        d->keep = false;
        *text = d->out.c_str();
        if (len) *len = d->out.size();
        return MLXMTP_OK;
    });
}

mlxmtp_status mlxmtp_detokenizer_flush(mlxmtp_detokenizer *d, const char **text, size_t *len) {
    if (text) *text = "";
    if (len) *len = 0;
    return guard(d ? &d->err : nullptr, [&] {
        need(d && text, "mlxmtp_detokenizer_flush: NULL argument");
        if (!d->keep) d->out.clear();
        d->keep = false;
        d->d->flush(d->out);
        *text = d->out.c_str();
        if (len) *len = d->out.size();
        return MLXMTP_OK;
    });
}

void mlxmtp_parser_params_init(mlxmtp_parser_params *p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
}

mlxmtp_status mlxmtp_parser_create(const mlxmtp_parser_params *params, mlxmtp_parser **out) {
    if (out) *out = nullptr;
    return guard(nullptr, [&] {
        need(out != nullptr, "mlxmtp_parser_create: out must not be NULL");
        mlxmtp_parser_params def;
        mlxmtp_parser_params_init(&def);
        mlxmtp_parser_params p = read_params(params, def);
        if (p.flags & ~(MLXMTP_PARSER_START_IN_REASONING | MLXMTP_PARSER_KEEP_WHITESPACE))
            fail(MLXMTP_ERR_INVALID_ARG, "mlxmtp_parser_create: unknown flags 0x%x", p.flags);
        output_parser_options o;
        o.start_in_reasoning = (p.flags & MLXMTP_PARSER_START_IN_REASONING) != 0;
        if (p.prompt) o.start_in_reasoning = prompt_opens_reasoning(p.prompt);
        o.keep_whitespace = (p.flags & MLXMTP_PARSER_KEEP_WHITESPACE) != 0;
        if (p.tools_json) o.tools_json = p.tools_json;
        auto h = std::make_unique<mlxmtp_parser>();
        try {
            h->p = std::make_unique<output_parser>(o);
        } catch (const error &e) {
            fail(MLXMTP_ERR_INVALID_ARG, "%s", e.what());
        }
        *out = h.release();
        return MLXMTP_OK;
    });
}

void mlxmtp_parser_destroy(mlxmtp_parser *p) { delete p; }

const char *mlxmtp_parser_last_error(const mlxmtp_parser *p) { return p ? p->err.message.c_str() : ""; }

void mlxmtp_parser_delta_init(mlxmtp_parser_delta *d) {
    if (!d) return;
    std::memset(d, 0, sizeof *d);
    d->struct_size = sizeof *d;
}

static void fill_delta(mlxmtp_parser *p, mlxmtp_parser_delta *delta) {
    size_t n = p->p->tool_calls().size();
    if (delta) {
        mlxmtp_parser_delta v;
        mlxmtp_parser_delta_init(&v);
        v.n_tool_calls = static_cast<uint32_t>(n);
        v.first_new_tool_call = static_cast<uint32_t>(p->calls_seen);
        v.reasoning = p->p->reasoning_delta().c_str();
        v.reasoning_len = p->p->reasoning_delta().size();
        v.content = p->p->content_delta().c_str();
        v.content_len = p->p->content_delta().size();
        v.n_invalid_tool_calls = static_cast<uint32_t>(p->p->invalid_tool_calls());
        write_info(delta, v);
    }
    p->calls_seen = n;
}

mlxmtp_status mlxmtp_parser_feed(mlxmtp_parser *p, const char *text, size_t len, mlxmtp_parser_delta *delta) {
    return guard(p ? &p->err : nullptr, [&] {
        need(p && (text || len == 0), "mlxmtp_parser_feed: NULL argument");
        p->p->feed(std::string_view(text ? text : "", len));
        fill_delta(p, delta);
        return MLXMTP_OK;
    });
}

mlxmtp_status mlxmtp_parser_finish(mlxmtp_parser *p, mlxmtp_parser_delta *delta) {
    return guard(p ? &p->err : nullptr, [&] {
        need(p != nullptr, "mlxmtp_parser_finish: NULL parser");
        p->p->finish();
        fill_delta(p, delta);
        return MLXMTP_OK;
    });
}

void mlxmtp_parser_reset(mlxmtp_parser *p) {
    if (!p) return;
    p->p->reset();
    p->calls_seen = 0;
}

mlxmtp_status mlxmtp_parser_tool_call(const mlxmtp_parser *p, uint32_t index, const char **name,
                                      const char **arguments) {
    return guard(p ? const_cast<error_slot *>(&p->err) : nullptr, [&] {
        need(p && name && arguments, "mlxmtp_parser_tool_call: NULL argument");
        const auto &calls = p->p->tool_calls();
        if (index >= calls.size())
            fail(MLXMTP_ERR_INVALID_ARG, "tool call %u does not exist (%zu parsed)", index, calls.size());
        *name = calls[index].name.c_str();
        *arguments = calls[index].arguments.c_str();
        return MLXMTP_OK;
    });
}

mlxmtp_status mlxmtp_parser_result_json(mlxmtp_parser *p, const char **json) {
    return guard(p ? &p->err : nullptr, [&] {
        need(p && json, "mlxmtp_parser_result_json: NULL argument");
        p->json = p->p->result_json();
        *json = p->json.c_str();
        return MLXMTP_OK;
    });
}

}  // extern "C"
