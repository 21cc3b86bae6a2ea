// SentencePiece tokenizer (tokenizer.model) through libsentencepiece.
#include "tok/tokenizer.h"
#include "util/error.h"

#include <sentencepiece_processor.h>

namespace mlxmtp::detail {
namespace {

class spm_tokenizer final : public tokenizer {
public:
    explicit spm_tokenizer(const std::string &path) {
        backend_ = "sentencepiece";
        sentencepiece::util::Status st;
        try {
            st = sp_.Load(path);
        } catch (const std::exception &e) {  // libsentencepiece throws on some malformed models (its trie builder)
            fail(MLXMTP_ERR_FORMAT, "%s: not a SentencePiece model: %s", path.c_str(), e.what());
        }
        if (!st.ok()) fail(MLXMTP_ERR_FORMAT, "%s: not a SentencePiece model: %s", path.c_str(), st.ToString().c_str());
        int n = sp_.GetPieceSize();
        id_to_token_.reserve(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) set_vocab_entry(i, sp_.IdToPiece(i));
        if (sp_.bos_id() >= 0) { bos_token_ = sp_.IdToPiece(sp_.bos_id()); add_bos_ = false; }
        if (sp_.eos_id() >= 0) eos_token_ = sp_.IdToPiece(sp_.eos_id());
        if (sp_.pad_id() >= 0) pad_token_ = sp_.IdToPiece(sp_.pad_id());
        if (sp_.unk_id() >= 0) unk_token_ = sp_.IdToPiece(sp_.unk_id());
    }

protected:
    void encode_text(std::string_view text, std::vector<int32_t> &out) const override {
        std::vector<int> ids;
        auto st = sp_.Encode(text, &ids);
        if (!st.ok()) fail(MLXMTP_ERR_INVALID_ARG, "SentencePiece encode failed: %s", st.ToString().c_str());
        out.insert(out.end(), ids.begin(), ids.end());
    }

    bool backend_token_bytes(int32_t id, bool first, std::string &out) const override {
        if (id < 0 || id >= sp_.GetPieceSize()) return false;
        if (sp_.IsControl(id)) return true;  // <s>, </s>: no text, as DecodeIds
        if (sp_.IsUnknown(id)) { out += " \xE2\x81\x87 "; return true; }  // " ⁇ "
        const std::string &piece = sp_.IdToPiece(id);
        if (sp_.IsByte(id) && piece.size() == 6) {  // <0xAB> (a malformed model's other byte pieces: as text)
            auto hex = [](char c) {
                return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            };
            const int hi = hex(piece[3]), lo = hex(piece[4]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                return true;
            }
        }
        static const std::string kSpace = "\xE2\x96\x81";  // U+2581
        size_t i = 0;
        if (first && piece.compare(0, kSpace.size(), kSpace) == 0) i = kSpace.size();
        while (i < piece.size()) {
            if (piece.compare(i, kSpace.size(), kSpace) == 0) {
                out.push_back(' ');
                i += kSpace.size();
            } else {
                out.push_back(piece[i++]);
            }
        }
        return true;
    }

private:
    sentencepiece::SentencePieceProcessor sp_;
};

}  // namespace

std::unique_ptr<tokenizer> open_spm_tokenizer(const std::string &path) {
    return std::unique_ptr<tokenizer>(new spm_tokenizer(path));
}

}  // namespace mlxmtp::detail
