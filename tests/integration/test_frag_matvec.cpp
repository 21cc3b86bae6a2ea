// The fragment tensor-core matvec (kernel_tuning::frag_matvec,
// ops/linear_frag.h) in the engine, on the MXFP4-quantized trained fixture:
// lavapipe runs the kernel's emulation under the layout NVIDIA's driver 580 reported.  Decode-size
// logits stay close to the fp32 matvec path's, and MTP greedy output still
// equals plain greedy output token for token (the fragment kernel is batch-
// invariant, and decode and verify both take it).
#include "fixture_data.h"
#include "model/model.h"
#include "ops/tuning.h"
#include "quant/quantize.h"
#include "session/generator.h"
#include "session/session.h"
#include "test_env.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

using namespace mlxmtp;
using namespace mlxmtp::detail;

namespace {

std::vector<int32_t> greedy(generator &g, const std::vector<int32_t> &prompt, uint32_t n) {
    g.reset();
    g.prefill(prompt.data(), static_cast<uint32_t>(prompt.size()));
    generate_params gp;
    gp.max_tokens = n;
    std::vector<int32_t> out;
    for (;;) {
        step_output so = g.step(gp);
        out.insert(out.end(), so.tokens.begin(), so.tokens.end());
        if (so.finish != finish_reason::none || so.tokens.empty()) break;
    }
    return out;
}

// The trained fixture quantized to MXFP4 into `dir`.
void quantize_trained_mxfp4(const std::string &dir) {
    quantize_options qo;
    qo.mode = mx_mode::mxfp4;
    quantize_checkpoint(test::fixture("tiny-qwen35-trained"), dir, qo, {});
}

// The longest of the fixture's prompts.
const std::vector<int32_t> &longest_prompt(const std::vector<test::gen_case> &cases) {
    size_t longest = 0;
    for (size_t ci = 1; ci < cases.size(); ++ci)
        if (cases[ci].prompt.size() > cases[longest].prompt.size()) longest = ci;
    return cases[longest].prompt;
}

// Prefill through the fragment kernel (kernel_tuning::frag_prefill) in wider
// dispatches than 16 columns gives `ref` (the logits of p prefilled at 16
// columns per dispatch) bit for bit: each column keeps its sums.  Arms (one
// character each): '1' 64 columns (the grid's y takes the column groups,
// interleaved along x), '0' 40 columns with GINT=0 (not interleaved), '2'
// 64 columns, four groups per workgroup at one row tile per warp (GPW=4
// R=1), '4' the same at 128 columns, '8' 128 columns at GPW=8 R=1, 'p' xn's
// fp16 halves written by the norms at prefill sizes too
// (kernel_tuning::frag_prefill_pairs; x16 copies), 'r' 64 columns with the
// warps on row tiles (kernel_tuning::frag_prefill_rows; x16 copies), 'w' the
// same with pairs, four warps per workgroup, GPW=4 R=1, x loaded at its step
// (XLATE), 'x' WROWS with pairs and x staged in shared memory (XSH), GPW=4.
void expect_wide_prefill_same_bits(const engine_model &m, const std::vector<int32_t> &p, const std::vector<float> &ref,
                                   const char *arms) {
    struct wide_scope {
        explicit wide_scope(char arm) {
            ops::tuning().frag_prefill = true;
            ops::tuning().frag_prefill_cols = arm == '0' ? 40 : arm == 'p' ? 16 : arm == '4' || arm == '8' ? 128 : 64;
            if (arm == '0') ops::tuning().frag_defines = {{"GINT", "0"}};
            if (arm == '2' || arm == '4') ops::tuning().frag_defines = {{"GPW", "4"}, {"R", "1"}};
            if (arm == '8') ops::tuning().frag_defines = {{"GPW", "8"}, {"R", "1"}};
            if (arm == 'w') ops::tuning().frag_defines = {{"GPW", "4"}, {"R", "1"}, {"WNSG", "4"}, {"XLATE", "1"}};
            if (arm == 'x') ops::tuning().frag_defines = {{"GPW", "4"}, {"XSH", "1"}};
            ops::tuning().frag_prefill_pairs = arm == 'p' || arm == 'w' || arm == 'x';
            ops::tuning().frag_prefill_rows = arm == 'r' || arm == 'w' || arm == 'x';
        }
        ~wide_scope() {
            ops::tuning().frag_prefill = ops::tuning().frag_prefill_pairs = ops::tuning().frag_prefill_rows = false;
            ops::tuning().frag_prefill_cols = 0;
            ops::tuning().frag_defines.clear();
        }
    };
    for (const char *a = arms; *a; ++a) {
        wide_scope ws(*a);
        engine_session c(m, {});
        c.eval(p.data(), static_cast<uint32_t>(p.size()), logits_rows::all);
        ASSERT_EQ(c.logits().size(), ref.size());
        EXPECT_EQ(0, std::memcmp(c.logits().data(), ref.data(), ref.size() * 4)) << "arm " << *a;
    }
}

// Batch invariance end to end: the 16 rows of p in one evaluation give, bit
// for bit, the logits of evaluating them one at a time (what makes MTP
// verify equal decode).
void expect_rows_alone_equal_batch(const engine_model &m, const std::vector<int32_t> &p) {
    const uint32_t V = static_cast<uint32_t>(m.text().vocab_size);
    ASSERT_GE(p.size(), 16u);
    engine_session all(m, {}), one(m, {});
    all.eval(p.data(), 16, logits_rows::all);
    for (uint32_t t = 0; t < 16; ++t) {
        one.eval(&p[t], 1, logits_rows::last);
        ASSERT_EQ(one.logits().size(), size_t(V));
        EXPECT_EQ(0, std::memcmp(one.logits().data(), all.logits().data() + size_t(t) * V, size_t(V) * 4))
            << "row " << t;
    }
}

// Largest |a - b| over the largest |a| (logits of two paths).
double max_rel_diff(const std::vector<float> &a, const std::vector<float> &b) {
    double dmax = 0, amax = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        dmax = std::max(dmax, double(std::fabs(a[i] - b[i])));
        amax = std::max(amax, double(std::fabs(a[i])));
    }
    return dmax / amax;
}

