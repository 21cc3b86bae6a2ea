// Strict safetensors reader.  The rules follow the reference implementation
// (huggingface/safetensors tensor.rs): header length cap of 100,000,000 bytes,
// UTF-8 JSON object, known dtypes, overflow-checked sizes, data offsets that
// are contiguous, non-overlapping and cover the data section exactly.  In
// addition, duplicate keys and unknown fields in a tensor entry are rejected.
#include "io/safetensors.h"

#include "io/json_strict.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>

namespace mlxmtp::detail {

// ---------------------------------------------------------------- dtypes --

namespace {
struct dtype_row {
    dtype t;
    const char *name;
    size_t size;
};
constexpr dtype_row kDtypes[] = {
    {dtype::boolean, "BOOL", 1}, {dtype::u8, "U8", 1},       {dtype::i8, "I8", 1},
    {dtype::u16, "U16", 2},      {dtype::i16, "I16", 2},     {dtype::f16, "F16", 2},
    {dtype::bf16, "BF16", 2},    {dtype::u32, "U32", 4},     {dtype::i32, "I32", 4},
    {dtype::f32, "F32", 4},      {dtype::u64, "U64", 8},     {dtype::i64, "I64", 8},
    {dtype::f64, "F64", 8},      {dtype::f8_e4m3, "F8_E4M3", 1}, {dtype::f8_e5m2, "F8_E5M2", 1},
    {dtype::f8_e8m0, "F8_E8M0", 1},
};
}  // namespace

const char *dtype_name(dtype t) {
    for (const auto &r : kDtypes)
        if (r.t == t) return r.name;
    return "?";
}

size_t dtype_size(dtype t) {
    for (const auto &r : kDtypes)
        if (r.t == t) return r.size;
    return 0;
}

bool parse_dtype(std::string_view s, dtype *out) {
    for (const auto &r : kDtypes)
        if (s == r.name) {
            if (out) *out = r.t;
            return true;
        }
    return false;
}

// ----------------------------------------------------------- mapped_file --

mapped_file::mapped_file(const std::string &path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        fail(e == ENOENT ? MLXMTP_ERR_NOT_FOUND : MLXMTP_ERR_IO, "%s: cannot open: %s", path.c_str(),
             std::strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        fail(MLXMTP_ERR_IO, "%s: cannot stat: %s", path.c_str(), std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(MLXMTP_ERR_IO, "%s: not a regular file", path.c_str());
    }
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ > 0) {
        void *p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            ::close(fd);
            fail(MLXMTP_ERR_IO, "%s: cannot map %llu bytes: %s", path.c_str(),
                 static_cast<unsigned long long>(size_), std::strerror(e));
        }
        data_ = static_cast<const uint8_t *>(p);
    }
    ::close(fd);
}

mapped_file::~mapped_file() {
    if (data_) ::munmap(const_cast<uint8_t *>(data_), size_);
}

// ------------------------------------------------------ safetensors_file --

struct safetensors_file::impl {
    std::unique_ptr<mapped_file> map;
    std::vector<tensor_info> tensors;
    std::unordered_map<std::string, size_t> by_name;
    std::map<std::string, std::string> metadata;
};

