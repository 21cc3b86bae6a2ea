#include "tok/tokenizer.h"

#include "tok/json_util.h"
#include "tok/utf8.h"
#include "util/error.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace mlxmtp::detail {

tokenizer::~tokenizer() = default;

static std::string join_path(const std::string &dir, const char *name) {
    if (dir.empty()) return name;
    if (dir.back() == '/') return dir + name;
    return dir + "/" + name;
}

static std::string parent_dir(const std::string &path) {
    size_t p = path.find_last_of('/');
    if (p == std::string::npos) return ".";
    if (p == 0) return "/";
    return path.substr(0, p);
}

std::unique_ptr<tokenizer> tokenizer::open(const std::string &path) {
    if (path.empty()) fail(MLXMTP_ERR_INVALID_ARG, "tokenizer path is empty");
    std::string dir, json_path, spm_path;
    if (dir_exists(path)) {
        dir = path;
        if (file_exists(join_path(dir, "tokenizer.json")))
            json_path = join_path(dir, "tokenizer.json");
        else if (file_exists(join_path(dir, "tokenizer.model")))
            spm_path = join_path(dir, "tokenizer.model");
        else
            fail(MLXMTP_ERR_NOT_FOUND, "%s: no tokenizer.json or tokenizer.model", path.c_str());
    } else if (file_exists(path)) {
        dir = parent_dir(path);
        size_t n = path.size();
        if (n >= 5 && path.compare(n - 5, 5, ".json") == 0)
            json_path = path;
        else
            spm_path = path;
    } else {
        fail(MLXMTP_ERR_NOT_FOUND, "%s: no such file or directory", path.c_str());
    }
    std::unique_ptr<tokenizer> t =
        json_path.empty() ? open_spm_tokenizer(spm_path) : open_bpe_tokenizer(json_path);
    t->path_ = path;
    t->load_config_files(dir);
    t->finish_added_tokens();
    return t;
}

// ---- vocabulary -------------------------------------------------------------

void tokenizer::set_vocab_entry(int32_t id, const std::string &token) {
    if (id < 0 || id > (1 << 28)) fail(MLXMTP_ERR_FORMAT, "token id %d out of range", id);
    if (static_cast<size_t>(id) >= id_to_token_.size()) id_to_token_.resize(static_cast<size_t>(id) + 1);
    id_to_token_[static_cast<size_t>(id)] = token;
    token_to_id_.emplace(token, id);
}

void tokenizer::add_added_token(const added_token &t) {
    for (auto &a : added_)
        if (a.id == t.id) { a = t; set_vocab_entry(t.id, t.content); token_to_id_[t.content] = t.id; return; }
    added_.push_back(t);
    set_vocab_entry(t.id, t.content);
    token_to_id_[t.content] = t.id;
}

void tokenizer::finish_added_tokens() {
    special_.assign(id_to_token_.size(), 0);
    added_index_.assign(id_to_token_.size(), -1);
    for (auto &b : by_first_byte_) b.clear();
    for (size_t i = 0; i < added_.size(); ++i) {
        const added_token &a = added_[i];
        special_[static_cast<size_t>(a.id)] = a.special ? 1 : 0;
        added_index_[static_cast<size_t>(a.id)] = static_cast<int32_t>(i);
        if (a.content.empty()) continue;
        by_first_byte_[static_cast<unsigned char>(a.content[0])].push_back(static_cast<int32_t>(i));
    }
    for (auto &b : by_first_byte_)
        std::stable_sort(b.begin(), b.end(), [&](int32_t x, int32_t y) {
            return added_[static_cast<size_t>(x)].content.size() > added_[static_cast<size_t>(y)].content.size();
        });
}

int32_t tokenizer::token_to_id(std::string_view token) const {
    if (token.empty()) return -1;
    auto it = token_to_id_.find(std::string(token));
    return it == token_to_id_.end() ? -1 : it->second;
}

const std::string *tokenizer::id_to_token(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return nullptr;
    return &id_to_token_[static_cast<size_t>(id)];
}