// A session of `m` created while the boolean tuning knob is set (e.g.
// frag_no_presplit: its products round or split x themselves;
// no_spread_norm: its layers keep their norm stages).
std::unique_ptr<engine_session> session_with(const engine_model &m, bool ops::kernel_tuning::*knob) {
    struct scope {
        bool ops::kernel_tuning::*k;
        explicit scope(bool ops::kernel_tuning::*k_) : k(k_) { ops::tuning().*k = true; }
        ~scope() { ops::tuning().*k = false; }
    } s(knob);
    return std::make_unique<engine_session>(m, session_options{});
}

}  // namespace

TEST(FragMatvec, TrainedMxfp4DecodeMatchesAndMtpEqualsPlainGreedy) {
    test::validation_scope vs;
    test::temp_dir tmp;
    quantize_trained_mxfp4(tmp / "q");
    auto plain = engine_model::open(tmp / "q", test::validated_device_ptr(), {});
    // x as hi / lo halves (MLXMTP_MODEL_PRECISE_ACTIVATIONS; the X16 test
    // below covers the default, x rounded to fp16).
    model_open_options precise;
    precise.x_split = true;
    ops::tuning().frag_matvec = true;
    std::unique_ptr<engine_model> frag;
    try {
        frag = engine_model::open(tmp / "q", test::validated_device_ptr(), precise);
    } catch (...) {
        ops::tuning().frag_matvec = false;
        throw;
    }
    ops::tuning().frag_matvec = false;
    ASSERT_FALSE(frag->layers()[0].down.frag.x16);
    ASSERT_FALSE(plain->lm_head().frag.valid());
    ASSERT_TRUE(frag->lm_head().frag.valid());
    ASSERT_TRUE(frag->layers()[0].down.frag.valid());

    auto cases = test::load_trained_cases();
    ASSERT_GE(cases.size(), 3u);
    // Logits of the first 16 prompt rows (16 rows: one matvec-path chunk).
    const uint32_t V = static_cast<uint32_t>(plain->text().vocab_size);
    for (size_t ci = 0; ci < 3; ++ci) {
        const std::vector<int32_t> p(cases[ci].prompt.begin(),
                                     cases[ci].prompt.begin() + std::min<size_t>(cases[ci].prompt.size(), 16));
        engine_session a(*plain, {}), b(*frag, {});
        a.eval(p.data(), static_cast<uint32_t>(p.size()), logits_rows::all);
        b.eval(p.data(), static_cast<uint32_t>(p.size()), logits_rows::all);
        const auto &la = a.logits(), &lb = b.logits();
        ASSERT_EQ(la.size(), size_t(p.size()) * V);
        ASSERT_EQ(lb.size(), la.size());
        const double rel = max_rel_diff(la, lb);
        std::printf("  case %zu: 16 prompt rows, largest logit difference %.3g of max |logit|\n", ci, rel);
        EXPECT_LT(rel, 1e-4) << "case " << ci;
    }
    expect_rows_alone_equal_batch(*frag, cases[0].prompt);
    // x split by its producers (the default; matvec_frag.comp XP: the norms,
    // the SwiGLU epilogue, the GDN gated norm and the attention core write
    // (hi, lo) pair words) against sessions whose products split x themselves
    // (kernel_tuning::frag_no_presplit): the same hi / lo halves, so the same
    // logits bit for bit, for 16 rows at once and one at a time.
    {
        const std::vector<int32_t> p(cases[1].prompt.begin(), cases[1].prompt.begin() + 16);
        engine_session pre(*frag, {}), pre1(*frag, {});
        const std::unique_ptr<engine_session> ref_p = session_with(*frag, &ops::kernel_tuning::frag_no_presplit);
        engine_session &ref = *ref_p;
        ASSERT_TRUE(pre.presplit());
        ASSERT_FALSE(ref.presplit());
        ref.eval(p.data(), 16, logits_rows::all);
        pre.eval(p.data(), 16, logits_rows::all);
        ASSERT_EQ(pre.logits().size(), ref.logits().size());
        EXPECT_EQ(0, std::memcmp(pre.logits().data(), ref.logits().data(), ref.logits().size() * 4));
        for (uint32_t t = 0; t < 4; ++t) {
            pre1.eval(&p[t], 1, logits_rows::last);
            EXPECT_EQ(0, std::memcmp(pre1.logits().data(), ref.logits().data() + size_t(t) * V, size_t(V) * 4))
                << "row " << t;
        }
        // Pairs read only by products of at most 4 columns
        // (kernel_tuning::frag_presplit_max_cols): an 8-row eval whose
        // products split x themselves, then a one-row eval reading the pairs.
        struct max_cols_scope {
            max_cols_scope() { ops::tuning().frag_presplit_max_cols = 4; }
            ~max_cols_scope() { ops::tuning().frag_presplit_max_cols = 0; }
        } mc;
        engine_session mixed(*frag, {});
        mixed.eval(p.data(), 8, logits_rows::all);
        ASSERT_EQ(mixed.logits().size(), size_t(8) * V);
        EXPECT_EQ(0, std::memcmp(mixed.logits().data(), ref.logits().data(), size_t(8) * V * 4));
        mixed.eval(&p[8], 1, logits_rows::last);
        ASSERT_EQ(mixed.logits().size(), size_t(V));
        EXPECT_EQ(0, std::memcmp(mixed.logits().data(), ref.logits().data() + size_t(8) * V, size_t(V) * 4));
    }
    // Prefill through the fragment kernel (kernel_tuning::frag_prefill, 8
    // columns per dispatch) against the plain model's matmul prefill.
    {
        const std::vector<int32_t> &p = longest_prompt(cases);
        ASSERT_GT(p.size(), 16u);
        engine_session a(*plain, {}), b(*frag, {});
        a.eval(p.data(), static_cast<uint32_t>(p.size()), logits_rows::all);
        ops::tuning().frag_prefill = true;
        try {
            b.eval(p.data(), static_cast<uint32_t>(p.size()), logits_rows::all);
        } catch (...) {
            ops::tuning().frag_prefill = false;
            throw;
        }
        ops::tuning().frag_prefill = false;
        const auto &la = a.logits(), &lb = b.logits();
        ASSERT_EQ(lb.size(), la.size());
        const double rel = max_rel_diff(la, lb);
        std::printf("  prefill of %zu tokens through the fragment kernel: largest logit difference %.3g of max |logit|\n",
                    p.size(), rel);
        EXPECT_LT(rel, 1e-4);
        expect_wide_prefill_same_bits(*frag, p, lb, "0124");
    }
    // MTP (k = 3) greedy under the fragment kernel equals plain greedy under it.
    generator spec(*frag, {}, decoder_kind::mtp, 3), van(*frag, {});
    for (size_t ci = 0; ci < 3; ++ci) {
        const uint32_t n = static_cast<uint32_t>(std::min<size_t>(cases[ci].greedy.size(), 12));
        EXPECT_EQ(greedy(spec, cases[ci].prompt, n), greedy(van, cases[ci].prompt, n)) << "case " << ci;
    }
    EXPECT_GT(spec.stats().accepted, 0u);
}

