// mlxmtp-kernel-bench: times the matrix-vector kernel alone on a weight of
// ROWS x COLS, rotating over enough distinct matrices that they do not fit in
// the L2 cache, for n = 1, 2, 3, 4, 8, 9, 16 activation columns and each weight
// format.  Prints one JSON object per line.  Internal tool (not installed).
// Then the prefill matrix-matrix kernel for T = 512 and 2048 tokens (TFLOP/s),
// with 64- and 128-row tiles.
//   mlxmtp-kernel-bench [ROWS COLS [MIN_BYTES [RPS_LIST [TOKENS_LIST [KSPLIT_LIST [UNROLL_LIST [FORMATS
//                        [MX_WORDS_LIST [SERIAL [N_LIST [STATS [COOP [COOP_DEFINES]]]]]]]]]]]]]
// RPS_LIST: comma-separated matvec rows-per-subgroup values to sweep
// (0 = the library's default for each n); TOKENS_LIST: matmul token counts
// ("0" skips the matmul); KSPLIT_LIST / UNROLL_LIST: matvec K splits and
// load unrolls to sweep (0 = the library's choice); FORMATS: e.g. "bf16,mxfp4";
// MX_WORDS_LIST: packed words per lane unit of MX weights (1, 4; 0 = default).
// SERIAL: 0 times back-to-back independent dispatches (they overlap: the
// kernel's streaming rate), 1 puts a barrier after every dispatch as the
// model does (each dispatch's launch and drain exposed), 2 both; with 1 or 2
// a "stage" line also gives the cost of one tiny dispatch behind a barrier.
// N_LIST: activation column counts (default 1,2,3,4,8,9,16).  STATS 1: end
// with the driver's statistics of every pipeline (registers etc.).  COOP 1:
// also the tensor-core MXFP4 prototype (matvec_coop.comp, n <= 8) on devices
// with VK_NV_cooperative_matrix: its largest difference from matvec.comp's
// result (relative to the largest |y|), then its time; COOP_DEFINES: extra
// defines for it, NAME=VALUE[,NAME=VALUE...] (e.g. PF=8).  COOP 2: only the
// fragment layout probe (coop_layout_probe.comp): one JSON line per operand
// of a 16 x 8 x 16 multiply-add with each lane's elements, then whether the
// layout is usable by the fragment matvec.  COOP 3: the fragment-decoding
// tensor-core MXFP4 matvec (matvec_frag.comp, n <= 16; for bf16 weights its
// AF16 form, repacked by frag_repack_bf16.comp: "bytes" then counts the
// copy's block scales) instead of the prototype; COOP_DEFINES then go to it alone, several configurations
// separated by ';' (e.g. "NSG=4;NSG=8,R=1,PF=4;XF32"), the weights repacked
// once; XF32 hands it fp32 x to split itself; XP (with XQ and XF32) hands it
// x pre-split into (hi, lo) pair words, as the engine's producers write
// them (by default; x is then an RMSNorm's output, which
// writes the pairs too, and matvec.comp's reference takes that x).  On the
// H200 the one such run timed most variants up to 3x slower than runs
// without (same binary sizes as uncaptured builds, cause unknown): take
// timings from runs without STATS.  COOP 4: only the multiply-add rate
// (coop_mma_rate.comp): 16 x 8 x 16 fp16 multiply-adds per second with the
// operands fixed in registers, B rebuilt element by element every step, or
// both loaded from shared memory every step, at 1..8 accumulators per warp.
#include "ops/basic_ops.h"
#include "ops/linear.h"
#include "ops/linear_frag.h"
#include "vk/command.h"
#include "vk/instance.h"
#include "vk/memory.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using namespace mlxmtp::detail;