bool tokenizer::is_special(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < special_.size() && special_[static_cast<size_t>(id)];
}

// ---- tokenizer_config.json / chat_template.jinja ----------------------------

static std::string token_string(json_object *v) {
    if (!v) return "";
    if (json_object_is_type(v, json_type_string))
        return std::string(json_object_get_string(v), json_object_get_string_len(v));
    if (json_object_is_type(v, json_type_object)) return json_get_string(v, "content");
    return "";
}

void tokenizer::load_config_files(const std::string &dir) {
    std::string cfg_path = join_path(dir, "tokenizer_config.json");
    if (file_exists(cfg_path)) {
        json_ptr cfg = json_parse(read_file_bytes(cfg_path), cfg_path.c_str());
        json_object *root = cfg.get();
        if (!json_object_is_type(root, json_type_object))
            fail(MLXMTP_ERR_FORMAT, "%s: not a JSON object", cfg_path.c_str());
        // Added tokens the backend does not know yet (SentencePiece checkpoints).
        if (json_object *dec = json_get(root, "added_tokens_decoder");
            dec && json_object_is_type(dec, json_type_object)) {
            json_object_object_foreach(dec, key, val) {
                char *end = nullptr;
                long id = std::strtol(key, &end, 10);
                if (!end || *end || id < 0 || id > (1 << 28) || !json_object_is_type(val, json_type_object))
                    fail(MLXMTP_ERR_FORMAT, "%s: bad added_tokens_decoder entry '%s'", cfg_path.c_str(), key);
                if (id_to_token(static_cast<int32_t>(id)) && !id_to_token(static_cast<int32_t>(id))->empty()) {
                    bool known = false;
                    for (auto &a : added_) known |= a.id == id;
                    if (known) continue;
                }
                added_token t;
                t.id = static_cast<int32_t>(id);
                t.content = json_get_string(val, "content");
                if (t.content.empty()) continue;
                t.special = json_get_bool(val, "special", false);
                t.lstrip = json_get_bool(val, "lstrip", false);
                t.rstrip = json_get_bool(val, "rstrip", false);
                t.single_word = json_get_bool(val, "single_word", false);
                t.normalized = json_get_bool(val, "normalized", false);
                // A SentencePiece piece of the same text keeps its id as a backend token.
                const std::string *have = id_to_token(t.id);
                if (have && *have == t.content && backend_ == "sentencepiece") {
                    if (t.special) add_added_token(t);
                    continue;
                }
                add_added_token(t);
            }
        }
        bos_token_ = token_string(json_get(root, "bos_token"));
        eos_token_ = token_string(json_get(root, "eos_token"));
        pad_token_ = token_string(json_get(root, "pad_token"));
        unk_token_ = token_string(json_get(root, "unk_token"));
        add_bos_ = json_get_bool(root, "add_bos_token", add_bos_);
        add_eos_ = json_get_bool(root, "add_eos_token", add_eos_);
        if (json_object *ct = json_get(root, "chat_template")) {
            if (json_object_is_type(ct, json_type_string)) {
                chat_template_ = json_get_string(root, "chat_template");
            } else if (json_object_is_type(ct, json_type_array)) {
                size_t n = json_object_array_length(ct);
                for (size_t i = 0; i < n; ++i) {
                    json_object *e = json_object_array_get_idx(ct, i);
                    if (json_get_string(e, "name") == "default" || chat_template_.empty())
                        chat_template_ = json_get_string(e, "template");
                }
            }
        }
    }
    std::string jinja = join_path(dir, "chat_template.jinja");
    if (file_exists(jinja)) chat_template_ = read_file_bytes(jinja);
}

// ---- encoding ---------------------------------------------------------------

static bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
static bool is_word(unsigned char c) { return c >= 0x80 || std::isalnum(c) || c == '_'; }

