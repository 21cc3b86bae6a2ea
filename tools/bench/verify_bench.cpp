// mlxmtp-verify-bench: on a synthetic model (config.json, e.g. the 27B shape),
// times one single-token decode (vanilla session), one verify of n = 2..9
// tokens (MTP session: backbone over n tokens with device argmax of every row,
// plus the MTP rows it extends), and one greedy MTP draft step; prints JSON lines
// and the projected MTP speedup for given tokens-per-round figures.
//   mlxmtp-verify-bench CONFIG.json [bf16|mxfp4|mxfp8] [tokens_per_round for k=1,2,...]
//   mlxmtp-verify-bench --profile CONFIG.json [format]: GPU time per kernel and
//     section for one decode and 2- and 8-token verifies (timestamps after every
//     command; the totals include each command's barrier and launch), then the
//     driver's statistics of every pipeline (registers etc., where reported).
//   --matvec-rows N (before CONFIG): rows per subgroup in every matvec (A/B).
//   --scale-words (before CONFIG): MX scales read as 32-bit words (A/B against byte loads).
//   --scale-clamp (before CONFIG): clamp MX scale bytes in the matvec kernel too (A/B).
//   --unroll-from N U (before CONFIG): matvec load unroll U from N columns on (A/B).
//   --mx-words N (before CONFIG): packed MX words per lane unit in every matvec (A/B).
//   --context N (before CONFIG): prompt tokens before the timed evaluations (default 128;
//     long contexts time the attention's split-K).
//   --attn-max-splits N (before CONFIG): at most N split-K workgroups per query (1: no split).
//   --glu-max-cols N (before CONFIG): the MLP's gate + up + SwiGLU in one matvec for chunks
//     of up to N tokens (0: never; 16: decode and every verify; default 3).
//   --unfused-gdn-norm (before CONFIG): the decode / verify GDN gated norm as its own
//     kernel (A/B against the recurrence's epilogue).
//   --glu-rows N (before CONFIG): rows of gate (and of up) per subgroup in the fused MLP kernel.
//   --matvec-define NAME[=VALUE] (before CONFIG, repeatable): an extra define for
//     every matvec variant (A/B and diagnostics, e.g. the DIAG_* of matvec.comp).
//   --matmul-define NAME[=VALUE] (before CONFIG, repeatable): the same for the prefill
//     matmul (matmul.comp variants under test).  --matmul-rows-tile N: its rows per workgroup (64, 128).
//   --frag-matvec (before CONFIG): decode / verify MXFP4 products through the
//     fragment-decoding tensor-core matvec (VK_NV_cooperative_matrix; ops/linear_frag.h;
//     its emulation elsewhere), as MLXMTP_MODEL_TENSOR_CORES.  --frag-define NAME[=VALUE]
//     (repeatable): an extra define for it (NSG, R, PF; NAME@ROWS=V only for weights of ROWS
//     rows, NAME@ROWS/N=V only at N columns too).  Natively, prefill products take
//     it too (8 columns per dispatch with hi / lo columns, else 16; --frag-prefill-cols N:
//     N, at most 256: past 16 the grid's y takes the column groups, interleaved along x
//     unless --frag-define GINT=0; --frag-prefill-pairs: the norms write xn's fp16 halves at
//     prefill sizes too and its products read them, kernel_tuning::frag_prefill_pairs;
//     --frag-prefill-rows: a workgroup's warps on row tiles over the whole K, sharing
//     x's reads, kernel_tuning::frag_prefill_rows; --frag-define WNSG=W its warps, XLATE=1
//     x loaded at its step, XSH=1 x staged in shared memory);
//     --frag-prefill: also under the emulation.  --frag-no-x-quads: frag copies in
//     the standard column order (no XQ: A/B); --frag-no-presplit: the products split x
//     themselves instead of reading the pairs its producers write (no XP: A/B;
//     --frag-presplit, the default, is accepted); --presplit-max-cols N: products of more
//     than N columns split x themselves anyway (the same bits; A/B); --frag-x-split: x
//     split into hi / lo halves (4 tokens per column group) instead of rounded to fp16
//     (8; kernel_tuning::frag_x_split, as MLXMTP_MODEL_PRECISE_ACTIVATIONS; --frag-x16,
//     the default since 2026-12-06, is accepted).  --frag-no-bf16: bf16 weights (a bf16
//     model's, the MTP head's) keep the standard kernels (kernel_tuning::frag_no_bf16;
//     --frag-bf16, AF16 copies, the default since 2026-12-06, is accepted).
//     --frag-no-scale-copy: frag copies read the standard scales (no fragment-ordered
//     scale words: matvec_frag.comp FSC=0, the same bits; kernel_tuning::frag_no_scale_copy).
//   --frag-signs12 (before CONFIG): MXFP4 frag copies keep the signs at 12 + p (the
//     earlier decode; kernel_tuning::frag_signs12; A/B).
//   --frag-tile-major (before CONFIG): frag copies in the earlier order, tile
//     first (kernel_tuning::frag_tile_major; the same results; A/B).
//     --frag-kmajor (group first, the default) is accepted.
//   --frag-no-epi-all (before CONFIG): fragment products take their epilogue a round per
//     row tile and column group (--frag-define EPI_ALL=0; the same bits; A/B; --frag-epi-all,
//     the default since 2026-12-07, is accepted).
//   --frag-k-strided (before CONFIG): warp w of a fragment product takes K's 64-column
//     groups w, w + NSG, ... (--frag-define KSTRIDE=1; other bits; A/B; --frag-k-contiguous,
//     the default since the twenty-fourth session, is accepted).
//   --l2-prefetch G (before CONFIG): sessions read each output projection's weight into the
//     L2 cache with G workgroups beside the GDN recurrence / attention core (A/B;
//     kernel_tuning::l2_prefetch).
//   --diag-skip-norms / --diag-no-barriers (before CONFIG; timing only, wrong results):
//     decode / verify without the residual add + RMSNorm stages, or without any barrier
//     (what they cost; kernel_tuning::diag_skip_norms / diag_no_barriers).
//   --no-spread-norm (before CONFIG): decode / verify keep the residual add + RMSNorm stages
//     (kernel_tuning::no_spread_norm; A/B against the spread norm, ops::frag_norm_in);
//     --no-spread-gdn: GDN layers keep their input norm stage (kernel_tuning::no_spread_gdn).
//   --norm-slices N (before CONFIG): RMSNorm workgroups per row (1: one, as before; A/B).
//   --timeline FILE (before CONFIG; diagnostics): every tensor-core matvec workgroup of one
//     decode (vanilla) and one verify of 8 and of 9 tokens (MTP session) stamps its start
//     and end (device clock) and SM into FILE, then stop: a 16-byte header per run
//     ("TLN1", run index, records, 0) and 8 uint32 per record (matvec_frag.comp TIMELINE;
//     scripts/timeline_report.py reads it).
//   --prefill-only N (before CONFIG): time an N-token prefill (vanilla session, three
//     runs, the last two printed: the first compiles the pipelines), then a
//     "prefill_bits" line (an FNV-1a hash of the last row's logits: arms that
//     keep the bits print the same one), and stop; with --profile, then one
//     profiled prefill (GPU time per kernel).
#include "model/model.h"
#include "ops/linear.h"
#include "session/session.h"
#include "vk/instance.h"
#include "vk/memory.h"
#include "vk/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace mlxmtp::detail;
using clk = std::chrono::steady_clock;

