// The checkpoint quantizer pipeline:
//   1. checks (paths, aliasing, existing output, config, free space);
//   2. plans the output tensors and shards, creates a temporary sibling
//      directory and every shard file at its final size;
//   3. worker threads quantize / copy fixed row ranges into fixed file
//      offsets (so the bytes never depend on the thread count);
//   4. fsyncs, re-opens everything with the strict reader, optionally
//      verifies (dequantize + cosine), writes index/config/tokenizer files;
//   5. renames the directory into place (atomic exchange with an old output).
#include "quant/quantize.h"

#include "io/safetensors_writer.h"
#include "model/config.h"
#include "util/durable_file.h"

#include <json-c/json.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <random>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace mlxmtp::detail {

namespace {

std::atomic<int64_t> g_fail_after{0};

constexpr uint64_t kTaskBytes = 4u << 20;  // source bytes per work item

const char *const kCopiedFiles[] = {
    "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "tokenizer.model",
    "chat_template.jinja", "chat_template.json", "preprocessor_config.json", "processor_config.json",
    "video_preprocessor_config.json", "generation_config.json", "special_tokens_map.json", "added_tokens.json",
};

struct jdel {
    void operator()(json_object *o) const { json_object_put(o); }
};

// ---- output plan ----

struct out_loc {
    int file = -1;
    uint64_t offset = 0;
};

struct work_item {
    const tensor_info *src = nullptr;
    bool quantize = false;
    int64_t r0 = 0, r1 = 0;       // quantize: row range
    uint64_t b0 = 0, b1 = 0;      // copy: byte range
    out_loc weight, scales;       // quantize: packed and scales destinations; copy: weight only
};

struct verify_item {
    size_t tensor = 0;  // index into report.tensors
    int64_t r0 = 0, r1 = 0;
    double dot = 0, ww = 0, qq = 0, ee = 0;
};

std::string tmp_prefix(const std::string &dst_base) { return "." + dst_base + ".mlxmtp-tmp-"; }

// Removes temporary directories left by killed runs (their pid is gone).
void clean_stale_temps(const std::string &parent, const std::string &dst_base) {
    DIR *d = ::opendir(parent.c_str());
    if (!d) return;
    std::vector<std::string> stale;
    const std::string pre = tmp_prefix(dst_base);
    while (struct dirent *e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n.compare(0, pre.size(), pre) != 0) continue;
        long pid = std::strtol(n.c_str() + pre.size(), nullptr, 10);
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) stale.push_back(parent + "/" + n);
    }
    ::closedir(d);
    for (auto &s : stale) remove_tree(s);
}

// Runs fn(i) for i in [0, n) on `threads` workers; the calling thread reports
// progress.  The first exception stops the run and is rethrown.
template <class Fn>
void run_parallel(size_t n, unsigned threads, Fn fn, const std::vector<uint64_t> &weights, quantize_phase phase,
                  const quantize_progress &progress) {
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> done{0};
    std::atomic<bool> stop{false};
    std::exception_ptr first;
    std::mutex mu;  // guards `first` and `finished`; leaf lock
    std::condition_variable cv;
    unsigned finished = 0;
    uint64_t total = 0;
    for (uint64_t w : weights) total += w;
    auto worker = [&] {
        for (;;) {
            if (stop.load(std::memory_order_relaxed)) break;
            size_t i = next.fetch_add(1);
            if (i >= n) break;
            try {
                fn(i);
            } catch (...) {
                std::lock_guard<std::mutex> lk(mu);
                if (!first) first = std::current_exception();
                stop = true;
                break;
            }
            done.fetch_add(weights[i], std::memory_order_relaxed);
        }
        std::lock_guard<std::mutex> lk(mu);
        ++finished;
        cv.notify_all();
    };
    std::vector<std::thread> pool;
    unsigned nt = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(std::max<size_t>(n, 1))));
    for (unsigned t = 0; t < nt; ++t) pool.emplace_back(worker);
    bool aborted = false;
    {
        std::unique_lock<std::mutex> lk(mu);
        while (finished < nt) {
            cv.wait_for(lk, std::chrono::milliseconds(100));
            if (progress && !aborted && finished < nt) {
                lk.unlock();
                bool go = progress(phase, done.load(), total);
                lk.lock();
                if (!go) {
                    aborted = true;
                    stop = true;
                }
            }
        }
    }
    for (auto &t : pool) t.join();
    if (first) std::rethrow_exception(first);
    if (aborted) fail(MLXMTP_ERR_ABORTED, "quantization aborted by the progress callback");
    if (progress && !progress(phase, total, total)) fail(MLXMTP_ERR_ABORTED, "quantization aborted by the progress callback");
}

