#include "tok/bpe_model.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <queue>

namespace mlxmtp::detail {

static constexpr uint64_t kEmpty = ~0ull;

static inline uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

static inline uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

void bpe_merges::reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    if (cap <= slots_.size()) return;
    std::vector<slot> old;
    old.swap(slots_);
    slots_.assign(cap, slot{kEmpty, 0, 0});
    mask_ = cap - 1;
    count_ = 0;
    for (const slot &s : old)
        if (s.key != kEmpty) {
            size_t i = mix(s.key) & mask_;
            while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
            slots_[i] = s;
            ++count_;
        }
}

void bpe_merges::grow() { reserve(slots_.empty() ? 16 : slots_.size()); }

void bpe_merges::add(int32_t a, int32_t b, int32_t merged, int32_t rank) {
    if ((count_ + 1) * 2 > slots_.size()) reserve((count_ + 1) * 2);
    uint64_t key = pair_key(a, b);
    size_t i = mix(key) & mask_;
    while (slots_[i].key != kEmpty) {
        if (slots_[i].key == key) return;
        i = (i + 1) & mask_;
    }
    slots_[i] = slot{key, rank, merged};
    ++count_;
}

bool bpe_merges::find(int32_t a, int32_t b, int32_t *rank, int32_t *merged) const {
    if (slots_.empty()) return false;
    uint64_t key = pair_key(a, b);
    size_t i = mix(key) & mask_;
    while (true) {
        const slot &s = slots_[i];
        if (s.key == key) { *rank = s.rank; *merged = s.merged; return true; }
        if (s.key == kEmpty) return false;
        i = (i + 1) & mask_;
    }
}

namespace {
struct cand {
    int32_t rank;
    int32_t pos;
    bool operator>(const cand &o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};
}  // namespace

void bpe_apply(const bpe_merges &merges, std::vector<int32_t> &sym) {
    const size_t n = sym.size();
    if (n < 2) return;
    int32_t rank, merged;
    if (n == 2) {
        if (merges.find(sym[0], sym[1], &rank, &merged)) sym.assign(1, merged);
        return;
    }
    if (n <= 32) {
        // Small pieces: per-pair ranks, rescanned for the minimum; only the
        // neighbours of a merge are looked up again.
        int32_t rk[32], mg[32];
        size_t m = n;
        for (size_t i = 0; i + 1 < m; ++i)
            if (!merges.find(sym[i], sym[i + 1], &rk[i], &mg[i])) rk[i] = INT32_MAX;
        while (m > 1) {
            size_t best = 0;
            for (size_t i = 1; i + 1 < m; ++i)
                if (rk[i] < rk[best]) best = i;
            if (rk[best] == INT32_MAX) break;
            sym[best] = mg[best];
            for (size_t i = best + 1; i + 1 < m; ++i) {
                sym[i] = sym[i + 1];
                rk[i] = rk[i + 1];
                mg[i] = mg[i + 1];
            }
            --m;
            if (best + 1 < m && !merges.find(sym[best], sym[best + 1], &rk[best], &mg[best])) rk[best] = INT32_MAX;
            if (best + 1 >= m) rk[best] = INT32_MAX;
            if (best > 0 && !merges.find(sym[best - 1], sym[best], &rk[best - 1], &mg[best - 1])) rk[best - 1] = INT32_MAX;
        }
        sym.resize(m);
        return;
    }
    // Large pieces: linked list + min-heap of candidate merges.
    std::vector<int32_t> prev(n), next(n);
    std::vector<uint8_t> alive(n, 1);
    for (size_t i = 0; i < n; ++i) {
        prev[i] = static_cast<int32_t>(i) - 1;
        next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
    }
    std::priority_queue<cand, std::vector<cand>, std::greater<cand>> heap;
    for (size_t i = 0; i + 1 < n; ++i)
        if (merges.find(sym[i], sym[i + 1], &rank, &merged)) heap.push({rank, static_cast<int32_t>(i)});
    while (!heap.empty()) {
        cand c = heap.top();
        heap.pop();
        int32_t p = c.pos;
        if (!alive[static_cast<size_t>(p)]) continue;
        int32_t q = next[static_cast<size_t>(p)];
        if (q < 0) continue;
        if (!merges.find(sym[static_cast<size_t>(p)], sym[static_cast<size_t>(q)], &rank, &merged) ||
            rank != c.rank)
            continue;  // stale
        sym[static_cast<size_t>(p)] = merged;
        alive[static_cast<size_t>(q)] = 0;
        int32_t r = next[static_cast<size_t>(q)];
        next[static_cast<size_t>(p)] = r;
        if (r >= 0) prev[static_cast<size_t>(r)] = p;
        int32_t l = prev[static_cast<size_t>(p)];
        if (l >= 0 && merges.find(sym[static_cast<size_t>(l)], sym[static_cast<size_t>(p)], &rank, &merged))
            heap.push({rank, l});
        if (r >= 0 && merges.find(sym[static_cast<size_t>(p)], sym[static_cast<size_t>(r)], &rank, &merged))
            heap.push({rank, p});
    }
    size_t w = 0;
    for (int32_t i = 0; i >= 0; i = next[static_cast<size_t>(i)]) sym[w++] = sym[static_cast<size_t>(i)];
    sym.resize(w);
}

}  // namespace mlxmtp::detail