namespace {

struct filler {
    vk_device &dev;
    uint32_t seed = 1;
    void fill(command_stream &cs, const buffer_span &s, uint32_t mode, float scale, uint32_t lo = 0, uint32_t hi = 0) {
        struct {
            uint32_t n, seed, mode;
            float scale, offset;
            uint32_t lo, hi;
        } pc{static_cast<uint32_t>(s.size / 4), seed++, mode, scale, 0.0f, lo, hi};
        uint32_t gx = (pc.n + 255) / 256, gy = 1;
        if (gx > 65535) {
            gy = (gx + 65534) / 65535;
            gx = 65535;
        }
        cs.dispatch(dev.kernels().get("fill_random"), {s}, pc, gx, gy);
    }
};

// Mean seconds per call of call(0..iters-1), recorded into cs after `warmup`
// untimed calls (which also compile the pipelines), with a barrier after
// each timed call when `barrier` (each dispatch's launch and drain exposed).
double seconds_per_call(command_stream &cs, int warmup, int iters, const std::function<void(int)> &call,
                        bool barrier = false) {
    for (int i = 0; i < warmup; ++i) call(i);
    cs.submit();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) {
        call(i);
        if (barrier) cs.barrier();
    }
    cs.submit();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
}

// Largest |a - b| over n floats of two device vectors, relative to the
// largest |a| (returned in *amax).
double max_diff_rel(vk_device &dev, const buffer_span &a, const buffer_span &b, size_t n, double *amax) {
    std::vector<float> va(n), vb(n);
    download(dev, a, va.data(), n * 4);
    download(dev, b, vb.data(), n * 4);
    double dmax = 0, ymax = 0;
    for (size_t i = 0; i < n; ++i) {
        dmax = std::max(dmax, double(std::fabs(va[i] - vb[i])));
        ymax = std::max(ymax, double(std::fabs(va[i])));
    }
    *amax = ymax;
    return ymax > 0 ? dmax / ymax : dmax;
}

}  // namespace

// COOP 2: prints which element of each VK_NV_cooperative_matrix operand of
// a 16 x 8 x 16 multiply-add every lane holds (kernels/coop_layout_probe.comp),
// and whether the fragment matvec can use that layout.
static int coop_layout_probe(vk_device &dev) {
    ops::frag_layout f{};
    std::vector<float> v;
    const std::string err = ops::frag_layout_probe(dev, &f, &v);
    if (v.size() == ops::kCoopProbeFloats) {
        const char *names[] = {"A_f16_16x16", "B_f16_16x8", "D_f32_16x8", "R_f32_16x8"};
        size_t base = 4;
        for (int t = 0; t < 4; ++t) {
            const int len = static_cast<int>(v[t]);
            if (len < 0 || len > 256) break;
            std::printf("{\"kernel\":\"coop_layout_probe\",\"type\":\"%s\",\"per_lane\":%d,\"lanes\":[", names[t], len);
            for (int l = 0; l < 32; ++l) {
                std::printf("%s[", l ? "," : "");
                for (int i = 0; i < len; ++i) std::printf("%s%g", i ? "," : "", v[base + size_t(l) * len + i]);
                std::printf("]");
            }
            std::printf("]}\n");
            base += size_t(32) * len;
        }
    }
    if (v.size() == ops::kCoopProbeFloats) {  // element writes stored as tiles: lane * len + element
        std::printf("{\"kernel\":\"coop_layout_probe\",\"type\":\"stored_writes\",\"A_B_D\":[");
        for (uint64_t i = 0; i < 512; ++i) std::printf("%s%g", i ? "," : "", v[ops::kCoopProbeWritesAt + i]);
        std::printf("],\"end\":%g}\n", v[ops::kCoopProbeEndAt]);
    }
    const ops::frag_layout ptx = ops::frag_layout_mma_m16n8k16();
    const bool same = err.empty() && f.a == ptx.a && f.b == ptx.b && f.c == ptx.c;
    std::printf("{\"kernel\":\"coop_layout_probe\",\"usable\":%s,\"error\":\"%s\",\"ptx_m16n8k16\":%s,"
                "\"c_row_pairs\":%s,\"shapes\":\"%s\"}\n",
                err.empty() ? "true" : "false", err.c_str(), same ? "true" : "false",
                err.empty() && ops::frag_c_row_pairs(f) ? "true" : "false", ops::coop_shapes_text(dev).c_str());
    return err.empty() ? 0 : 1;
}

