// Byte-level BPE tokenizer loaded from a Hugging Face tokenizer.json.
#include "tok/bpe_model.h"
#include "tok/json_util.h"
#include "tok/pretokenizer.h"
#include "tok/tokenizer.h"
#include "tok/utf8.h"
#include "util/error.h"

#include <utf8proc.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace mlxmtp::detail {
namespace {

// GPT-2 bytes_to_unicode: byte -> code point.
void byte_unicode_table(uint32_t b2u[256]) {
    bool direct[256] = {};
    for (int b = '!'; b <= '~'; ++b) direct[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
    uint32_t n = 0;
    for (int b = 0; b < 256; ++b) b2u[b] = direct[b] ? static_cast<uint32_t>(b) : 256 + n++;
}

enum class norm_kind { nfc, nfd, nfkc, nfkd };

class bpe_tokenizer final : public tokenizer {
public:
    explicit bpe_tokenizer(const std::string &path);

protected:
    void encode_text(std::string_view text, std::vector<int32_t> &out) const override;
    bool backend_token_bytes(int32_t id, bool, std::string &out) const override {
        if (id < 0 || static_cast<size_t>(id) >= bytes_.size() || !has_bytes_[static_cast<size_t>(id)])
            return false;
        out += bytes_[static_cast<size_t>(id)];
        return true;
    }
    std::string normalize(std::string_view text) const override;
    bool normalizes() const override { return !norms_.empty(); }

private:
    void load_normalizer(json_object *n);
    void load_pre_tokenizer(json_object *p);
    void load_model(json_object *m);
    void encode_piece(std::string_view piece, std::vector<int32_t> &out) const;

    std::vector<norm_kind> norms_;
    std::vector<std::unique_ptr<regex_splitter>> splits_;
    bool byte_level_ = false;
    bool add_prefix_space_ = false;
    bool ignore_merges_ = false;

    uint32_t b2u_[256];
    int32_t u2b_[512];               // code point (< 512) -> byte, -1 if none
    int32_t byte_id_[256];           // single-byte token ids
    std::vector<std::string> bytes_; // per id: raw bytes
    std::vector<uint8_t> has_bytes_;
    std::unordered_map<std::string, int32_t> bytes_to_id_;  // for ignore_merges
    bpe_merges merges_;
    uint64_t instance_id_;  // distinguishes tokenizers in the per-thread piece cache
};

std::atomic<uint64_t> g_next_instance{1};

bpe_tokenizer::bpe_tokenizer(const std::string &path) : instance_id_(g_next_instance.fetch_add(1)) {
    backend_ = "bpe";
    byte_unicode_table(b2u_);
    for (auto &v : u2b_) v = -1;
    for (int b = 0; b < 256; ++b) u2b_[b2u_[b]] = b;
    for (auto &v : byte_id_) v = -1;

    json_ptr doc = json_parse(read_file_bytes(path), path.c_str());
    json_object *root = doc.get();
    if (!json_object_is_type(root, json_type_object)) fail(MLXMTP_ERR_FORMAT, "%s: not a JSON object", path.c_str());
    json_object *model = json_get(root, "model");
    if (!model) fail(MLXMTP_ERR_FORMAT, "%s: no \"model\"", path.c_str());
    load_normalizer(json_get(root, "normalizer"));
    load_pre_tokenizer(json_get(root, "pre_tokenizer"));
    if (json_object *dec = json_get(root, "decoder")) {
        std::string t = json_get_string(dec, "type");
        if (!t.empty() && t != "ByteLevel")
            fail(MLXMTP_ERR_UNSUPPORTED, "%s: decoder '%s' is not supported (byte-level BPE only)", path.c_str(),
                 t.c_str());
    }
    if (!byte_level_)
        fail(MLXMTP_ERR_UNSUPPORTED, "%s: only byte-level BPE tokenizers are supported", path.c_str());
    load_model(model);

    // Added tokens.
    if (json_object *at = json_get(root, "added_tokens"); at && json_object_is_type(at, json_type_array)) {
        size_t n = json_object_array_length(at);
        for (size_t i = 0; i < n; ++i) {
            json_object *e = json_object_array_get_idx(at, i);
            json_object *idv = json_get(e, "id");
            if (!idv || !json_object_is_type(idv, json_type_int))
                fail(MLXMTP_ERR_FORMAT, "%s: added token %zu has no id", path.c_str(), i);
            added_token t;
            t.id = static_cast<int32_t>(json_object_get_int64(idv));
            t.content = json_get_string(e, "content");
            t.special = json_get_bool(e, "special", false);
            t.lstrip = json_get_bool(e, "lstrip", false);
            t.rstrip = json_get_bool(e, "rstrip", false);
            t.single_word = json_get_bool(e, "single_word", false);
            t.normalized = json_get_bool(e, "normalized", !t.special);
            if (t.content.empty()) fail(MLXMTP_ERR_FORMAT, "%s: added token %d is empty", path.c_str(), t.id);
            add_added_token(t);
        }
    }
    // Bytes of every id (added tokens go through the ByteLevel decoder too).
    bytes_.resize(id_to_token_.size());
    has_bytes_.assign(id_to_token_.size(), 0);
    for (size_t id = 0; id < id_to_token_.size(); ++id) {
        const std::string &tok = id_to_token_[id];
        if (tok.empty()) continue;
        std::string b;
        bool mapped = true;
        for (size_t i = 0; i < tok.size();) {
            uint32_t cp;
            size_t n = utf8_decode(tok, i, &cp);
            if (!n || cp >= 512 || u2b_[cp] < 0) { mapped = false; break; }
            b.push_back(static_cast<char>(u2b_[cp]));
            i += n;
        }
        bytes_[id] = mapped ? b : tok;
        has_bytes_[id] = 1;
    }
}

void bpe_tokenizer::load_normalizer(json_object *n) {
    if (!n) return;
    std::string t = json_get_string(n, "type");
    if (t == "Sequence") {
        json_object *arr = json_get(n, "normalizers");
        size_t k = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
        for (size_t i = 0; i < k; ++i) load_normalizer(json_object_array_get_idx(arr, i));
    } else if (t == "NFC") {
        norms_.push_back(norm_kind::nfc);
    } else if (t == "NFD") {
        norms_.push_back(norm_kind::nfd);
    } else if (t == "NFKC") {
        norms_.push_back(norm_kind::nfkc);
    } else if (t == "NFKD") {
        norms_.push_back(norm_kind::nfkd);
    } else {
        fail(MLXMTP_ERR_UNSUPPORTED, "tokenizer.json: normalizer '%s' is not supported", t.c_str());
    }
}

static regex_splitter::behavior parse_behavior(const std::string &b) {
    if (b == "Isolated") return regex_splitter::behavior::isolated;
    if (b == "Removed") return regex_splitter::behavior::removed;
    if (b == "MergedWithPrevious") return regex_splitter::behavior::merged_with_previous;
    if (b == "MergedWithNext") return regex_splitter::behavior::merged_with_next;
    if (b == "Contiguous") return regex_splitter::behavior::contiguous;
    fail(MLXMTP_ERR_UNSUPPORTED, "tokenizer.json: Split behavior '%s' is not supported", b.c_str());
}

void bpe_tokenizer::load_pre_tokenizer(json_object *p) {
    if (!p) return;
    std::string t = json_get_string(p, "type");
    if (t == "Sequence") {
        json_object *arr = json_get(p, "pretokenizers");
        size_t k = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
        for (size_t i = 0; i < k; ++i) load_pre_tokenizer(json_object_array_get_idx(arr, i));
    } else if (t == "Split") {
        json_object *pat = json_get(p, "pattern");
        std::string re;
        if (json_object *r = json_get(pat, "Regex")) re = json_object_get_string(r);
        else if (json_object *s = json_get(pat, "String")) re = regex_escape(json_object_get_string(s));
        else fail(MLXMTP_ERR_FORMAT, "tokenizer.json: Split without a pattern");
        splits_.push_back(std::make_unique<regex_splitter>(re, parse_behavior(json_get_string(p, "behavior", "Isolated")),
                                                           json_get_bool(p, "invert", false)));
    } else if (t == "ByteLevel") {
        byte_level_ = true;
        add_prefix_space_ = json_get_bool(p, "add_prefix_space", false);
        if (json_get_bool(p, "use_regex", true))
            splits_.push_back(std::make_unique<regex_splitter>(kGpt2Pattern, regex_splitter::behavior::isolated, false));
    } else if (t == "Digits") {
        bool individual = json_get_bool(p, "individual_digits", false);
        splits_.push_back(std::make_unique<regex_splitter>(individual ? "\\p{Nd}" : "\\p{Nd}+",
                                                           regex_splitter::behavior::isolated, false));
    } else {
        fail(MLXMTP_ERR_UNSUPPORTED, "tokenizer.json: pre-tokenizer '%s' is not supported", t.c_str());
    }
}

void bpe_tokenizer::load_model(json_object *m) {
    std::string type = json_get_string(m, "type", "BPE");
    if (type != "BPE") fail(MLXMTP_ERR_UNSUPPORTED, "tokenizer.json: model type '%s' is not supported", type.c_str());
    if (json_get_bool(m, "byte_fallback", false))
        fail(MLXMTP_ERR_UNSUPPORTED, "tokenizer.json: byte_fallback BPE is not supported");
    if (!json_get_string(m, "continuing_subword_prefix").empty() || !json_get_string(m, "end_of_word_suffix").empty())
        fail(MLXMTP_ERR_UNSUPPORTED, "tokenizer.json: subword prefixes/suffixes are not supported");
    ignore_merges_ = json_get_bool(m, "ignore_merges", false);
    json_object *vocab = json_get(m, "vocab");
    if (!vocab || !json_object_is_type(vocab, json_type_object))
        fail(MLXMTP_ERR_FORMAT, "tokenizer.json: model.vocab is missing");
    id_to_token_.reserve(static_cast<size_t>(json_object_object_length(vocab)) + 64);
    token_to_id_.reserve(static_cast<size_t>(json_object_object_length(vocab)) + 64);
    json_object_object_foreach(vocab, key, val) {
        if (!json_object_is_type(val, json_type_int)) fail(MLXMTP_ERR_FORMAT, "tokenizer.json: bad vocab id for '%s'", key);
        int64_t id = json_object_get_int64(val);
        if (id < 0 || id > (1 << 28)) fail(MLXMTP_ERR_FORMAT, "tokenizer.json: vocab id %lld out of range", (long long)id);
        set_vocab_entry(static_cast<int32_t>(id), key);
    }
    // Single-byte symbols.
    for (int b = 0; b < 256; ++b) {
        std::string s;
        utf8_append(s, b2u_[b]);
        byte_id_[b] = token_to_id(s);
    }
    json_object *merges = json_get(m, "merges");
    size_t nm = merges && json_object_is_type(merges, json_type_array) ? json_object_array_length(merges) : 0;
    merges_.reserve(nm);
    std::string a, b;
    for (size_t i = 0; i < nm; ++i) {
        json_object *e = json_object_array_get_idx(merges, i);
        if (json_object_is_type(e, json_type_string)) {
            const char *s = json_object_get_string(e);
            const char *sp = std::strchr(s, ' ');
            if (!sp) fail(MLXMTP_ERR_FORMAT, "tokenizer.json: merge %zu has no space", i);
            a.assign(s, static_cast<size_t>(sp - s));
            b.assign(sp + 1);
        } else if (json_object_is_type(e, json_type_array) && json_object_array_length(e) == 2) {
            a = json_object_get_string(json_object_array_get_idx(e, 0));
            b = json_object_get_string(json_object_array_get_idx(e, 1));
        } else {
            fail(MLXMTP_ERR_FORMAT, "tokenizer.json: merge %zu is malformed", i);
        }
        int32_t ia = token_to_id(a), ib = token_to_id(b), im = token_to_id(a + b);
        if (ia < 0 || ib < 0 || im < 0)
            fail(MLXMTP_ERR_FORMAT, "tokenizer.json: merge %zu ('%s' '%s') uses tokens not in the vocabulary", i,
                 a.c_str(), b.c_str());
        merges_.add(ia, ib, im, static_cast<int32_t>(i));
    }
    if (ignore_merges_)
        for (size_t id = 0; id < id_to_token_.size(); ++id) {
            const std::string &tok = id_to_token_[id];
            std::string raw;
            bool ok = true;
            for (size_t i = 0; i < tok.size();) {
                uint32_t cp;
                size_t n = utf8_decode(tok, i, &cp);
                if (!n || cp >= 512 || u2b_[cp] < 0) { ok = false; break; }
                raw.push_back(static_cast<char>(u2b_[cp]));
                i += n;
            }
            if (ok && !raw.empty()) bytes_to_id_.emplace(raw, static_cast<int32_t>(id));
        }
}

std::string bpe_tokenizer::normalize(std::string_view text) const {
    // Quick check: text made only of code points that every normal form
    // leaves alone (and that never compose with a neighbour) needs no work.
    bool stable = true;
    for (size_t i = 0; i < text.size() && stable;) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) { ++i; continue; }
        uint32_t cp = 0;
        size_t n = utf8_decode(text, i, &cp);
        if (!n) break;  // invalid: let utf8proc report it
        bool nfc_only = norms_.size() == 1 && norms_[0] == norm_kind::nfc;
        stable = nfc_only && (cp < 0x300 || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
                              (cp >= 0x3041 && cp <= 0x3096) || (cp >= 0x30A1 && cp <= 0x30FA) ||
                              (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0x1F300 && cp <= 0x1FAFF));
        i += n;
    }
    if (stable) return std::string(text);
    std::string cur(text);
    for (norm_kind k : norms_) {
        int opts = UTF8PROC_STABLE;
        switch (k) {
        case norm_kind::nfc: opts |= UTF8PROC_COMPOSE; break;
        case norm_kind::nfd: opts |= UTF8PROC_DECOMPOSE; break;
        case norm_kind::nfkc: opts |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
        case norm_kind::nfkd: opts |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
        }
        utf8proc_uint8_t *dst = nullptr;
        utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t *>(cur.data()),
                                          static_cast<utf8proc_ssize_t>(cur.size()), &dst,
                                          static_cast<utf8proc_option_t>(opts));
        if (n < 0) fail(MLXMTP_ERR_INVALID_ARG, "text normalization failed: %s", utf8proc_errmsg(n));
        cur.assign(reinterpret_cast<const char *>(dst), static_cast<size_t>(n));
        std::free(dst);
    }
    return cur;
}