namespace {

constexpr uint64_t kMaxHeader = 100000000ull;
constexpr size_t kMaxDims = 64;

bool mul_overflow(uint64_t a, uint64_t b, uint64_t *out) { return __builtin_mul_overflow(a, b, out); }

void parse_header(const std::string &path, const uint8_t *base, uint64_t size, safetensors_file::impl &im) {
    const char *f = path.c_str();
    if (size < 8) fail(MLXMTP_ERR_FORMAT, "%s: file is %llu bytes, too small for a safetensors header", f,
                       static_cast<unsigned long long>(size));
    uint64_t n = 0;
    for (int k = 7; k >= 0; --k) n = (n << 8) | base[k];
    if (n > kMaxHeader)
        fail(MLXMTP_ERR_FORMAT, "%s: header length %llu exceeds the limit of %llu bytes", f,
             static_cast<unsigned long long>(n), static_cast<unsigned long long>(kMaxHeader));
    if (n + 8 > size)
        fail(MLXMTP_ERR_FORMAT, "%s: header length %llu runs past the end of the %llu-byte file (truncated?)", f,
             static_cast<unsigned long long>(n), static_cast<unsigned long long>(size));
    std::string_view text(reinterpret_cast<const char *>(base + 8), n);
    if (!valid_utf8(text)) fail(MLXMTP_ERR_FORMAT, "%s: header is not valid UTF-8", f);
    jvalue root = parse_json_strict(text, path + " (header)");
    if (root.kind != jvalue::obj_v) fail(MLXMTP_ERR_FORMAT, "%s: header is not a JSON object", f);

    const uint64_t data_start = 8 + n;
    const uint64_t data_len = size - data_start;
    struct pending {
        tensor_info info;
        uint64_t begin, end;
    };
    std::vector<pending> items;
    items.reserve(root.obj.size());
    for (auto &kv : root.obj) {
        const std::string &name = kv.first;
        const jvalue &v = kv.second;
        const char *tn = name.c_str();
        if (name == "__metadata__") {
            if (v.kind != jvalue::obj_v)
                fail(MLXMTP_ERR_FORMAT, "%s: __metadata__ must be an object of strings", f);
            for (auto &m : v.obj) {
                if (m.second.kind != jvalue::str_v)
                    fail(MLXMTP_ERR_FORMAT, "%s: __metadata__ value \"%s\" is not a string", f, m.first.c_str());
                im.metadata[m.first] = m.second.s;
            }
            continue;
        }
        if (name.empty()) fail(MLXMTP_ERR_FORMAT, "%s: tensor with an empty name", f);
        if (v.kind != jvalue::obj_v) fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": entry is not an object", f, tn);
        const jvalue *jd = nullptr, *js = nullptr, *jo = nullptr;
        for (auto &e : v.obj) {
            if (e.first == "dtype") jd = &e.second;
            else if (e.first == "shape") js = &e.second;
            else if (e.first == "data_offsets") jo = &e.second;
            else fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": unknown field \"%s\"", f, tn, e.first.c_str());
        }
        if (!jd || !js || !jo)
            fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": missing %s", f, tn,
                 !jd ? "\"dtype\"" : !js ? "\"shape\"" : "\"data_offsets\"");
        pending p;
        p.info.name = name;
        p.info.file = path;
        if (jd->kind != jvalue::str_v) fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": dtype is not a string", f, tn);
        if (!parse_dtype(jd->s, &p.info.type))
            fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": unknown or unsupported dtype \"%s\"", f, tn, jd->s.c_str());
        if (js->kind != jvalue::arr_v) fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": shape is not an array", f, tn);
        if (js->arr.size() > kMaxDims)
            fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": %zu dimensions (limit %zu)", f, tn, js->arr.size(), kMaxDims);
        uint64_t numel = 1;
        for (auto &d : js->arr) {
            if (!d.is_uint())
                fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": shape entries must be non-negative integers", f, tn);
            if (d.u > static_cast<uint64_t>(INT64_MAX) || mul_overflow(numel, d.u, &numel))
                fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": element count overflows", f, tn);
            p.info.shape.push_back(static_cast<int64_t>(d.u));
        }
        uint64_t nbytes;
        if (mul_overflow(numel, dtype_size(p.info.type), &nbytes) || numel > static_cast<uint64_t>(INT64_MAX))
            fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": byte size overflows", f, tn);
        if (jo->kind != jvalue::arr_v || jo->arr.size() != 2 || !jo->arr[0].is_uint() || !jo->arr[1].is_uint())
            fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": data_offsets must be two non-negative integers", f, tn);
        p.begin = jo->arr[0].u;
        p.end = jo->arr[1].u;
        if (p.end < p.begin)
            fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": data_offsets [%llu, %llu] are reversed", f, tn,
                 static_cast<unsigned long long>(p.begin), static_cast<unsigned long long>(p.end));
        if (p.end - p.begin != nbytes)
            fail(MLXMTP_ERR_FORMAT,
                 "%s: tensor \"%s\": data_offsets span %llu bytes but dtype %s and the shape need %llu", f, tn,
                 static_cast<unsigned long long>(p.end - p.begin), jd->s.c_str(),
                 static_cast<unsigned long long>(nbytes));
        if (p.end > data_len)
            fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": data_offsets end %llu is past the data section (%llu bytes; truncated?)",
                 f, tn, static_cast<unsigned long long>(p.end), static_cast<unsigned long long>(data_len));
        p.info.nbytes = nbytes;
        p.info.data = base + data_start + p.begin;
        items.push_back(std::move(p));
    }
    std::stable_sort(items.begin(), items.end(), [](const pending &a, const pending &b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t running = 0;
    for (auto &p : items) {
        if (p.begin != running)
            fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": data_offsets [%llu, %llu] %s (expected it to start at %llu)", f,
                 p.info.name.c_str(), static_cast<unsigned long long>(p.begin),
                 static_cast<unsigned long long>(p.end), p.begin < running ? "overlap another tensor" : "leave a gap",
                 static_cast<unsigned long long>(running));
        running = p.end;
    }
    if (running != data_len)
        fail(MLXMTP_ERR_FORMAT, "%s: tensors cover %llu bytes but the data section has %llu (%s)", f,
             static_cast<unsigned long long>(running), static_cast<unsigned long long>(data_len),
             running < data_len ? "trailing bytes" : "truncated");
    im.tensors.reserve(items.size());
    for (auto &p : items) {
        im.by_name.emplace(p.info.name, im.tensors.size());
        im.tensors.push_back(std::move(p.info));
    }
}

}  // namespace

