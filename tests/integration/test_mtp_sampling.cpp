// MTP speculative sampling keeps vanilla sampling's distribution.
//
// tiny-qwen35-trained (its MTP head's q overlaps the backbone's p, so drafts
// are both accepted and rejected), the first reference prompt, temperature 2
// (flattens the peaked distributions), top-k 3 (applied identically to p and
// q; it keeps the support at 3^3 = 27 sequences), k = 2.  The first generated token comes from the backbone; the
// next two (generated positions 2..k+1) come from a speculative round.  The
// exact vanilla joint distribution of the first three tokens is computed from
// the backbone's logits (1 + 3 + 9 evals); N runs with seeds 1..N give counts.
// Bound: Pearson chi-square over the 27 cells (cells with expected count < 5
// pooled), converted to a z score with the Wilson-Hilferty approximation;
// the exact sampler must give z < 4 (p ~ 3e-5, fixed seeds so deterministic),
// and a sample in a cell of probability 0 is an immediate failure.  The same
// test on two deliberately wrong variants (accept every draft; resample from
// p instead of the residual max(0, p - q)) must give z > 4.
#include "fixture_data.h"
#include "model/model.h"
#include "session/generator.h"
#include "engine_models.h"
#include "test_env.h"

#include <cmath>
#include <cstdio>
#include <array>
#include <map>

using namespace mlxmtp;
using namespace mlxmtp::detail;

namespace {

sampling_params sp_test() {
    sampling_params sp;
    sp.temperature = 2.0f;  // flattens the trained model's peaked distributions: more cells, more rejections
    sp.top_k = 3;
    return sp;
}

using seq3 = std::array<int32_t, 3>;

std::map<seq3, double> exact_vanilla(const engine_model &m, const std::vector<int32_t> &prompt) {
    const int32_t Vu = m.usable_vocab();
    sampling_params sp = sp_test();
    auto dist = [&](const std::vector<int32_t> &seq) {
        engine_session s(m, {});
        s.eval(seq.data(), static_cast<uint32_t>(seq.size()), logits_rows::last);
        std::vector<float> p = sampling_distribution(s.logits().data(), Vu, sp, seq);
        std::vector<std::pair<int32_t, double>> r;
        for (int32_t v = 0; v < Vu; ++v)
            if (p[v] > 0) r.push_back({v, p[v]});
        return r;
    };
    std::map<seq3, double> out;
    for (auto [a, pa] : dist(prompt)) {
        auto s1 = prompt;
        s1.push_back(a);
        for (auto [b, pb] : dist(s1)) {
            auto s2 = s1;
            s2.push_back(b);
            for (auto [c, pc] : dist(s2)) out[{a, b, c}] = pa * pb * pc;
        }
    }
    return out;
}

// z score of the chi-square statistic (inf when a zero-probability sequence appears).
// The trained fixture: its MTP head's q overlaps the backbone's p, so drafts
// are accepted and rejected and the residual matters.  One prefill; each run
// rolls back to the prompt (exact, within the snapshot window).
double run_variant(spec_variant v, uint32_t N, uint64_t *spec_rounds) {
    const engine_model &m = test::trained_engine_model();
    static std::vector<int32_t> prompt = test::load_trained_cases()[0].prompt;
    static std::map<seq3, double> exact = exact_vanilla(m, prompt);
    generator g(m, {}, decoder_kind::mtp, 2);
    g.set_test_variant(v);
    g.prefill(prompt.data(), static_cast<uint32_t>(prompt.size()));
    std::map<seq3, uint32_t> counts;
    for (uint32_t i = 0; i < N; ++i) {
        if (g.position() > prompt.size()) g.rollback(g.position() - static_cast<uint32_t>(prompt.size()));
        generate_params gp;
        gp.sampling = sp_test();
        gp.sampling.seed = 1 + i;
        gp.max_tokens = 4;  // room for a full k = 2 round after the first token
        std::vector<int32_t> out;
        while (out.size() < 3) {
            step_output so = g.step(gp);
            out.insert(out.end(), so.tokens.begin(), so.tokens.end());
            if (so.finish != finish_reason::none) break;
        }
        if (out.size() < 3) ADD_FAILURE() << "generation ended early";
        ++counts[{out[0], out[1], out[2]}];
    }
    *spec_rounds = g.stats().rounds;
    for (auto &[s, c] : counts)
        if (!exact.count(s)) return INFINITY;
    double chi = 0, pool_e = 0, pool_o = 0;
    int cells = 0;
    for (auto &[s, p] : exact) {
        double e = p * N, o = counts.count(s) ? counts[s] : 0;
        if (e < 5) {
            pool_e += e, pool_o += o;
            continue;
        }
        chi += (o - e) * (o - e) / e;
        ++cells;
    }
    if (pool_e > 0) {
        chi += (pool_o - pool_e) * (pool_o - pool_e) / pool_e;
        ++cells;
    }
    double df = std::max(1, cells - 1);
    double z = (std::cbrt(chi / df) - (1 - 2 / (9 * df))) / std::sqrt(2 / (9 * df));
    std::printf("    chi2 %.1f, df %.0f, z %.2f\n", chi, df, z);
    return z;
}

const uint32_t kSamples = 600;

}  // namespace

TEST(MtpSampling, MatchesVanillaDistribution) {
    test::validation_scope vs;
    uint64_t rounds = 0;
    double z = run_variant(spec_variant::exact, kSamples, &rounds);
    std::printf("  exact speculative sampling, %u runs (%llu rounds): z = %.2f (bound 4)\n", kSamples,
                (unsigned long long)rounds, z);
    EXPECT_GE(rounds, kSamples);  // at least one k = 2 round per run
    EXPECT_LT(z, 4.0);
}

TEST(MtpSampling, AcceptEveryDraftIsDetected) {
    uint64_t rounds = 0;
    double z = run_variant(spec_variant::accept_all, kSamples, &rounds);
    std::printf("  wrong variant 'accept every draft': z = %.2f\n", z);
    EXPECT_GT(z, 4.0);
}

// Needs drafts that are sometimes accepted and sometimes rejected: on the
// random-weight dev model q and p barely overlap, every draft is rejected and
// the residual equals p, so this variant only shows on the trained model.
TEST(MtpSampling, ResampleFromPIsDetected) {
    uint64_t rounds = 0;
    double z = run_variant(spec_variant::resample_from_p, kSamples, &rounds);
    std::printf("  wrong variant 'resample from p': z = %.2f\n", z);
    EXPECT_GT(z, 4.0);
}