// Where every product of a matrix reads its repacked copy (natively; here the
// emulation with kernel_tuning::frag_prefill), the loader repacks each MXFP4
// matrix as it arrives and drops its standard codes (and scales, read as
// fragment-ordered scale words): the model holds them once.  Nothing may
// read them afterwards (an empty binding is an error), and the logits equal,
// bit for bit, those of a model that kept them and of one whose copies read
// the standard scales (kernel_tuning::frag_no_scale_copy).
TEST(FragMatvec, RepackedMatricesDropTheirStandardCodes) {
    test::validation_scope vs;
    test::temp_dir tmp;
    quantize_trained_mxfp4(tmp / "q");
    struct restore {
        ~restore() {
            ops::tuning().frag_matvec = ops::tuning().frag_prefill = ops::tuning().frag_no_scale_copy = false;
        }
    } r;
    ops::tuning().frag_matvec = true;
    ops::tuning().frag_no_scale_copy = true;  // the standard scales (FSC=0)
    auto standard_scales = engine_model::open(tmp / "q", test::validated_device_ptr(), {});
    ops::tuning().frag_no_scale_copy = false;
    auto kept = engine_model::open(tmp / "q", test::validated_device_ptr(), {});
    ops::tuning().frag_prefill = true;
    auto dropped = engine_model::open(tmp / "q", test::validated_device_ptr(), {});
    ASSERT_TRUE(kept->layers()[0].down.chunks[0].data.valid());
    ASSERT_TRUE(kept->layers()[0].down.chunks[0].scales.valid());
    ASSERT_FALSE(standard_scales->layers()[0].down.frag.scale_words.valid());
    uint64_t codes = 0;
    auto check = [&](const ops::device_weight &w) {
        ASSERT_TRUE(w.frag.valid());
        EXPECT_FALSE(w.chunks[0].data.valid());
        // The kernel reads the fragment-ordered scale words (driver 580's
        // layout has them), so the standard scales go too.
        EXPECT_TRUE(w.frag.scale_words.valid());
        EXPECT_FALSE(w.chunks[0].scales.valid());
        codes += uint64_t(w.rows) * w.cols / 2 + uint64_t(w.rows) * w.cols / 32;
    };
    for (const layer_weights &L : dropped->layers()) {
        check(L.gate), check(L.up), check(L.down);
        if (L.kind == layer_kind::linear_attention) check(L.gdn.qkv), check(L.gdn.out);
        else check(L.attn.q), check(L.attn.o);
    }
    check(dropped->lm_head());
    EXPECT_TRUE(dropped->embed().chunks[0].data.valid());  // the gather reads the embedding
    std::printf("  model memory used: %llu bytes with the standard codes kept, %llu dropped (codes and scales "
                "of the checked matrices: %llu)\n",
                static_cast<unsigned long long>(kept->device_bytes_used()),
                static_cast<unsigned long long>(dropped->device_bytes_used()),
                static_cast<unsigned long long>(codes));
    EXPECT_GE(kept->device_bytes_used(), dropped->device_bytes_used() + codes);

    auto cases = test::load_trained_cases();
    const std::vector<int32_t> &p = cases[0].prompt;
    ASSERT_GT(p.size(), 16u);  // prefill through the copies
    engine_session a(*kept, {}), b(*dropped, {}), s(*standard_scales, {});
    a.eval(p.data(), static_cast<uint32_t>(p.size()), logits_rows::all);
    b.eval(p.data(), static_cast<uint32_t>(p.size()), logits_rows::all);
    s.eval(p.data(), static_cast<uint32_t>(p.size()), logits_rows::all);
    ASSERT_EQ(a.logits().size(), b.logits().size());
    EXPECT_EQ(0, std::memcmp(a.logits().data(), b.logits().data(), a.logits().size() * 4));
    // Scale words hold the same values: the same bits as the standard scales.
    ASSERT_EQ(a.logits().size(), s.logits().size());
    EXPECT_EQ(0, std::memcmp(a.logits().data(), s.logits().data(), a.logits().size() * 4));
    generator spec(*dropped, {}, decoder_kind::mtp, 3), van(*dropped, {});
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(cases[0].greedy.size(), 12));
    EXPECT_EQ(greedy(spec, p, n), greedy(van, p, n));

    // Synthetic models (weights made on the device) stage theirs the same way.
    synthetic_options so;
    so.format = ops::wformat::mxfp4;
    const model_config cfg = load_model_config(test::fixture("tiny-qwen35-trained"));
    ops::tuning().frag_prefill = false;
    auto skept = engine_model::synthetic(cfg, test::validated_device_ptr(), so);
    ops::tuning().frag_prefill = true;
    auto sdropped = engine_model::synthetic(cfg, test::validated_device_ptr(), so);
    EXPECT_TRUE(skept->layers()[0].down.chunks[0].data.valid());
    EXPECT_FALSE(sdropped->layers()[0].down.chunks[0].data.valid());
    engine_session c(*skept, {}), d(*sdropped, {});
    c.eval(p.data(), 20, logits_rows::all);
    d.eval(p.data(), 20, logits_rows::all);
    ASSERT_EQ(c.logits().size(), d.logits().size());
    EXPECT_EQ(0, std::memcmp(c.logits().data(), d.logits().data(), c.logits().size() * 4));
}