safetensors_file::safetensors_file(std::unique_ptr<impl> p) : p_(std::move(p)) {}
safetensors_file::~safetensors_file() = default;

std::unique_ptr<safetensors_file> safetensors_file::open(const std::string &path) {
    auto im = std::make_unique<impl>();
    im->map = std::make_unique<mapped_file>(path);
    parse_header(path, im->map->data(), im->map->size(), *im);
    return std::unique_ptr<safetensors_file>(new safetensors_file(std::move(im)));
}

const std::string &safetensors_file::path() const { return p_->map->path(); }
const std::vector<tensor_info> &safetensors_file::tensors() const { return p_->tensors; }
const std::map<std::string, std::string> &safetensors_file::metadata() const { return p_->metadata; }
const tensor_info *safetensors_file::find(std::string_view name) const {
    auto it = p_->by_name.find(std::string(name));
    return it == p_->by_name.end() ? nullptr : &p_->tensors[it->second];
}

// ------------------------------------------------------------ checkpoint --

struct checkpoint::impl {
    std::string dir;
    std::vector<std::unique_ptr<safetensors_file>> files;
    std::map<std::string, const tensor_info *> by_name;
};

namespace {

std::string read_small_file(const std::string &path, size_t limit) {
    mapped_file m(path);
    if (m.size() > limit)
        fail(MLXMTP_ERR_FORMAT, "%s: %llu bytes, over the %zu-byte limit", path.c_str(),
             static_cast<unsigned long long>(m.size()), limit);
    return std::string(reinterpret_cast<const char *>(m.data()), m.size());
}

bool file_exists(const std::string &p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0;
}

std::string real_path(const std::string &p) {
    char *r = ::realpath(p.c_str(), nullptr);
    if (!r) {
        int e = errno;
        fail(e == ENOENT ? MLXMTP_ERR_NOT_FOUND : MLXMTP_ERR_IO, "%s: %s", p.c_str(), std::strerror(e));
    }
    std::string s(r);
    std::free(r);
    return s;
}

}  // namespace

bool is_plain_file_name(std::string_view n) {
    if (n.empty() || n == "." || n == "..") return false;
    for (char c : n)
        if (c == '/' || c == '\\' || c == '\0') return false;
    return true;
}