// COOP 4: the cooperative-matrix multiply-add rate, one JSON line per form
// and accumulator count.
static int coop_mma_rate(vk_device &dev) {
    if (!dev.cooperative_matrix()) {
        std::printf("{\"kernel\":\"coop_mma_rate\",\"error\":\"no VK_NV_cooperative_matrix\"}\n");
        return 1;
    }
    arena a(dev, false, 0, "mma rate");
    const uint32_t groups = 4096, warps = 8;  // enough workgroups to fill any GPU several times
    const buffer_span y = a.alloc(uint64_t(groups) * warps * 32 * 4, "mma rate out");
    struct {
        uint32_t iters, seed;
    } pc{2048, 1};
    const char *forms[] = {"registers", "b_built", "shared_loads"};
    for (int form = 0; form < 3; ++form)
        for (const char *acc : {"1", "2", "4", "8"}) {
            const pipeline &p = dev.kernels().get("coop_mma_rate", {{"FORM", std::to_string(form)}, {"ACC", acc}});
            command_stream cs(dev);
            const double s = seconds_per_call(cs, 2, 10, [&](int) { cs.dispatch(p, {y}, pc, groups); });
            const double mmas = double(groups) * warps * pc.iters * std::atoi(acc);
            std::printf("{\"kernel\":\"coop_mma_rate\",\"form\":\"%s\",\"acc\":%s,\"us\":%.1f,"
                        "\"mma_per_s\":%.4g,\"tflop_s\":%.1f}\n",
                        forms[form], acc, s * 1e6, mmas / s, mmas * 4096 / s / 1e12);
            std::fflush(stdout);
        }
    return 0;
}