// x rounded to fp16 (the default; matvec_frag.comp X16: two tokens per B
// element pair, 8 per column group): logits close to the fp32
// matvec path's (x keeps 11 significant bits instead of 22); x rounded by its
// producers (token-pair halves) gives, bit for bit, the logits of products
// rounding x themselves, also where a verify's GDN recurrence runs in two
// segments (the snapshot ring wraps at an odd token); rows one at a time give
// a batch's bits (also with kernel_tuning::l2_prefetch, and with the epilogue
// a round per row tile and column group, EPI_ALL=0, and with each of 3
// workgroups looping over every third tile group, TLOOP=3, and with the
// copies ordered tile first, frag_tile_major, and with touch loads ahead of
// the weight loads, TOUCH=4, and with one column group per workgroup, GPW=1,
// interleaved along the grid's x, GINT, with two row tiles per warp, R=2,
// and with the K loop's steps as calls, PSTEP, at PF = 2 too); the residual
// products' K over two workgroups (KSPLIT=2) gives close logits and its own
// batch invariance; each warp taking every
// NSG-th 64-column group of K (KSTRIDE=1, other bits) gives logits within 2e-3 of max |logit|; MTP greedy (k = 3
// and 7: verifies of up to 8 tokens, one column group) equals plain greedy.
TEST(FragMatvec, X16RoundedXIsBatchInvariantAndMtpEqualsPlainGreedy) {
    test::validation_scope vs;
    test::temp_dir tmp;
    quantize_trained_mxfp4(tmp / "q");
    auto plain = engine_model::open(tmp / "q", test::validated_device_ptr(), {});
    struct x16_scope {
        x16_scope() { ops::tuning().frag_matvec = true; }
        ~x16_scope() { ops::tuning().frag_matvec = false; }
    };
    std::unique_ptr<engine_model> frag;
    {
        x16_scope xs;
        frag = engine_model::open(tmp / "q", test::validated_device_ptr(), {});
    }
    ASSERT_TRUE(frag->layers()[0].down.frag.x16);
    ASSERT_TRUE(frag->lm_head().frag.x16);

    auto cases = test::load_trained_cases();
    ASSERT_GE(cases.size(), 3u);
    const uint32_t V = static_cast<uint32_t>(plain->text().vocab_size);
    std::vector<int32_t> p;  // 33 tokens: the first prompts one after another
    for (size_t ci = 0; p.size() < 33 && ci < cases.size(); ++ci)
        p.insert(p.end(), cases[ci].prompt.begin(), cases[ci].prompt.end());
    ASSERT_GE(p.size(), 33u);
    p.resize(33);
    {
        engine_session a(*plain, {}), b(*frag, {});
        a.eval(p.data(), 16, logits_rows::all);
        b.eval(p.data(), 16, logits_rows::all);
        const auto &la = a.logits(), &lb = b.logits();
        ASSERT_EQ(lb.size(), la.size());
        const double rel = max_rel_diff(la, lb);
        std::printf("  x16: 16 prompt rows, largest logit difference %.3g of max |logit|\n", rel);
        EXPECT_LT(rel, 2e-3);  // measured 3.1e-4 on lavapipe
    }
    // 1 + 16 + 16 rows: the third eval starts at position 17, where the
    // snapshot ring (18 slots) wraps after one token.
    auto run = [&](engine_session &s) {
        std::vector<float> all;
        for (auto [t0, n] : {std::pair<uint32_t, uint32_t>{0, 1}, {1, 16}, {17, 16}}) {
            s.eval(&p[t0], n, logits_rows::all);
            all.insert(all.end(), s.logits().begin(), s.logits().end());
        }
        return all;
    };
    engine_session pre(*frag, {});
    ASSERT_TRUE(pre.presplit());
    ASSERT_TRUE(pre.spread_norm());
    ASSERT_TRUE(pre.spread_norm_gdn());  // the GDN layers' a / b (8 rows) have copies too
    const std::vector<float> lp = run(pre);
    ASSERT_EQ(lp.size(), size_t(33) * V);
    {  // prefill (33 tokens) in wider dispatches: the bits of 16 columns per dispatch
        std::vector<float> ref;
        {
            struct prefill_scope {
                prefill_scope() { ops::tuning().frag_prefill = true; }
                ~prefill_scope() { ops::tuning().frag_prefill = false; }
            } ps;
            engine_session s(*frag, {});
            s.eval(p.data(), 33, logits_rows::all);
            ref = s.logits();
        }
        expect_wide_prefill_same_bits(*frag, p, ref, "0124p8rwx");
    }
    // A new session of m (under the kernel_tuning in scope) gives lp's bits.
    auto expect_lp_bits = [&](const engine_model &m, const char *what) {
        engine_session s(m, {});
        EXPECT_EQ(0, std::memcmp(run(s).data(), lp.data(), lp.size() * 4)) << what;
    };
    {
        const std::unique_ptr<engine_session> self = session_with(*frag, &ops::kernel_tuning::frag_no_presplit);
        ASSERT_FALSE(self->presplit());
        EXPECT_EQ(0, std::memcmp(run(*self).data(), lp.data(), lp.size() * 4));
    }
    {  // the norm stages instead of the spread norm: another sum order (rs's
       // last bits, then x's fp16 roundings, differ), close
        const std::unique_ptr<engine_session> staged = session_with(*frag, &ops::kernel_tuning::no_spread_norm);
        ASSERT_FALSE(staged->spread_norm());
        const std::vector<float> ls = run(*staged);
        const double rel = max_rel_diff(ls, lp);
        std::printf("  spread norm against norm stages: largest logit difference %.3g of max |logit|\n", rel);
        EXPECT_LT(rel, 2e-3);  // measured 2.5e-4 on lavapipe (x16 against fp32 x above: 2.8e-4)
        EXPECT_NE(0, std::memcmp(ls.data(), lp.data(), lp.size() * 4));  // the spread path did run
    }
    {  // weights read into the L2 cache beside the recurrence / attention core: the same bits
        struct prefetch_scope {
            prefetch_scope() { ops::tuning().l2_prefetch = 4; }
            ~prefetch_scope() { ops::tuning().l2_prefetch = 0; }
        } ps;
        expect_lp_bits(*frag, "l2_prefetch");
    }
    // A model whose frag copies are made with one more kernel_tuning flag set.
    auto copies_with = [&](bool ops::kernel_tuning::*flag) {
        struct flag_scope {
            bool ops::kernel_tuning::*f;
            explicit flag_scope(bool ops::kernel_tuning::*f_) : f(f_) { ops::tuning().frag_matvec = ops::tuning().*f = true; }
            ~flag_scope() { ops::tuning().frag_matvec = ops::tuning().*f = false; }
        } fs(flag);
        return engine_model::open(tmp / "q", test::validated_device_ptr(), {});
    };
    {  // codes with the earlier sign positions (kernel_tuning::frag_signs12, A/B): the same bits
        auto m12 = copies_with(&ops::kernel_tuning::frag_signs12);
        ASSERT_TRUE(m12->layers()[0].down.frag.signs12);
        expect_lp_bits(*m12, "frag_signs12");
    }
    ASSERT_TRUE(frag->layers()[0].down.frag.kmajor);  // group first, the default
    {  // copies ordered tile first (kernel_tuning::frag_tile_major, A/B): the same bits
        auto mk = copies_with(&ops::kernel_tuning::frag_tile_major);
        ASSERT_FALSE(mk->layers()[0].down.frag.kmajor);
        expect_lp_bits(*mk, "frag_tile_major");
    }
    using define_scope = ops::frag_define_scope;  // one frag_define for the scope's sessions
    {  // the epilogue a round per tile and group (EPI_ALL=0, the earlier form)
        define_scope es("EPI_ALL", "0");
        expect_lp_bits(*frag, "EPI_ALL=0");
    }
    {  // at most 3 workgroups, each taking every third tile group in one
       // sequence of steps (TLOOP, A/B), also with EPI_ALL=0
        define_scope tl("TLOOP", "3");
        expect_lp_bits(*frag, "TLOOP=3");
        define_scope es("EPI_ALL", "0");
        expect_lp_bits(*frag, "TLOOP=3 EPI_ALL=0");
    }
    {  // one column group per workgroup (GPW=1), then those workgroups side by
       // side along the grid's x (GINT, A/B)
        define_scope g1("GPW", "1");
        expect_lp_bits(*frag, "GPW=1");
        define_scope gi("GINT", "1");
        expect_lp_bits(*frag, "GPW=1 GINT");
    }
    {  // two row tiles per warp everywhere (R=2; the default at one column
       // group for 384..1024 tiles only, which the fixture has not)
        define_scope r2("R", "2");
        expect_lp_bits(*frag, "R=2");
    }
    {  // the K loop's steps as calls with a constant p (PSTEP, A/B), also
       // two steps of loads ahead (PF=2)
        define_scope ps("PSTEP", "1");
        expect_lp_bits(*frag, "PSTEP=1");
        define_scope p2("PF", "2");
        expect_lp_bits(*frag, "PSTEP=1 PF=2");
    }
    {  // touch loads 4 steps past the weight loads (TOUCH, A/B)
        define_scope tc("TOUCH", "4");
        expect_lp_bits(*frag, "TOUCH=4");
    }
    {  // every NSG-th 64-column group per warp (KSTRIDE=1): other sums, close logits
        define_scope ks("KSTRIDE", "1");
        engine_session kc(*frag, {});
        const double rel = max_rel_diff(lp, run(kc));
        std::printf("  strided K parts: largest logit difference %.3g of max |logit|\n", rel);
        EXPECT_GT(rel, 0.0) << "KSTRIDE=1 should sum in another order";
        EXPECT_LT(rel, 2e-3);  // measured 4.0e-4 on lavapipe (x's fp16 roundings downstream move with any sum)
    }
    {  // the residual products' K over two workgroups each (KSPLIT=2, A/B): other
       // sums, close logits, and rows one at a time still give the batch's bits
        define_scope ks("KSPLIT", "2");
        engine_session kc(*frag, {}), k1(*frag, {});
        const std::vector<float> lk = run(kc);
        const double rel = max_rel_diff(lp, lk);
        std::printf("  K split over two workgroups: largest logit difference %.3g of max |logit|\n", rel);
        EXPECT_GT(rel, 0.0) << "KSPLIT=2 should sum in another order";
        EXPECT_LT(rel, 2e-3);
        for (uint32_t t = 0; t < 33; ++t) {
            k1.eval(&p[t], 1, logits_rows::last);
            EXPECT_EQ(0, std::memcmp(k1.logits().data(), lk.data() + size_t(t) * V, size_t(V) * 4)) << "KSPLIT row " << t;
        }
    }
    engine_session one(*frag, {});
    for (uint32_t t = 0; t < 33; ++t) {
        one.eval(&p[t], 1, logits_rows::last);
        EXPECT_EQ(0, std::memcmp(one.logits().data(), lp.data() + size_t(t) * V, size_t(V) * 4)) << "row " << t;
    }
    for (uint32_t k : {3u, 7u}) {
        generator spec(*frag, {}, decoder_kind::mtp, k), van(*frag, {});
        for (size_t ci = 0; ci < 2; ++ci) {
            const uint32_t n = static_cast<uint32_t>(std::min<size_t>(cases[ci].greedy.size(), 16));
            EXPECT_EQ(greedy(spec, cases[ci].prompt, n), greedy(van, cases[ci].prompt, n)) << "k " << k << " case " << ci;
        }
        EXPECT_GT(spec.stats().accepted, 0u);
    }
}