std::string build_config(const std::string &src_config_path, const quantize_options &opt, bool has_mtp) {
    std::string text = read_file_limited(src_config_path, 64u << 20);
    model_config parsed = parse_model_config_json(text, src_config_path);  // validates
    if (parsed.quant.present)
        fail(MLXMTP_ERR_UNSUPPORTED, "%s: the source is already quantized (mode \"%s\"); quantize a float checkpoint",
             src_config_path.c_str(), parsed.quant.mode.c_str());
    std::unique_ptr<json_object, jdel> root(json_tokener_parse(text.c_str()));
    if (!root || !json_object_is_type(root.get(), json_type_object))
        fail(MLXMTP_ERR_FORMAT, "%s: invalid JSON", src_config_path.c_str());
    auto qblock = [&] {
        json_object *q = json_object_new_object();
        json_object_object_add(q, "group_size", json_object_new_int(32));
        json_object_object_add(q, "bits", json_object_new_int(mx_bits(opt.mode)));
        json_object_object_add(q, "mode", json_object_new_string(opt.mode == mx_mode::mxfp4 ? "mxfp4" : "mxfp8"));
        return q;
    };
    json_object_object_add(root.get(), "quantization", qblock());
    json_object_object_add(root.get(), "quantization_config", qblock());
    if (!has_mtp) {
        json_object *tc = nullptr;
        if (json_object_object_get_ex(root.get(), "text_config", &tc) && json_object_is_type(tc, json_type_object))
            json_object_object_add(tc, "mtp_num_hidden_layers", json_object_new_int(0));
        else if (json_object_object_get_ex(root.get(), "mtp_num_hidden_layers", nullptr))
            json_object_object_add(root.get(), "mtp_num_hidden_layers", json_object_new_int(0));
    }
    // top-level keys sorted, as mlx-lm's save_config writes them
    std::vector<std::string> keys;
    json_object_object_foreach(root.get(), k, v) {
        (void)v;
        keys.push_back(k);
    }
    std::sort(keys.begin(), keys.end());
    std::unique_ptr<json_object, jdel> sorted(json_object_new_object());
    for (auto &k : keys) {
        json_object *v = nullptr;
        json_object_object_get_ex(root.get(), k.c_str(), &v);
        json_object_object_add(sorted.get(), k.c_str(), json_object_get(v));
    }
    std::string out = json_object_to_json_string_ext(
        sorted.get(), JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    return out + "\n";
}

}  // namespace

void quantize_set_fail_after_tasks(int64_t n) { g_fail_after.store(n); }