// COOP 3: the fragment-decoding tensor-core matvec (kernels/matvec_frag.comp)
// on the same rotating MXFP4 weights, repacked on the device for its layout (or,
// without cooperative matrices, its emulation under the driver-580 layout: for
// checking the bench itself on lavapipe, not for timing).  Prints its
// largest difference from matvec.comp's result (relative to the largest
// |y|), its time, and the x split's time.
static void frag_bench(vk_device &dev, const std::vector<ops::device_weight> &ws, uint32_t count, arena &acts,
                       const buffer_span &x, const buffer_span &y, const std::vector<uint32_t> &n_list,
                       uint64_t wbytes, const char *defines, const std::vector<bool> &serial_list) {
    const uint32_t rows = ws[0].rows, cols = ws[0].cols;
    ops::frag_layout f;
    const std::string err = ops::frag_device_layout(dev, &f);
    if (!err.empty()) {
        // Timed anyway under driver 580's layout (max_diff_rel says whether it holds).
        std::printf("{\"kernel\":\"matvec_frag\",\"error\":\"layout: %s; assuming driver 580's layout\"}\n",
                    err.c_str());
        f = ops::frag_layout_nv_driver_580();
    }
    if (!ops::frag_eligible(ws[0])) {
        std::printf("{\"kernel\":\"matvec_frag\",\"error\":\"needs cols %% 64 == 0, one chunk, >= %u rows\"}\n",
                    ops::kFragMinRows);
        return;
    }
    const bool real = ops::frag_native(dev);
    // Repacked on the device, as models do (frag_repack_mxfp4.comp).
    arena fa(dev, false, 0, "frag weights");
    // Both column orders where the layout has x quads (config XQ=1 picks
    // the x-quad copies).
    const bool quads = ops::frag_x_quads(f);
    std::vector<ops::frag_weight> fws, fwsq;
    uint64_t fbytes = wbytes;
    for (bool q : {false, true}) {
        if (q && !quads) break;
        const std::vector<uint32_t> t = ops::frag_layout_table(f, q);
        const buffer_span table = fa.alloc(t.size() * 4, "table");
        upload(dev, table, t.data(), t.size() * 4);
        command_stream cs(dev);
        for (uint32_t i = 0; i < count; ++i) {
            ops::device_weight w = ws[i];
            ops::make_frag_copy(cs, fa, w, ops::frag_copy_layout(f, table, !real, q));
            (q ? fwsq : fws).push_back(ops::frag_view(w));
            fbytes = w.bytes();  // what a product reads (a bf16 copy: its block scales too)
        }
        cs.submit();
    }
    buffer_span xs = acts.alloc(uint64_t(16) * cols * 4, "xs"), yref = acts.alloc(uint64_t(16) * rows * 4, "yref");
    // XP's x: x normed (unit weight) with its pair words, written once.
    buffer_span xn = acts.alloc(uint64_t(16) * cols * 4, "xn"), xnp = acts.alloc(uint64_t(16) * cols * 4, "xn pairs");
    buffer_span xnp16 = acts.alloc(uint64_t(16) * cols * 4, "xn fp16 token pairs");  // X16's
    {
        const std::vector<float> ones(cols, 1.0f);
        const buffer_span w1 = acts.alloc(uint64_t(cols) * 4, "unit norm weight");
        upload(dev, w1, ones.data(), ones.size() * 4);
        command_stream cs(dev);
        ops::rms_norm(cs, x, w1, xn, 16, cols, 1e-6f, false, xnp);
        cs.barrier();
        ops::rms_norm(cs, x, w1, xn, 16, cols, 1e-6f, false, xnp16, true);
        cs.submit();
    }
    const int iters = real ? 400 : 2;
    // Configurations separated by ';', each NAME=VALUE[,NAME=VALUE...]
    // (kernel_tuning::frag_defines: matvec_frag's alone).
    std::vector<std::string> configs;
    for (const char *p = defines;;) {
        const char *e = p;
        while (*e && *e != ';') ++e;
        configs.emplace_back(p, e);
        if (!*e) break;
        p = e + 1;
    }
    for (const std::string &config : configs) {
        ops::tuning().frag_defines.clear();
        for (const char *p = config.c_str(); *p;) {
            const char *e = p;
            while (*e && *e != ',') ++e;
            ops::tuning().add_frag_define(std::string(p, e));
            p = *e ? e + 1 : e;
        }
        // Config entries that are the bench's choices, not the kernel's
        // defines: removed from the list, true when set and not 0.
        auto take = [](const char *name) {
            auto &fd = ops::tuning().frag_defines;
            const auto it = std::find_if(fd.begin(), fd.end(), [&](const auto &e) { return e.first == name; });
            if (it == fd.end()) return false;
            const bool on = it->second != "0";
            fd.erase(it);
            return on;
        };
        const bool x_f32 = take("XF32");  // the kernel reads fp32 x and splits it itself (no x_split pass)
        const bool use_q = take("XQ");    // the x-quad copies (a property of the weights)
        const bool xp = take("XP");       // x pre-split (needs XQ and XF32)
        const bool x16 = take("X16");     // x rounded to fp16 (copies with frag_weight::x16; needs XQ and XF32)
        if ((use_q || xp) && !quads) {
            std::printf("{\"kernel\":\"matvec_frag\",\"defines\":\"%s\",\"error\":\"the layout has no x quads\"}\n",
                        config.c_str());
            continue;
        }
        if ((xp || x16) && !(use_q && x_f32)) {
            std::printf("{\"kernel\":\"matvec_frag\",\"defines\":\"%s\",\"error\":\"XP and X16 need XQ and XF32\"}\n",
                        config.c_str());
            continue;
        }
        std::vector<ops::frag_weight> set = use_q ? fwsq : fws;
        for (ops::frag_weight &fw : set) fw.x16 = x16;
        const buffer_span &xin = xp ? xn : x;  // the products' x (fp32)
        auto run_frag = [&](command_stream &cs, const ops::frag_weight &fw, uint32_t n) {
            ops::linear_matvec_frag(cs, fw, x_f32 ? xin : xs, y, n, rows, x_f32, xp ? (x16 ? xnp16 : xnp) : buffer_span{});
        };
        for (uint32_t n : n_list) {
            if (n == 0 || n > 16) continue;
            try {
                command_stream cs(dev);
                ops::linear_matvec(cs, ws[0], xin, yref, n);
                ops::x_split_f16(cs, xin, xs, n, cols);
                cs.barrier();
                run_frag(cs, set[0], n);
                cs.submit();
                double ymax = 0;
                const double diff = max_diff_rel(dev, yref, y, size_t(n) * rows, &ymax);
                const double sx =
                    seconds_per_call(cs, real ? 8 : 1, iters, [&](int) { ops::x_split_f16(cs, x, xs, n, cols); });
                for (bool serial : serial_list) {
                    const double s = seconds_per_call(
                        cs, real ? 8 : 1, iters, [&](int i) { run_frag(cs, set[i % count], n); }, serial);
                    std::printf("{\"kernel\":\"matvec_frag\",\"format\":\"%s\",\"rows\":%u,\"cols\":%u,\"n\":%u,"
                                "\"emulated\":%s,\"defines\":\"%s\",\"max_diff_rel\":%.3g,\"max_abs_y\":%.4g,"
                                "\"us\":%.2f,\"bytes\":%llu,\"gb_s\":%.1f,\"x_split_us\":%.2f,\"serial\":%s}\n",
                                ops::wformat_name(ws[0].format), rows, cols, n, real ? "false" : "true",
                                config.c_str(), diff, ymax, s * 1e6, static_cast<unsigned long long>(fbytes),
                                fbytes / s / 1e9, sx * 1e6, serial ? "true" : "false");
                }
            } catch (const std::exception &e) {
                std::printf("{\"kernel\":\"matvec_frag\",\"n\":%u,\"defines\":\"%s\",\"error\":\"%s\"}\n", n,
                            config.c_str(), e.what());
            }
            std::fflush(stdout);
        }
    }
    ops::tuning().frag_defines.clear();
}

