// Every kernel compiles with shaderc in the variants the library can ask
// for, including paths lavapipe never runs (no subgroup arithmetic, subgroup
// size 32, every weight format), so a broken variant fails CI rather than a
// user on another GPU.
#include "test_env.h"
#include "vk/pipeline.h"

using namespace mlxmtp;
using detail::define_list;

namespace {
std::vector<define_list> device_variants() {
    return {{{"SUBGROUP_SIZE", "32"}, {"HAS_SUBGROUP_ARITH", "1"}, {"HAS_FP16", "1"}, {"HAS_STORAGE8", "1"}},
            {{"SUBGROUP_SIZE", "8"}, {"HAS_SUBGROUP_ARITH", "1"}},
            {{"SUBGROUP_SIZE", "64"}}};  // no subgroup arithmetic: shared-memory fallbacks
}
}  // namespace

TEST(KernelVariants, EveryKernelCompiles) {
    auto &reg = test::validated_device().kernels();
    const char *formats[] = {"WEIGHT_F32", "WEIGHT_BF16", "WEIGHT_MXFP4", "WEIGHT_MXFP8"};
    size_t compiled = 0;
    for (const std::string &name : detail::kernel_registry::kernel_names()) {
        for (define_list dv : device_variants()) {
            std::vector<define_list> variants;
            if (name == "matvec") {
                for (const char *f : formats)
                    for (const char *n : {"1", "16"})
                        for (const char *rows : {"1", "8"})
                            for (const char *ksplit : {"1", "8"}) {
                                define_list d = dv;
                                d.insert(d.end(), {{f, "1"}, {"N_COLS", n}, {"ROWS", rows}, {"KSPLIT", ksplit}, {"UNROLL", "4"}});
                                variants.push_back(d);
                                if (rows[0] == '8')  // the epilogues: GDN conv (qkv projection), SwiGLU (gate + up)
                                    for (const char *epi : {"CONV_EPILOGUE", "GLU_EPILOGUE"}) {
                                        define_list de = d;
                                        de.emplace_back(epi, "1");
                                        variants.push_back(de);
                                    }
                                if (f[7] == 'M')  // MX: the wider units too
                                    for (const char *words : {"2", "4"}) {
                                        define_list dw = d;
                                        dw.emplace_back("MX_WORDS", words);
                                        variants.push_back(dw);
                                    }
                            }
            } else if (name == "matvec_coop") {
                // The tensor-core prototype: NVIDIA's shape only (subgroup
                // size 32, fp16, 8-bit storage); lavapipe cannot run it.
                if (dv[0].second != "32") continue;
                for (const char *n : {"1", "4", "8"}) {
                    define_list d = dv;
                    d.emplace_back("N_COLS", n);
                    variants.push_back(d);
                }
            } else if (name == "matvec_frag") {
                // Its emulation everywhere (lavapipe runs it); the tensor-core
                // form in NVIDIA's shape only.
                for (const char *ng : {"1", "2"}) {
                    define_list d = dv;
                    d.insert(d.end(), {{"NG", ng}, {"EMULATE", "1"}});
                    variants.push_back(d);
                    if (dv[0].second != "32") continue;
                    for (const char *pairs : {"0", "1"}) {
                        define_list c = dv;
                        c.insert(c.end(), {{"NG", ng}, {"C_ROW_PAIRS", pairs}, {"NSG", "8"}, {"R", pairs[0] == '1' ? "4" : "1"},
                                           {"PF", "4"}, {"XF32", pairs}});
                        variants.push_back(c);
                    }
                }
            } else if (name == "coop_layout_probe") {
                if (dv[0].second != "32") continue;  // as matvec_coop
                variants.push_back(dv);
            } else if (name == "coop_mma_rate") {  // the bench's multiply-add rate: as matvec_coop
                if (dv[0].second != "32") continue;
                for (const char *form : {"0", "1", "2"}) {
                    define_list d = dv;
                    d.insert(d.end(), {{"FORM", form}, {"ACC", "4"}});
                    variants.push_back(d);
                }
            } else if (name == "matmul" || name == "embed") {
                for (const char *f : formats)
                    for (const char *bm : {"64", "128"}) {
                        if (name == "embed" && bm[0] == '1') continue;
                        define_list d = dv;
                        d.emplace_back(f, "1");
                        if (name == "matmul") d.emplace_back("BM", bm);
                        variants.push_back(d);
                    }
            } else if (name == "attn_core_f32") {
                for (bool split : {false, true}) {  // prefill, and decode / verify with split-K
                    define_list d = dv;
                    if (split) d.emplace_back("SPLIT", "1");
                    variants.push_back(d);
                }
            } else if (name == "gdn_recurrence_f32") {
                // The production head dims and the session's two forms (the
                // gated norm as epilogue for decode / verify, or not).
                for (const char *bv : {"16", "32"})
                    for (bool norm : {false, true}) {
                        define_list d = dv;
                        d.insert(d.end(), {{"DK", "128"}, {"BV", bv}});
                        if (norm) d.emplace_back("NORM_EPILOGUE", "1");
                        variants.push_back(d);
                    }
            } else {
                variants.push_back(dv);
            }
            for (const define_list &d : variants) {
                EXPECT_NO_THROW(reg.compile(name, d)) << name;
                ++compiled;
            }
        }
    }
    std::printf("  %zu kernel variants compiled\n", compiled);
    EXPECT_GT(compiled, 50u);
}