static double secs(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

static void print_profile(const char *what, const gpu_profile &p, int reps) {
    std::vector<std::pair<std::string, gpu_profile::entry>> v(p.entries.begin(), p.entries.end());
    std::sort(v.begin(), v.end(), [](auto &a, auto &b) { return a.second.gpu_us > b.second.gpu_us; });
    double total = 0;
    for (auto &e : v) total += e.second.gpu_us;
    std::printf("{\"what\":\"profile\",\"of\":\"%s\",\"gpu_span_us\":%.1f,\"record_cpu_us\":%.1f,"
                "\"submit_wait_us\":%.1f,\"submits\":%.2f}\n",
                what, p.gpu_span_us / reps, p.record_cpu_us / reps, p.submit_wait_us / reps, double(p.submits) / reps);
    for (auto &e : v)
        std::printf("{\"what\":\"profile_entry\",\"of\":\"%s\",\"name\":\"%s\",\"us\":%.1f,\"count\":%.1f,"
                    "\"share\":%.3f}\n",
                    what, e.first.c_str(), e.second.gpu_us / reps, double(e.second.count) / reps,
                    total > 0 ? e.second.gpu_us / total : 0.0);
}

int main(int argc, char **argv) {
    bool profile = false;
    std::string timeline;  // --timeline FILE
    uint32_t context = 128;  // prompt tokens before the timed evaluations
    uint32_t prefill_only = 0;  // time a prefill of this many tokens instead
    // Leading flags (the usage comment at the top lists them).  value(i):
    // the flag's i-th argument, consumed.
    while (argc > 1 && argv[1][0] == '-' && argv[1][1] == '-') {
        const std::string f = argv[1];
        int used = 0;
        auto value = [&](int i) -> const char * {
            if (argc <= 1 + i) return nullptr;
            used = std::max(used, i);
            return argv[1 + i];
        };
        auto count = [&](int i) { const char *v = value(i); return v ? std::atoi(v) : -1; };
        ops::kernel_tuning &tu = ops::tuning();
        if (f == "--profile") {
            profile = true;
        } else if (f == "--timeline" && argc > 2) {
            timeline = value(1);
        } else if (f == "--scale-clamp") {
            tu.matvec_scale_clamp = true;
        } else if (f == "--scale-words") {
            tu.matvec_scale_words = true;
        } else if (f == "--frag-matvec") {
            tu.frag_matvec = true;
        } else if (f == "--frag-prefill") {
            tu.frag_prefill = true;
        } else if (f == "--frag-prefill-pairs") {
            tu.frag_prefill_pairs = true;
        } else if (f == "--frag-prefill-rows") {
            tu.frag_prefill_rows = true;
        } else if (f == "--frag-no-x-quads") {
            tu.frag_no_x_quads = true;
        } else if (f == "--frag-presplit") {  // the default since 2026-12-06 (scripts still pass it)
        } else if (f == "--frag-x16") {  // the default since 2026-12-06
        } else if (f == "--frag-x-split") {
            tu.frag_x_split = true;
        } else if (f == "--frag-bf16") {  // the default since 2026-12-06
        } else if (f == "--frag-no-bf16") {
            tu.frag_no_bf16 = true;
        } else if (f == "--frag-no-scale-copy") {
            tu.frag_no_scale_copy = true;
        } else if (f == "--frag-signs12") {
            tu.frag_signs12 = true;
        } else if (f == "--frag-kmajor") {  // the default since 2026-12-07 (twenty-fourth session)
        } else if (f == "--frag-tile-major") {
            tu.frag_tile_major = true;
        } else if (f == "--frag-epi-all") {  // the default since 2026-12-07
        } else if (f == "--frag-no-epi-all") {
            tu.add_frag_define("EPI_ALL=0");
        } else if (f == "--frag-k-contiguous") {  // the default since 2026-12-07 (twenty-fourth session)
        } else if (f == "--frag-k-strided") {
            tu.add_frag_define("KSTRIDE=1");
        } else if (f == "--l2-prefetch" && argc > 2) {
            tu.l2_prefetch = static_cast<uint32_t>(count(1));
        } else if (f == "--diag-skip-norms") {
            tu.diag_skip_norms = true;
        } else if (f == "--no-spread-norm") {
            tu.no_spread_norm = true;
        } else if (f == "--no-spread-gdn") {
            tu.no_spread_gdn = true;
        } else if (f == "--diag-no-barriers") {
            tu.diag_no_barriers = true;
        } else if (f == "--frag-no-presplit") {
            tu.frag_no_presplit = true;
        } else if (f == "--frag-define" && argc > 2) {
            tu.add_frag_define(value(1));
        } else if (f == "--frag-prefill-cols" && argc > 2) {
            tu.frag_prefill_cols = static_cast<uint32_t>(count(1));
        } else if (f == "--unfused-gdn-norm") {
            tu.unfused_gdn_norm = true;
        } else if (f == "--unroll-from" && argc > 3) {
            tu.unroll_from_cols = static_cast<uint32_t>(count(1));
            tu.unroll_from_value = static_cast<uint32_t>(count(2));
        } else if (f == "--matvec-define" && argc > 2) {
            tu.add_matvec_define(value(1));
        } else if (f == "--matmul-define" && argc > 2) {
            tu.add_matmul_define(value(1));
        } else if (f == "--prefill-only" && argc > 2) {
            prefill_only = static_cast<uint32_t>(std::max(1, count(1)));
        } else if (f == "--context" && argc > 2) {
            context = static_cast<uint32_t>(std::max(1, count(1)));
        } else if (f == "--glu-max-cols" && argc > 2) {
            tu.glu_max_cols = count(1);
        } else if (argc > 2 && (f == "--mx-words" || f == "--attn-max-splits" || f == "--glu-rows" ||
                                f == "--matvec-rows" || f == "--matmul-rows-tile" || f == "--presplit-max-cols" ||
                                f == "--norm-slices")) {
            const uint32_t n = static_cast<uint32_t>(std::max(0, count(1)));
            (f == "--mx-words" ? tu.matvec_mx_words : f == "--attn-max-splits" ? tu.attn_max_splits
                                                     : f == "--glu-rows"     ? tu.glu_rows
                                                     : f == "--matmul-rows-tile" ? tu.matmul_rows_tile
                                                     : f == "--presplit-max-cols" ? tu.frag_presplit_max_cols
                                                     : f == "--norm-slices"  ? tu.norm_slices
                                                                             : tu.matvec_rows) = n;
        } else {
            std::fprintf(stderr, "unknown flag %s (or its value is missing)\n", f.c_str());
            return 2;
        }
        argc -= 1 + used;
        argv += 1 + used;
    }
    if (argc < 2) {
        std::fprintf(stderr, "usage: mlxmtp-verify-bench CONFIG.json [bf16|mxfp4|mxfp8] [tpr_k1 tpr_k2 ...]\n");
        return 2;
    }
    std::string fmt = argc > 2 ? argv[2] : "mxfp4";
    std::vector<double> tpr;
    for (int i = 3; i < argc; ++i) tpr.push_back(std::atof(argv[i]));
    try {
        instance_options io;
        io.pipeline_statistics = profile;  // the profile ends with each pipeline's driver statistics
        io.cooperative_matrix = ops::tuning().frag_matvec;
        io.shader_clock = !timeline.empty();
        vk_instance inst(io);
        auto dev = std::make_shared<vk_device>(inst, 0);
        synthetic_options so;
        so.format = fmt == "bf16" ? ops::wformat::bf16 : fmt == "mxfp8" ? ops::wformat::mxfp8 : ops::wformat::mxfp4;
        auto m = engine_model::synthetic(load_model_config_file(argv[1]), dev, so);
        std::mt19937 rng(7);
        if (prefill_only) {
            std::vector<int32_t> ids(prefill_only);
            for (auto &x : ids) x = static_cast<int32_t>(rng() % 1000);
            session_options po;
            po.n_ctx = prefill_only + 16;
            engine_session s(*m, po);
            for (int r = 0; r < 3; ++r) {  // the first run compiles the pipelines
                s.reset();
                auto t0 = clk::now();
                s.eval(ids.data(), prefill_only, logits_rows::argmax);
                double t = secs(t0);
                if (r > 0)
                    std::printf("{\"what\":\"prefill\",\"format\":\"%s\",\"tokens\":%u,\"ms\":%.1f,\"tok_s\":%.1f}\n",
                                fmt.c_str(), prefill_only, t * 1e3, prefill_only / t);
            }
            {  // the last row's logits as a hash: arms with the same bits print the same one
                s.reset();
                s.eval(ids.data(), prefill_only, logits_rows::last);
                const uint64_t h = fnv1a64(s.logits().data(), s.logits().size() * sizeof(float));
                std::printf("{\"what\":\"prefill_bits\",\"format\":\"%s\",\"tokens\":%u,\"logits_fnv\":\"%016llx\"}\n",
                            fmt.c_str(), prefill_only, static_cast<unsigned long long>(h));
            }
            if (profile) {  // then one profiled prefill (GPU time per kernel)
                gpu_profile p;
                s.reset();
                s.set_profile(&p);
                s.eval(ids.data(), prefill_only, logits_rows::argmax);
                s.set_profile(nullptr);
                print_profile("prefill", p, 1);
            }
            return 0;
        }
        std::vector<int32_t> prompt(context), extra(16);
        for (auto &x : prompt) x = static_cast<int32_t>(rng() % 1000);
        for (auto &x : extra) x = static_cast<int32_t>(rng() % 1000);
        session_options vo;
        vo.n_ctx = context + 384;
        engine_session van(*m, vo);
        session_options mo = vo;
        mo.mtp = true;
        engine_session mtp(*m, mo);
        van.eval(prompt.data(), context, logits_rows::argmax);
        mtp.eval(prompt.data(), context, logits_rows::argmax);
        const int reps = 20;
        if (!timeline.empty()) {
            if (!dev->shader_clock()) throw std::runtime_error("--timeline: the device has no shader device clock");
            const uint32_t cap = 1u << 20;  // records per run
            // Device-local, read back by download() (host-visible memory made
            // no difference to the ~4x stretch of the first device runs).
            vk_device::allocation a = dev->allocate(16 + uint64_t(cap) * 32, false, "timeline");
            buffer_span tl{a.buffer, 0, a.size, nullptr};
            std::vector<uint32_t> words(4 + size_t(cap) * 8);
            FILE *fo = std::fopen(timeline.c_str(), "wb");
            if (!fo) throw std::runtime_error("--timeline: cannot write " + timeline);
            uint32_t run_index = 0;
            auto record = [&](engine_session &s, uint32_t n, logits_rows rows) {
                // The first pass compiles the TIMELINE pipelines; the others run
                // back to back so that the kept last one finds the GPU at its
                // clocks (the first device runs kept a single pass after host
                // work and saw every product ~4x slower; with these passes the
                // decode span is within ~3% of the untimed decode).
                const uint32_t init[4] = {0, cap, 0, 0};  // tl[1]: the cap
                upload(*dev, tl, init, sizeof(init));
                uint32_t nrec = 0;
                for (int pass = 0; pass < 30; ++pass) {
                    dev->set_timeline(tl);  // each pass writes records from 0
                    s.eval(extra.data(), n, rows);
                    s.rollback(n);
                    nrec = std::min(dev->timeline_count(), cap);
                }
                dev->set_timeline({});
                download(*dev, tl, words.data(), 16 + uint64_t(nrec) * 32);
                const uint32_t head[4] = {0x314e4c54u, run_index++, nrec, 0};
                std::fwrite(head, 4, 4, fo);
                std::fwrite(words.data() + 4, 32, nrec, fo);
                std::printf("{\"what\":\"timeline\",\"tokens\":%u,\"records\":%u}\n", n, nrec);
            };
            record(van, 1, logits_rows::argmax);
            record(mtp, 8, logits_rows::argmax_all);
            record(mtp, 9, logits_rows::argmax_all);
            std::fclose(fo);
            dev->free(a);
            return 0;
        }
        if (profile) {
            gpu_profile p;
            auto run = [&](engine_session &s, uint32_t n, logits_rows rows, const char *what) {
                s.eval(extra.data(), n, rows);
                s.rollback(n);
                // Untimed-by-profile rollback between timed evals.
                for (int r = 0; r < reps; ++r) {
                    s.set_profile(&p);
                    s.eval(extra.data(), n, rows);
                    s.set_profile(nullptr);
                    s.rollback(n);
                }
                print_profile(what, p, reps);
                p.clear();
            };
            run(van, 1, logits_rows::argmax, "decode");
            for (uint32_t n : {2u, 4u, 8u, 9u}) {  // one and two column groups of the tensor-core kernel (X16: 8 tokens each)
                const std::string what = "verify" + std::to_string(n);
                run(mtp, n, logits_rows::argmax_all, what.c_str());
            }
            for (const auto &[key, stats] : dev->kernels().executable_statistics())
                std::printf("{\"what\":\"pipeline_stats\",\"key\":\"%s\",\"stats\":\"%s\"}\n", key.c_str(),
                            stats.c_str());
            return 0;
        }
        // One untimed pass over every shape first: on a fresh GPU machine the
        // first pass of a call ran up to 1.4x slower than a repeat (compiles,
        // first touches), even with a per-shape warm-up.
        for (int pass = 0; pass < 2; ++pass) {
            van.eval(extra.data(), 1, logits_rows::argmax);
            van.rollback(1);
            for (uint32_t n = 1; n <= 9; ++n) {
                mtp.eval(extra.data(), n, logits_rows::argmax_all);
                mtp.rollback(n);
            }
            for (uint32_t k = 1; k <= 8; ++k) mtp.mtp_draft_greedy(extra[0], k);
        }
        auto time_eval = [&](engine_session &s, uint32_t n, logits_rows rows) {
            s.eval(extra.data(), n, rows);  // warm-up (pipelines)
            s.rollback(n);
            double best = 1e30, sum = 0;
            for (int r = 0; r < reps; ++r) {
                auto t0 = clk::now();
                s.eval(extra.data(), n, rows);
                double t = secs(t0);
                s.rollback(n);
                sum += t;
                best = std::min(best, t);
            }
            return sum / reps;
        };
        double t1 = time_eval(van, 1, logits_rows::argmax);
        std::printf("{\"what\":\"decode\",\"format\":\"%s\",\"tokens\":1,\"ms\":%.3f,\"weight_bytes\":%llu}\n", fmt.c_str(),
                    t1 * 1e3, static_cast<unsigned long long>(m->decode_weight_bytes()));
        std::vector<double> tv(10, 0);
        for (uint32_t n = 1; n <= 9; ++n) {
            tv[n] = time_eval(mtp, n, logits_rows::argmax_all);
            std::printf("{\"what\":\"verify\",\"tokens\":%u,\"ms\":%.3f,\"ratio_to_decode\":%.3f}\n", n, tv[n] * 1e3,
                        tv[n] / t1);
        }
        // Draft: k greedy MTP steps in one submission.
        std::vector<double> td(9, 0);
        for (uint32_t k = 1; k <= 8; ++k) {
            mtp.mtp_draft_greedy(extra[0], k);
            auto t0 = clk::now();
            for (int r = 0; r < reps; ++r) mtp.mtp_draft_greedy(extra[0], k);
            td[k] = secs(t0) / reps;
            std::printf("{\"what\":\"draft\",\"k\":%u,\"ms\":%.3f,\"ms_per_step\":%.3f}\n", k, td[k] * 1e3, td[k] * 1e3 / k);
        }
        for (size_t k = 1; k <= tpr.size() && k <= 8; ++k) {
            double speedup = tpr[k - 1] * t1 / (tv[k + 1] + td[k]);
            std::printf("{\"what\":\"projected_speedup\",\"k\":%zu,\"tokens_per_round\":%.3f,\"speedup\":%.3f}\n", k,
                        tpr[k - 1], speedup);
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