int main(int argc, char **argv) {
    uint32_t rows = argc > 2 ? std::atoi(argv[1]) : 4096, cols = argc > 2 ? std::atoi(argv[2]) : 14336;
    uint64_t min_bytes = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : (512ull << 20);
    auto parse_list = [](const char *s) {
        std::vector<uint32_t> v;
        for (const char *p = s; *p;) {
            v.push_back(static_cast<uint32_t>(std::strtoul(p, nullptr, 10)));
            while (*p && *p != ',') ++p;
            if (*p) ++p;
        }
        return v;
    };
    const std::vector<uint32_t> rps_list = parse_list(argc > 4 ? argv[4] : "0");
    std::vector<uint32_t> tok_list = parse_list(argc > 5 ? argv[5] : "512,2048");
    if (tok_list.size() == 1 && tok_list[0] == 0) tok_list.clear();
    const std::vector<uint32_t> ksplit_list = parse_list(argc > 6 ? argv[6] : "0");
    const std::vector<uint32_t> unroll_list = parse_list(argc > 7 ? argv[7] : "0");
    const std::string format_list = argc > 8 ? argv[8] : "bf16,mxfp8,mxfp4";
    const std::vector<uint32_t> words_list = parse_list(argc > 9 ? argv[9] : "0");
    const uint32_t serial_mode = argc > 10 ? static_cast<uint32_t>(std::atoi(argv[10])) : 0;
    const std::vector<uint32_t> n_list = parse_list(argc > 11 ? argv[11] : "1,2,3,4,8,9,16");
    std::vector<bool> serial_list;
    if (serial_mode != 1) serial_list.push_back(false);
    if (serial_mode >= 1) serial_list.push_back(true);
    try {
        instance_options io;
        io.pipeline_statistics = argc > 12 && std::atoi(argv[12]) != 0;
        const bool coop = argc > 13 && std::atoi(argv[13]) != 0;
        io.cooperative_matrix = coop;
        if (argc > 14 && std::atoi(argv[13]) != 3)  // COOP 3: frag_bench sets them for its kernel only
            for (const char *p = argv[14]; *p;) {
                const char *e = p;
                while (*e && *e != ',') ++e;
                ops::tuning().add_matvec_define(std::string(p, e));
                p = *e ? e + 1 : e;
            }
        vk_instance inst(io);
        vk_device dev(inst, 0);
        if (coop && std::atoi(argv[13]) == 2) return coop_layout_probe(dev);
        if (coop && std::atoi(argv[13]) == 4) return coop_mma_rate(dev);
        arena weights(dev, false, 0, "bench weights"), acts(dev, false, 0, "bench activations");
        filler f{dev};
        if (serial_mode >= 1) {
            // One tiny dispatch (a 5120-float add) behind a barrier, repeated:
            // the fixed cost every serialized stage of the model pays.
            arena a(dev, false, 0, "stage probe");
            buffer_span v = a.alloc(5120 * 4, "v"), o = a.alloc(5120 * 4, "o");
            command_stream cs(dev);
            f.fill(cs, v, 1, 1.0f);
            cs.submit();
            const int iters = 2000;
            // kind 0: behind a barrier, 1: no barrier (launch cost alone).
            // (H200: 5.1 and 1.8 us; a compute-only barrier measured the same
            // as the full one.)
            const char *kinds[] = {"5120-float add + barrier", "5120-float add, no barrier"};
            for (int kind = 0; kind < 2; ++kind)
                for (int rep = 0; rep < 2; ++rep) {  // the first repetition warms up
                    const double s = seconds_per_call(
                        cs, 0, iters, [&](int) { ops::scale_add(cs, v, v, o, 5120, 1.0f); }, kind == 0);
                    if (rep) std::printf("{\"kernel\":\"stage\",\"what\":\"%s\",\"us\":%.2f}\n", kinds[kind], s * 1e6);
                }
        }
        const ops::wformat formats[] = {ops::wformat::bf16, ops::wformat::mxfp8, ops::wformat::mxfp4};
        for (ops::wformat fmt : formats) {
            if (format_list.find(ops::wformat_name(fmt)) == std::string::npos) continue;
            const uint64_t wbytes = uint64_t(rows) * (ops::row_bytes(fmt, cols) + ops::row_scale_bytes(fmt, cols));
            const uint32_t count = static_cast<uint32_t>(std::max<uint64_t>(4, (min_bytes + wbytes - 1) / wbytes));
            std::vector<ops::device_weight> ws(count);
            weights.reset();
            {
                command_stream cs(dev);
                for (auto &w : ws) {
                    w.format = fmt;
                    w.rows = rows;
                    w.cols = cols;
                    ops::weight_chunk c;
                    c.rows = rows;
                    c.data = weights.alloc(uint64_t(rows) * ops::row_bytes(fmt, cols), "w");
                    f.fill(cs, c.data, fmt == ops::wformat::bf16 ? 0 : 2, 0.01f);
                    if (fmt != ops::wformat::bf16) {
                        c.scales = weights.alloc(uint64_t(rows) * ops::row_scale_bytes(fmt, cols), "s");
                        f.fill(cs, c.scales, 3, 0, 115, 118);
                    }
                    w.chunks.push_back(c);
                }
                cs.submit();
            }
            acts.reset();
            uint32_t tmax = 16;
            for (uint32_t t : tok_list) tmax = std::max(tmax, t);
            buffer_span x = acts.alloc(uint64_t(tmax) * cols * 4, "x"), y = acts.alloc(uint64_t(tmax) * rows * 4, "y");
            {
                command_stream cs(dev);
                f.fill(cs, x, 1, 1.0f);
                cs.submit();
            }
            for (uint32_t rps : rps_list)
                for (uint32_t ks : ksplit_list)
                    for (uint32_t ur : unroll_list)
                    for (uint32_t mw : fmt == ops::wformat::bf16 ? std::vector<uint32_t>{0} : words_list) {
                        ops::tuning().matvec_rows = rps;
                        ops::tuning().matvec_mx_words = mw;
                        ops::tuning().matvec_ksplit = ks;
                        ops::tuning().matvec_unroll = ur;
                        for (uint32_t n : n_list)
                        for (bool serial : serial_list) {
                            if (n == 0 || n > 16) continue;
                            command_stream cs(dev);
                            const double s = seconds_per_call(
                                cs, 8, 400, [&](int i) { ops::linear_matvec(cs, ws[i % count], x, y, n); }, serial);
                            std::printf("{\"kernel\":\"matvec\",\"format\":\"%s\",\"rows\":%u,\"cols\":%u,\"n\":%u,\"rps\":%u,"
                                        "\"ksplit\":%u,\"unroll\":%u,\"mx_words\":%u,\"serial\":%s,\"matrices\":%u,\"us\":%.2f,"
                                        "\"weight_bytes\":%llu,\"gb_s\":%.1f}\n",
                                        ops::wformat_name(fmt), rows, cols, n, rps,
                                        ks ? ks : ops::matvec_ksplit(dev, fmt, rows, cols), ur,
                                        fmt == ops::wformat::bf16 ? 0 : ops::matvec_mx_words(fmt), serial ? "true" : "false",
                                        count, s * 1e6, static_cast<unsigned long long>(wbytes), wbytes / s / 1e9);
                            std::fflush(stdout);
                        }
                    }
            ops::tuning().matvec_ksplit = 0;
            ops::tuning().matvec_unroll = 0;
            ops::tuning().matvec_rows = 0;
            ops::tuning().matvec_mx_words = 0;
            if (coop && std::atoi(argv[13]) == 3 && (fmt == ops::wformat::mxfp4 || fmt == ops::wformat::bf16))
                frag_bench(dev, ws, count, acts, x, y, n_list, wbytes, argc > 14 ? argv[14] : "", serial_list);
            else if (coop && fmt == ops::wformat::mxfp4) {
                if (!dev.cooperative_matrix())
                    std::printf("{\"kernel\":\"matvec_coop\",\"error\":\"no VK_NV_cooperative_matrix\"}\n");
                buffer_span yref = acts.alloc(uint64_t(16) * rows * 4, "yref");
                for (uint32_t n : n_list) {
                    if (!dev.cooperative_matrix() || n == 0 || n > 8) continue;
                    try {
                        command_stream cs(dev);
                        ops::linear_matvec(cs, ws[0], x, yref, n);
                        ops::linear_matvec_coop(cs, ws[0], x, y, n, 0, 0);
                        cs.submit();
                        double ymax = 0;
                        const double diff = max_diff_rel(dev, yref, y, size_t(n) * rows, &ymax);
                        const double s = seconds_per_call(
                            cs, 8, 400, [&](int i) { ops::linear_matvec_coop(cs, ws[i % count], x, y, n, 0, 0); });
                        std::printf("{\"kernel\":\"matvec_coop\",\"format\":\"mxfp4\",\"rows\":%u,\"cols\":%u,\"n\":%u,"
                                    "\"defines\":\"%s\",\"max_diff_rel\":%.3g,\"max_abs_y\":%.4g,\"us\":%.2f,\"gb_s\":%.1f}\n",
                                    rows, cols, n, argc > 14 ? argv[14] : "", diff, ymax, s * 1e6, wbytes / s / 1e9);
                    } catch (const std::exception &e) {
                        std::printf("{\"kernel\":\"matvec_coop\",\"n\":%u,\"error\":\"%s\"}\n", n, e.what());
                    }
                    std::fflush(stdout);
                }
            }
            for (uint32_t T : tok_list)
                for (uint32_t tile : {64u, 128u}) {  // rows per workgroup (the library picks by rows)
                    command_stream cs(dev);
                    const double s = seconds_per_call(cs, 2, T >= 1024 ? 10 : 30, [&](int i) {
                        ops::linear_matmul(cs, ws[i % count], x, y, T, tile);
                    });
                    std::printf("{\"kernel\":\"matmul\",\"format\":\"%s\",\"rows\":%u,\"cols\":%u,\"T\":%u,"
                                "\"rows_tile\":%u,\"us\":%.2f,\"tflop_s\":%.2f}\n",
                                ops::wformat_name(fmt), rows, cols, T, tile, s * 1e6, 2.0 * rows * cols * T / s / 1e12);
                    std::fflush(stdout);
                }
        }
        for (const auto &[key, stats] : dev.kernels().executable_statistics())
            std::printf("{\"kernel\":\"pipeline_stats\",\"key\":\"%s\",\"stats\":\"%s\"}\n", key.c_str(),
                        stats.c_str());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