// bf16 weights on tensor cores (matvec_frag.comp AF16, copies repacked on the device by frag_repack_bf16.comp with a power
// of two per 32-column block, exact for the fixture's values) on the bf16
// trained fixture, every product through the copies (frag_prefill: the
// loader drops the standard bf16 rows, as natively): the model's and the MTP
// head's matrices have copies, the embedding keeps its rows; prompt logits
// and a prefill longer than 16 tokens stay close to the plain model's (x
// rounded to fp16); rows one at a time give the batch's bits; MTP greedy (k
// = 3) equals plain greedy.
TEST(FragMatvec, Bf16WeightsOnTensorCoresAreBatchInvariantAndMtpEqualsPlainGreedy) {
    test::validation_scope vs;
    auto plain = engine_model::open(test::fixture("tiny-qwen35-trained"), test::validated_device_ptr(), {});
    struct bf16_scope {
        bf16_scope() { ops::tuning().frag_matvec = ops::tuning().frag_prefill = true; }
        ~bf16_scope() { ops::tuning().frag_matvec = ops::tuning().frag_prefill = false; }
    };
    std::unique_ptr<engine_model> frag;
    {
        bf16_scope s;
        frag = engine_model::open(test::fixture("tiny-qwen35-trained"), test::validated_device_ptr(), {});
    }
    ASSERT_EQ(plain->layers()[0].down.format, ops::wformat::bf16);
    auto copied = [](const ops::device_weight &w) {
        EXPECT_TRUE(w.frag.valid() && w.frag.f16_weights && w.frag.x16);
        EXPECT_FALSE(w.chunks[0].data.valid());  // dropped: every product reads the copy
    };
    for (const layer_weights &L : frag->layers()) {
        copied(L.gate), copied(L.up), copied(L.down);
        if (L.kind == layer_kind::linear_attention) copied(L.gdn.qkv), copied(L.gdn.z), copied(L.gdn.out);
        else copied(L.attn.q), copied(L.attn.o);
    }
    ASSERT_TRUE(frag->mtp().present);
    copied(frag->mtp().fc), copied(frag->mtp().layer.gate), copied(frag->mtp().layer.attn.q);
    EXPECT_TRUE(frag->embed().chunks[0].data.valid());  // the gather reads the embedding
    EXPECT_TRUE(frag->lm_head().frag.valid() && frag->lm_head().frag.f16_weights);

    auto cases = test::load_trained_cases();
    ASSERT_GE(cases.size(), 3u);
    const std::vector<int32_t> &lp = longest_prompt(cases);
    ASSERT_GT(lp.size(), 16u);
    {
        engine_session a(*plain, {}), b(*frag, {});
        a.eval(lp.data(), static_cast<uint32_t>(lp.size()), logits_rows::all);
        b.eval(lp.data(), static_cast<uint32_t>(lp.size()), logits_rows::all);
        ASSERT_EQ(b.logits().size(), a.logits().size());
        const double rel = max_rel_diff(a.logits(), b.logits());
        std::printf("  bf16 on tensor cores: %zu prompt rows, largest logit difference %.3g of max |logit|\n",
                    lp.size(), rel);
        EXPECT_LT(rel, 2e-3);
    }
    expect_rows_alone_equal_batch(*frag, lp);
    generator spec(*frag, {}, decoder_kind::mtp, 3), van(*frag, {}), ref(*plain, {});
    uint32_t same_as_plain = 0, total = 0;
    for (size_t ci = 0; ci < 3; ++ci) {
        const uint32_t n = static_cast<uint32_t>(std::min<size_t>(cases[ci].greedy.size(), 12));
        const std::vector<int32_t> v = greedy(van, cases[ci].prompt, n), r = greedy(ref, cases[ci].prompt, n);
        EXPECT_EQ(greedy(spec, cases[ci].prompt, n), v) << "case " << ci;
        for (size_t i = 0; i < v.size() && i < r.size() && v[i] == r[i]; ++i) ++same_as_plain;
        total += n;
    }
    std::printf("  greedy tokens equal to the plain model's before the first difference: %u of %u\n", same_as_plain,
                total);
    EXPECT_GT(spec.stats().accepted, 0u);
}