void bpe_tokenizer::encode_piece(std::string_view piece, std::vector<int32_t> &out) const {
    if (piece.empty()) return;
    if (ignore_merges_) {
        auto it = bytes_to_id_.find(std::string(piece));
        if (it != bytes_to_id_.end()) { out.push_back(it->second); return; }
    }
    // Per-thread cache of piece -> ids, owned by this tokenizer instance.
    struct piece_cache {
        uint64_t owner = 0;
        std::unordered_map<std::string, std::vector<int32_t>> map;
    };
    thread_local piece_cache cache;
    const bool cacheable = piece.size() <= 48;
    if (cacheable) {
        if (cache.owner != instance_id_) {
            cache.map.clear();
            cache.owner = instance_id_;
        }
        auto it = cache.map.find(std::string(piece));
        if (it != cache.map.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    thread_local std::vector<int32_t> sym;
    sym.clear();
    for (char c : piece) {
        int32_t id = byte_id_[static_cast<unsigned char>(c)];
        if (id >= 0) sym.push_back(id);  // a byte without a token is dropped (no unk)
    }
    bpe_apply(merges_, sym);
    out.insert(out.end(), sym.begin(), sym.end());
    if (cacheable) {
        if (cache.map.size() >= 65536) cache.map.clear();
        cache.map.emplace(std::string(piece), sym);
    }
}

void bpe_tokenizer::encode_text(std::string_view text, std::vector<int32_t> &out) const {
    if (text.empty()) return;
    std::string prefixed;
    if (add_prefix_space_ && text[0] != ' ') {
        prefixed = " ";
        prefixed.append(text);
        text = prefixed;
    }
    std::vector<std::pair<size_t, size_t>> pieces{{0, text.size()}}, next;
    for (const auto &sp : splits_) {
        next.clear();
        for (auto [b, e] : pieces) {
            size_t before = next.size();
            sp->split(text.substr(b, e - b), next);
            for (size_t i = before; i < next.size(); ++i) { next[i].first += b; next[i].second += b; }
        }
        pieces.swap(next);
    }
    for (auto [b, e] : pieces) encode_piece(text.substr(b, e - b), out);
}

}  // namespace

std::unique_ptr<tokenizer> open_bpe_tokenizer(const std::string &path) {
    return std::unique_ptr<tokenizer>(new bpe_tokenizer(path));
}

}  // namespace mlxmtp::detail
