// Byte-level BPE merge engine: symbols are token ids, merges are keyed by the
// id pair and applied lowest rank first (leftmost on ties), exactly as the
// reference `tokenizers` BPE model does.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace mlxmtp::detail {

class bpe_merges {
public:
    void reserve(size_t n);
    // Registers merge (a, b) -> merged with `rank`; a later duplicate keeps the first.
    void add(int32_t a, int32_t b, int32_t merged, int32_t rank);
    // Looks a pair up; returns false when there is no merge.
    bool find(int32_t a, int32_t b, int32_t *rank, int32_t *merged) const;
    size_t size() const { return count_; }

private:
    struct slot { uint64_t key; int32_t rank; int32_t merged; };
    void grow();
    std::vector<slot> slots_;
    size_t count_ = 0;
    uint64_t mask_ = 0;
};

// Runs BPE over `symbols` (initial token ids, in order) in place.
void bpe_apply(const bpe_merges &merges, std::vector<int32_t> &symbols);

}  // namespace mlxmtp::detail