quantize_report quantize_checkpoint(const std::string &src_dir, const std::string &dst_dir,
                                    const quantize_options &opt, const quantize_progress &progress) {
    const auto t_start = std::chrono::steady_clock::now();
    quantize_report rep;
    if (src_dir.empty() || dst_dir.empty()) fail(MLXMTP_ERR_INVALID_ARG, "source and output directories are required");
    if (!is_dir(src_dir)) fail(MLXMTP_ERR_NOT_FOUND, "%s: source directory not found", src_dir.c_str());
    const std::string src = canonical_path(src_dir);

    // ---- output path, aliasing, existing output ----
    const std::string dst_base = base_name(dst_dir);
    if (dst_base == "." || dst_base == ".." || dst_base == "/")
        fail(MLXMTP_ERR_INVALID_ARG, "%s: name the output directory explicitly", dst_dir.c_str());
    const std::string parent_in = parent_dir(dst_dir);
    if (!is_dir(parent_in)) fail(MLXMTP_ERR_NOT_FOUND, "%s: the output's parent directory does not exist", parent_in.c_str());
    const std::string parent = canonical_path(parent_in);
    const bool dst_exists = lpath_exists(dst_dir);
    const std::string dst = dst_exists ? canonical_path(dst_dir) : parent + "/" + dst_base;
    if (dst == src || dst.compare(0, src.size() + 1, src + "/") == 0)
        fail(MLXMTP_ERR_INVALID_ARG, "%s: the output must not be the source directory or inside it (%s)",
             dst_dir.c_str(), src.c_str());
    if (src.compare(0, dst.size() + 1, dst + "/") == 0)
        fail(MLXMTP_ERR_INVALID_ARG, "%s: the output directory contains the source (%s)", dst_dir.c_str(), src.c_str());
    if (dst_exists) {
        struct stat a, b;
        if (::stat(dst.c_str(), &a) == 0 && ::stat(src.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
            fail(MLXMTP_ERR_INVALID_ARG, "%s: the output is the source directory", dst_dir.c_str());
        if (!is_dir(dst)) fail(MLXMTP_ERR_EXISTS, "%s: exists and is not a directory", dst_dir.c_str());
        if (!dir_is_empty(dst) && !opt.force)
            fail(MLXMTP_ERR_EXISTS, "%s: output directory is not empty (use --force to replace it)", dst_dir.c_str());
    }

    // ---- source ----
    auto ck = checkpoint::open(src);
    const std::string src_config = src + "/config.json";
    bool has_mtp = false;
    for (auto *t : ck->tensors()) has_mtp |= is_mtp_tensor(t->name);
    const std::string config_text = build_config(src_config, opt, has_mtp);

    // ---- plan ----
    std::vector<st_entry> entries;
    std::vector<const tensor_info *> srcs = ck->tensors();
    for (auto *t : srcs) {
        tensor_report tr;
        tr.name = t->name;
        tr.type = t->type;
        tr.shape = t->shape;
        tr.reason = decide_tensor(t->name, t->type, t->shape);
        rep.src_bytes += t->nbytes;
        if (tr.reason == keep_reason::quantize) {
            const int64_t rows = t->shape[0], cols = t->shape[1];
            std::string base = t->name.substr(0, t->name.size() - 7);
            if (ck->find(base + ".scales"))
                fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s.scales\" already exists next to \"%s\"", t->file.c_str(),
                     base.c_str(), t->name.c_str());
            entries.push_back({t->name, dtype::u32, {rows, cols * mx_bits(opt.mode) / 32},
                               static_cast<uint64_t>(rows) * cols * mx_bits(opt.mode) / 8});
            entries.push_back({base + ".scales", dtype::u8, {rows, cols / 32}, static_cast<uint64_t>(rows) * cols / 32});
            ++rep.n_quantized;
        } else {
            entries.push_back({t->name, t->type, t->shape, t->nbytes});
            ++rep.n_kept;
        }
        rep.tensors.push_back(std::move(tr));
    }
    std::map<std::string, std::string> meta{{"format", "mlx"}};
    std::vector<st_file_plan> plans = plan_shards(entries, opt.shard_bytes, meta);
    rep.n_shards = plans.size();
    std::map<std::string, out_loc> loc;
    for (size_t f = 0; f < plans.size(); ++f) {
        rep.dst_bytes += plans[f].file_size;
        for (size_t e = 0; e < plans[f].entries.size(); ++e)
            loc[plans[f].entries[e].name] = {static_cast<int>(f), plans[f].data_offset[e]};
    }

    // ---- free space ----
    uint64_t extra = 0;
    for (const char *n : kCopiedFiles) {
        struct stat st;
        if (::stat((src + "/" + n).c_str(), &st) == 0) extra += static_cast<uint64_t>(st.st_size);
    }
    const uint64_t need = rep.dst_bytes + extra + config_text.size() + (1u << 20);
    const uint64_t have = free_space(parent);
    if (have < need)
        fail(MLXMTP_ERR_NO_SPACE, "%s: needs %.2f GB of free space, %.2f GB available", parent.c_str(), need / 1e9,
             have / 1e9);

    // ---- work items ----
    std::vector<work_item> items;
    std::vector<uint64_t> weights;
    for (auto *t : srcs) {
        keep_reason r = decide_tensor(t->name, t->type, t->shape);
        if (r == keep_reason::quantize) {
            const int64_t rows = t->shape[0], cols = t->shape[1];
            const uint64_t row_bytes = static_cast<uint64_t>(cols) * dtype_size(t->type);
            const int64_t step = std::max<int64_t>(1, static_cast<int64_t>(kTaskBytes / std::max<uint64_t>(row_bytes, 1)));
            std::string base = t->name.substr(0, t->name.size() - 7);
            for (int64_t r0 = 0; r0 < rows; r0 += step) {
                work_item w;
                w.src = t;
                w.quantize = true;
                w.r0 = r0;
                w.r1 = std::min(rows, r0 + step);
                w.weight = loc[t->name];
                w.scales = loc[base + ".scales"];
                items.push_back(w);
                weights.push_back(static_cast<uint64_t>(w.r1 - w.r0) * row_bytes);
            }
        } else {
            for (uint64_t b0 = 0; b0 < t->nbytes || (b0 == 0 && t->nbytes == 0); b0 += kTaskBytes) {
                work_item w;
                w.src = t;
                w.b0 = b0;
                w.b1 = std::min(t->nbytes, b0 + kTaskBytes);
                w.weight = loc[t->name];
                items.push_back(w);
                weights.push_back(w.b1 - w.b0);
                if (t->nbytes == 0) break;
            }
        }
    }

    unsigned threads = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
    rep.threads = threads;
    rep.kernel = mx_kernel_name();

    // ---- temporary directory ----
    clean_stale_temps(parent, dst_base);
    std::random_device rd;
    const std::string tmp = parent + "/" + tmp_prefix(dst_base) + std::to_string(::getpid()) + "-" +
                            std::to_string(rd() % 1000000);
    if (::mkdir(tmp.c_str(), 0755) != 0)
        fail(MLXMTP_ERR_IO, "%s: cannot create the temporary output directory: %s", tmp.c_str(), std::strerror(errno));
    try {
        std::vector<std::unique_ptr<output_file>> files;
        for (auto &p : plans) {
            files.push_back(std::make_unique<output_file>(tmp + "/" + p.file_name));
            files.back()->reserve(p.file_size);
            files.back()->pwrite_all(0, p.header.data(), p.header.size());
        }
        std::atomic<int64_t> tasks_run{0};
        const int64_t fail_after = g_fail_after.load();
        auto do_item = [&](size_t i) {
            const work_item &w = items[i];
            if (fail_after > 0 && tasks_run.fetch_add(1) >= fail_after)
                fail(MLXMTP_ERR_IO, "%s: injected write failure (test hook)", files[w.weight.file]->path().c_str());
            const tensor_info *t = w.src;
            if (!w.quantize) {
                if (w.b1 > w.b0) {
                    files[w.weight.file]->pwrite_all(w.weight.offset + w.b0, t->data + w.b0, w.b1 - w.b0);
                    files[w.weight.file]->start_writeback(w.weight.offset + w.b0, w.b1 - w.b0);
                }
                return;
            }
            thread_local std::vector<uint8_t> packed, scales;
            const int64_t cols = t->shape[1], rows = w.r1 - w.r0;
            const uint64_t pk_row = static_cast<uint64_t>(cols) * mx_bits(opt.mode) / 8, sc_row = cols / 32;
            packed.resize(rows * pk_row);
            scales.resize(rows * sc_row);
            const uint8_t *s = t->data + static_cast<uint64_t>(w.r0) * cols * dtype_size(t->type);
            int64_t bad = mx_quantize_rows(t->type, s, rows, cols, opt.mode, opt.rule, packed.data(), scales.data());
            if (bad >= 0) {
                int64_t r = w.r0 + bad / cols, c = bad % cols;
                float v = load_as_f32(t->type, s, bad);
                fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\" contains %s at [%lld, %lld]; refusing to quantize it",
                     t->file.c_str(), t->name.c_str(), std::isnan(v) ? "NaN" : "Inf", static_cast<long long>(r),
                     static_cast<long long>(c));
            }
            const int64_t big = mx_first_scale_beyond_engine(scales.data(), scales.size(), opt.mode);
            if (big >= 0) {
                const int64_t r = big / static_cast<int64_t>(sc_row), g = big % static_cast<int64_t>(sc_row);
                float amax = 0;
                for (int64_t c = g * 32; c < g * 32 + 32; ++c)
                    amax = std::max(amax, std::fabs(load_as_f32(t->type, s, r * cols + c)));
                fail(MLXMTP_ERR_FORMAT,
                     "%s: tensor \"%s\" needs scale 2^%d at row %lld, columns %lld..%lld (largest magnitude "
                     "%g), beyond the engine's %s range (at most 2^%d); refusing to quantize it",
                     t->file.c_str(), t->name.c_str(), int(scales[big]) - 127, static_cast<long long>(w.r0 + r),
                     static_cast<long long>(g * 32), static_cast<long long>(g * 32 + 31), double(amax),
                     opt.mode == mx_mode::mxfp4 ? "MXFP4" : "MXFP8", int(mx_max_engine_scale_byte(opt.mode)) - 127);
            }
            files[w.weight.file]->pwrite_all(w.weight.offset + w.r0 * pk_row, packed.data(), packed.size());
            files[w.scales.file]->pwrite_all(w.scales.offset + w.r0 * sc_row, scales.data(), scales.size());
            files[w.weight.file]->start_writeback(w.weight.offset + w.r0 * pk_row, packed.size());
        };
        run_parallel(items.size(), threads, do_item, weights, quantize_phase::quantize, progress);
        for (auto &f : files) f->sync_and_close();
        files.clear();

        // ---- side files ----
        for (const char *n : kCopiedFiles)
            if (path_exists(src + "/" + n)) copy_file_durable(src + "/" + n, tmp + "/" + n);
        write_file_atomic(tmp + "/config.json", config_text.data(), config_text.size(), true);
        const std::string index_text = build_index_json(plans);
        write_file_atomic(tmp + "/model.safetensors.index.json", index_text.data(), index_text.size(), true);

        // ---- re-open what was written with the strict reader; verify ----
        auto out = checkpoint::open(tmp);
        if (out->tensors().size() != entries.size())
            fail(MLXMTP_ERR_INTERNAL, "%s: wrote %zu tensors, expected %zu", tmp.c_str(), out->tensors().size(),
                 entries.size());
        if (opt.verify) {
            std::vector<verify_item> vitems;
            std::vector<uint64_t> vweights;
            for (size_t k = 0; k < rep.tensors.size(); ++k) {
                const tensor_report &tr = rep.tensors[k];
                if (tr.reason != keep_reason::quantize) continue;
                const int64_t rows = tr.shape[0], cols = tr.shape[1];
                const uint64_t row_bytes = static_cast<uint64_t>(cols) * dtype_size(tr.type);
                const int64_t step = std::max<int64_t>(1, static_cast<int64_t>(kTaskBytes / row_bytes));
                for (int64_t r0 = 0; r0 < rows; r0 += step) {
                    vitems.push_back({k, r0, std::min(rows, r0 + step)});
                    vweights.push_back(static_cast<uint64_t>(vitems.back().r1 - r0) * row_bytes);
                }
            }
            auto do_verify = [&](size_t i) {
                verify_item &v = vitems[i];
                const tensor_report &tr = rep.tensors[v.tensor];
                const tensor_info *s = ck->find(tr.name);
                const tensor_info *q = out->find(tr.name);
                const tensor_info *sc = out->find(tr.name.substr(0, tr.name.size() - 7) + ".scales");
                if (!q || !sc || q->type != dtype::u32 || sc->type != dtype::u8)
                    fail(MLXMTP_ERR_INTERNAL, "verify: output tensors for \"%s\" missing", tr.name.c_str());
                const int64_t cols = tr.shape[1];
                const uint64_t pk_row = static_cast<uint64_t>(cols) * mx_bits(opt.mode) / 8;
                thread_local std::vector<float> deq;
                deq.resize(static_cast<size_t>(cols));
                for (int64_t r = v.r0; r < v.r1; ++r) {
                    mx_dequantize(q->data + r * pk_row, sc->data + r * (cols / 32), cols, opt.mode, deq.data());
                    const uint8_t *srow = s->data + static_cast<uint64_t>(r) * cols * dtype_size(s->type);
                    for (int64_t c = 0; c < cols; ++c) {
                        double a = load_as_f32(s->type, srow, c), b = deq[c];
                        v.dot += a * b;
                        v.ww += a * a;
                        v.qq += b * b;
                        v.ee += (a - b) * (a - b);
                    }
                }
            };
            run_parallel(vitems.size(), threads, do_verify, vweights, quantize_phase::verify, progress);
            std::vector<double> dot(rep.tensors.size()), ww(rep.tensors.size()), qq(rep.tensors.size()),
                ee(rep.tensors.size());
            for (auto &v : vitems) {  // fixed order: deterministic sums
                dot[v.tensor] += v.dot;
                ww[v.tensor] += v.ww;
                qq[v.tensor] += v.qq;
                ee[v.tensor] += v.ee;
            }
            rep.verified = true;
            rep.cos_min = 1.0;
            double worst = INFINITY;
            size_t nq = 0;
            for (size_t k = 0; k < rep.tensors.size(); ++k) {
                tensor_report &tr = rep.tensors[k];
                if (tr.reason != keep_reason::quantize) continue;
                if (ww[k] == 0 && qq[k] == 0) tr.cosine = 1.0;
                else if (ww[k] == 0 || qq[k] == 0) tr.cosine = 0.0;
                else tr.cosine = dot[k] / (std::sqrt(ww[k]) * std::sqrt(qq[k]));
                tr.rel_err = ww[k] == 0 ? (ee[k] == 0 ? 0.0 : INFINITY) : std::sqrt(ee[k] / ww[k]);
                rep.cos_mean += tr.cosine;
                rep.rel_err_mean += tr.rel_err;
                rep.rel_err_max = std::max(rep.rel_err_max, tr.rel_err);
                if (tr.cosine < worst) {
                    worst = tr.cosine;
                    rep.worst_tensor = tr.name;
                }
                ++nq;
            }
            if (nq) rep.cos_min = worst;
            if (nq) {
                rep.cos_mean /= static_cast<double>(nq);
                rep.rel_err_mean /= static_cast<double>(nq);
            }
        }
        out.reset();
        fsync_dir(tmp);

        // ---- into place ----
        if (dst_exists) {
            if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dst.c_str(), RENAME_EXCHANGE) == 0) {
                fsync_dir(parent);
                remove_tree(tmp);  // now holds the old output
            } else if (errno == EINVAL || errno == ENOSYS) {
                // no atomic exchange on this file system: move the old one aside first
                std::string old = tmp + ".old";
                if (::rename(dst.c_str(), old.c_str()) != 0)
                    fail(MLXMTP_ERR_IO, "%s: cannot move the old output aside: %s", dst.c_str(), std::strerror(errno));
                if (::rename(tmp.c_str(), dst.c_str()) != 0) {
                    int e = errno;
                    (void)::rename(old.c_str(), dst.c_str());
                    fail(MLXMTP_ERR_IO, "%s: cannot rename the new output into place: %s", dst.c_str(), std::strerror(e));
                }
                fsync_dir(parent);
                remove_tree(old);
            } else {
                fail(MLXMTP_ERR_IO, "%s: cannot replace the output: %s", dst.c_str(), std::strerror(errno));
            }
        } else {
            if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dst.c_str(), RENAME_NOREPLACE) != 0) {
                int e = errno;
                if (e == EEXIST) fail(MLXMTP_ERR_EXISTS, "%s: appeared while quantizing", dst.c_str());
                if ((e != EINVAL && e != ENOSYS) || ::rename(tmp.c_str(), dst.c_str()) != 0)
                    fail(MLXMTP_ERR_IO, "%s: cannot rename the output into place: %s", dst.c_str(), std::strerror(e));
            }
            fsync_dir(parent);
        }
    } catch (...) {
        remove_tree(tmp);
        throw;
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    return rep;
}

}  // namespace mlxmtp::detail