void tokenizer::split_added(std::string_view text, bool normalized_pass, bool parse_special,
                            std::vector<match> &out) const {
    out.clear();
    size_t i = 0, n = text.size();
    while (i < n) {
        const auto &bucket = by_first_byte_[static_cast<unsigned char>(text[i])];
        bool found = false;
        for (int32_t idx : bucket) {
            const added_token &a = added_[static_cast<size_t>(idx)];
            if (a.normalized != normalized_pass) continue;
            if (a.special && !parse_special) continue;
            if (a.content.size() > n - i || text.compare(i, a.content.size(), a.content) != 0) continue;
            size_t b = i, e = i + a.content.size();
            if (a.single_word) {
                if (b > 0 && is_word(static_cast<unsigned char>(text[b - 1]))) continue;
                if (e < n && is_word(static_cast<unsigned char>(text[e]))) continue;
            }
            if (a.lstrip) {
                size_t lim = out.empty() ? 0 : out.back().end;
                while (b > lim && is_ws(static_cast<unsigned char>(text[b - 1]))) --b;
            }
            if (a.rstrip)
                while (e < n && is_ws(static_cast<unsigned char>(text[e]))) ++e;
            out.push_back({b, e, a.id});
            i = e;
            found = true;
            break;
        }
        if (!found) ++i;
    }
}

void tokenizer::encode_no_added(std::string_view text, bool parse_special, std::vector<int32_t> &out) const {
    if (text.empty()) return;
    if (!normalizes()) {
        encode_text(text, out);
        return;
    }
    std::string norm = normalize(text);
    std::vector<match> m;
    split_added(norm, true, parse_special, m);
    size_t pos = 0;
    for (const match &x : m) {
        if (x.begin > pos) encode_text(std::string_view(norm).substr(pos, x.begin - pos), out);
        out.push_back(x.token);
        pos = x.end;
    }
    if (pos < norm.size()) encode_text(std::string_view(norm).substr(pos), out);
}

void tokenizer::encode(std::string_view text, const encode_options &opt, std::vector<int32_t> &out) const {
    if (!utf8_valid(text)) fail(MLXMTP_ERR_INVALID_ARG, "text is not valid UTF-8");
    if (opt.add_special && add_bos_ && bos_id() >= 0) out.push_back(bos_id());
    std::vector<match> m;
    split_added(text, false, opt.parse_special, m);
    size_t pos = 0;
    for (const match &x : m) {
        if (x.begin > pos) encode_no_added(text.substr(pos, x.begin - pos), opt.parse_special, out);
        out.push_back(x.token);
        pos = x.end;
    }
    if (pos < text.size()) encode_no_added(text.substr(pos), opt.parse_special, out);
    if (opt.add_special && add_eos_ && eos_id() >= 0) out.push_back(eos_id());
}

std::vector<int32_t> tokenizer::encode(std::string_view text, const encode_options &opt) const {
    std::vector<int32_t> out;
    encode(text, opt, out);
    return out;
}

// ---- decoding ---------------------------------------------------------------

bool tokenizer::token_bytes(int32_t id, bool first, bool skip_special, std::string &out) const {
    if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return false;
    if (skip_special && special_[static_cast<size_t>(id)]) return true;
    if (backend_token_bytes(id, first, out)) return true;
    int32_t ai = added_index_[static_cast<size_t>(id)];
    if (ai >= 0) {
        out += added_[static_cast<size_t>(ai)].content;
        return true;
    }
    return false;
}

std::string tokenizer::decode(const int32_t *ids, size_t n, bool skip_special) const {
    std::string bytes;
    bool first = true;
    for (size_t i = 0; i < n; ++i) {
        size_t before = bytes.size();
        if (!token_bytes(ids[i], first, skip_special, bytes))
            fail(MLXMTP_ERR_INVALID_ARG, "token id %d is not in the vocabulary (size %zu)", ids[i],
                 id_to_token_.size());
        if (bytes.size() != before) first = false;
    }
    return utf8_lossy(bytes);
}

}  // namespace mlxmtp::detail