checkpoint::checkpoint(std::unique_ptr<impl> p) : p_(std::move(p)) {}
checkpoint::~checkpoint() = default;

std::unique_ptr<checkpoint> checkpoint::open(const std::string &dir_in) {
    auto im = std::make_unique<impl>();
    std::string dir = dir_in;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    im->dir = dir;
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        fail(MLXMTP_ERR_NOT_FOUND, "%s: not a directory", dir.c_str());
    const std::string index_path = dir + "/model.safetensors.index.json";
    if (file_exists(index_path)) {
        std::string text = read_small_file(index_path, 256u << 20);
        jvalue root = parse_json_strict(text, index_path);
        const jvalue *wm = root.get("weight_map");
        if (root.kind != jvalue::obj_v || !wm || wm->kind != jvalue::obj_v)
            fail(MLXMTP_ERR_FORMAT, "%s: no \"weight_map\" object", index_path.c_str());
        const std::string real_dir = real_path(dir);
        std::map<std::string, size_t> shard_idx;      // shard name -> files index
        std::vector<std::pair<std::string, std::string>> entries;  // tensor -> shard
        for (auto &kv : wm->obj) {
            if (kv.second.kind != jvalue::str_v)
                fail(MLXMTP_ERR_FORMAT, "%s: weight_map entry for \"%s\" is not a string", index_path.c_str(),
                     kv.first.c_str());
            const std::string &shard = kv.second.s;
            if (!is_plain_file_name(shard))
                fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": shard name \"%s\" is not a plain file name in the directory",
                     index_path.c_str(), kv.first.c_str(), shard.c_str());
            entries.emplace_back(kv.first, shard);
            if (shard_idx.count(shard)) continue;
            std::string sp = dir + "/" + shard;
            std::string rp = real_path(sp);
            if (rp.compare(0, real_dir.size() + 1, real_dir + "/") != 0)
                fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\": shard \"%s\" resolves outside the directory (%s)",
                     index_path.c_str(), kv.first.c_str(), shard.c_str(), rp.c_str());
            shard_idx[shard] = im->files.size();
            im->files.push_back(safetensors_file::open(sp));
        }
        for (auto &e : entries) {
            const auto &sf = im->files[shard_idx[e.second]];
            const tensor_info *t = sf->find(e.first);
            if (!t)
                fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\" is listed in the index but missing from its shard",
                     sf->path().c_str(), e.first.c_str());
            im->by_name[e.first] = t;
        }
        for (auto &sf : im->files)
            for (auto &t : sf->tensors()) {
                auto it = im->by_name.find(t.name);
                if (it == im->by_name.end())
                    fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\" is not listed in %s", sf->path().c_str(),
                         t.name.c_str(), index_path.c_str());
                if (it->second != &t)
                    fail(MLXMTP_ERR_FORMAT, "%s: tensor \"%s\" also appears in %s", sf->path().c_str(),
                         t.name.c_str(), it->second->file.c_str());
            }
    } else {
        const std::string single = dir + "/model.safetensors";
        if (!file_exists(single))
            fail(MLXMTP_ERR_NOT_FOUND, "%s: neither model.safetensors.index.json nor model.safetensors exists",
                 dir.c_str());
        im->files.push_back(safetensors_file::open(single));
        for (auto &t : im->files[0]->tensors()) im->by_name[t.name] = &t;
    }
    return std::unique_ptr<checkpoint>(new checkpoint(std::move(im)));
}

const std::string &checkpoint::dir() const { return p_->dir; }

const tensor_info *checkpoint::find(std::string_view name) const {
    auto it = p_->by_name.find(std::string(name));
    return it == p_->by_name.end() ? nullptr : it->second;
}

std::vector<const tensor_info *> checkpoint::tensors() const {
    std::vector<const tensor_info *> out;
    out.reserve(p_->by_name.size());
    for (auto &kv : p_->by_name) out.push_back(kv.second);
    return out;
}

const std::vector<std::unique_ptr<safetensors_file>> &checkpoint::files() const { return p_->files; }

}  // namespace mlxmtp::detail
