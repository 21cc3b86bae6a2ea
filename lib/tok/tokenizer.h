// The tokenizer object: a backend (byte-level BPE from tokenizer.json, or
// SentencePiece from tokenizer.model) plus what tokenizer_config.json and
// chat_template.jinja add (added tokens, special-token strings, chat template).
// Immutable after open: encode / decode / token_bytes are safe to call from
// several threads at once.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mlxmtp::detail {

struct added_token {
    std::string content;
    int32_t id = -1;
    bool special = false;
    bool lstrip = false, rstrip = false, single_word = false;
    bool normalized = false;
};

struct encode_options {
    bool parse_special = true;  // match special added tokens in the text
    bool add_special = false;   // add BOS/EOS as tokenizer_config.json asks
};

class tokenizer {
public:
    virtual ~tokenizer();

    // Opens a directory (tokenizer.json, else tokenizer.model; plus
    // tokenizer_config.json and chat_template.jinja when present) or a single
    // tokenizer.json / tokenizer.model file.  Throws detail::error.
    static std::unique_ptr<tokenizer> open(const std::string &path);

    std::vector<int32_t> encode(std::string_view text, const encode_options &opt = {}) const;
    void encode(std::string_view text, const encode_options &opt, std::vector<int32_t> &out) const;

    // Batch decode (lossy UTF-8: invalid byte sequences become U+FFFD, as the
    // reference does).  Unknown ids throw MLXMTP_ERR_INVALID_ARG.
    std::string decode(const int32_t *ids, size_t n, bool skip_special = false) const;

    // Appends the raw bytes of token `id` (may be a partial UTF-8 sequence).
    // `first` is true for the first token of a decode (SentencePiece drops the
    // dummy-prefix space there).  Returns false for an unknown id.
    bool token_bytes(int32_t id, bool first, bool skip_special, std::string &out) const;

    // Vocabulary: ids are 0 .. vocab_size()-1 (added tokens included).
    size_t vocab_size() const { return id_to_token_.size(); }
    int32_t token_to_id(std::string_view token) const;  // -1 if absent
    const std::string *id_to_token(int32_t id) const;   // nullptr if absent
    bool is_special(int32_t id) const;
    const std::vector<added_token> &added_tokens() const { return added_; }

    // tokenizer_config.json strings ("" when unset) and their ids (-1).
    const std::string &bos_token() const { return bos_token_; }
    const std::string &eos_token() const { return eos_token_; }
    const std::string &pad_token() const { return pad_token_; }
    const std::string &unk_token() const { return unk_token_; }
    int32_t bos_id() const { return token_to_id(bos_token_); }
    int32_t eos_id() const { return token_to_id(eos_token_); }
    int32_t pad_id() const { return token_to_id(pad_token_); }

    // chat_template.jinja, else tokenizer_config.json's chat_template ("" if none).
    const std::string &chat_template() const { return chat_template_; }
    const std::string &backend_name() const { return backend_; }
    const std::string &path() const { return path_; }

protected:
    tokenizer() = default;
    // Encodes text that contains no added tokens.
    virtual void encode_text(std::string_view text, std::vector<int32_t> &out) const = 0;
    // Bytes of a backend (non-added) token.
    virtual bool backend_token_bytes(int32_t id, bool first, std::string &out) const = 0;
    // Normalizes text before added tokens with normalized=true are matched
    // and before encode_text (identity by default).
    virtual std::string normalize(std::string_view text) const { return std::string(text); }
    virtual bool normalizes() const { return false; }

    void set_vocab_entry(int32_t id, const std::string &token);
    void add_added_token(const added_token &t);
    void finish_added_tokens();
    void load_config_files(const std::string &dir);

    std::vector<std::string> id_to_token_;
    std::unordered_map<std::string, int32_t> token_to_id_;
    std::vector<added_token> added_;
    std::vector<uint8_t> special_;     // per id: 1 = special added token
    std::vector<int32_t> added_index_; // per id: index into added_ or -1
    std::string bos_token_, eos_token_, pad_token_, unk_token_;
    bool add_bos_ = false, add_eos_ = false;
    std::string chat_template_;
    std::string backend_;
    std::string path_;

private:
    struct match { size_t begin, end; int32_t token; };
    void split_added(std::string_view text, bool normalized_pass, bool parse_special,
                     std::vector<match> &out) const;
    void encode_no_added(std::string_view text, bool parse_special, std::vector<int32_t> &out) const;
    // first byte -> indices into added_ sorted longest first
    std::vector<int32_t> by_first_byte_[256];
};

// Backends (lib/tok/bpe_tokenizer.cpp, lib/tok/spm_tokenizer.cpp).
std::unique_ptr<tokenizer> open_bpe_tokenizer(const std::string &tokenizer_json_path);
std::unique_ptr<tokenizer> open_spm_tokenizer(const std::string &model_path);

}  // namespace mlxmtp::detail
