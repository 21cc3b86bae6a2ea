// The strict safetensors reader: the real fixture checkpoint opens and agrees
// with its index, and each malformed input gives its own clear error (status,
// file name, tensor name) instead of a crash.
#include "io/safetensors.h"
#include "quant_test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

using namespace mlxmtp::detail;
using qtest::st_bytes;
using qtest::temp_dir;
using qtest::write_bytes;

namespace {

// Opens `bytes` as a file and returns the error (status, message); status 0 if it opened.
struct outcome {
    mlxmtp_status status = MLXMTP_OK;
    std::string message;
};

outcome open_bytes(const temp_dir &d, const std::string &bytes, const std::string &name = "x.safetensors") {
    write_bytes(d / name, bytes);
    outcome o;
    try {
        safetensors_file::open(d / name);
    } catch (const error &e) {
        o.status = e.status();
        o.message = e.what();
    }
    return o;
}

void expect_format_error(const outcome &o, const std::string &needle1, const std::string &needle2 = "") {
    EXPECT_EQ(o.status, MLXMTP_ERR_FORMAT) << o.message;
    EXPECT_NE(o.message.find("x.safetensors"), std::string::npos) << o.message;
    EXPECT_NE(o.message.find(needle1), std::string::npos) << o.message;
    if (!needle2.empty()) { EXPECT_NE(o.message.find(needle2), std::string::npos) << o.message; }
}

const std::string kGood =
    R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
    R"("b":{"dtype":"BF16","shape":[2,2],"data_offsets":[8,16]}})";

}  // namespace

TEST(SafetensorsRead, ValidFileOpens) {
    temp_dir d;
    std::string data(16, '\0');
    float f[2] = {1.5f, -2.0f};
    std::memcpy(&data[0], f, 8);
    write_bytes(d / "ok.safetensors", st_bytes(kGood, data));
    auto sf = safetensors_file::open(d / "ok.safetensors");
    ASSERT_EQ(sf->tensors().size(), 2u);
    const tensor_info *a = sf->find("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->type, dtype::f32);
    EXPECT_EQ(a->nbytes, 8u);
    float g[2];
    std::memcpy(g, a->data, 8);
    EXPECT_EQ(g[0], 1.5f);
    EXPECT_EQ(g[1], -2.0f);
    EXPECT_EQ(sf->find("b")->shape, (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(sf->metadata().at("format"), "pt");
    EXPECT_EQ(sf->find("nope"), nullptr);
}

TEST(SafetensorsRead, WhitespacePaddingAndEmptyTensorsAccepted) {
    temp_dir d;
    // Leading and trailing JSON whitespace is accepted (reference reader since PR #686);
    // zero-sized tensors are allowed.
    std::string h = "  \n" + std::string(R"({"e":{"dtype":"F16","shape":[2,0],"data_offsets":[0,0]},)") +
                    R"("s":{"dtype":"U8","shape":[],"data_offsets":[0,1]}})" + "   \t";
    write_bytes(d / "ws.safetensors", st_bytes(h, std::string(1, '\x07')));
    auto sf = safetensors_file::open(d / "ws.safetensors");
    EXPECT_EQ(sf->find("e")->nbytes, 0u);
    EXPECT_EQ(sf->find("s")->numel(), 1);
}

TEST(SafetensorsRead, TruncatedFile) {
    temp_dir d;
    expect_format_error(open_bytes(d, st_bytes(kGood, std::string(15, '\0'))), "truncated");
    expect_format_error(open_bytes(d, std::string(5, '\0')), "too small");
    // header length says more than the file has
    expect_format_error(open_bytes(d, st_bytes(kGood, "", kGood.size() + 10)), "runs past the end");
}

TEST(SafetensorsRead, TrailingBytesRejected) {
    temp_dir d;
    expect_format_error(open_bytes(d, st_bytes(kGood, std::string(16, '\0') + "polyglot")), "trailing bytes");
}

TEST(SafetensorsRead, OverlappingOffsets) {
    temp_dir d;
    std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                    R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
    expect_format_error(open_bytes(d, st_bytes(h, std::string(12, '\0'))), "\"b\"", "overlap");
    // the reference's json attack: every tensor at [0,16]
    std::string h2 = "{";
    for (int i = 0; i < 10; ++i)
        h2 += (i ? "," : "") + std::string("\"t") + std::to_string(i) +
              R"(":{"dtype":"F32","shape":[4],"data_offsets":[0,16]})";
    h2 += "}";
    expect_format_error(open_bytes(d, st_bytes(h2, std::string(16, '\0'))), "overlap");
}

TEST(SafetensorsRead, GapAndReversedAndSizeMismatch) {
    temp_dir d;
    std::string gap = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
    expect_format_error(open_bytes(d, st_bytes(gap, std::string(8, '\0'))), "\"a\"", "gap");
    std::string rev = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})";
    expect_format_error(open_bytes(d, st_bytes(rev, std::string(8, '\0'))), "\"a\"", "reversed");
    std::string mism = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,4]}})";
    expect_format_error(open_bytes(d, st_bytes(mism, std::string(4, '\0'))), "\"a\"", "need 16");
}

TEST(SafetensorsRead, HugeHeaderLength) {
    temp_dir d;
    // the reference's test_header_too_large bytes
    std::string bytes = std::string("<\0\0\0\0\xff\xff\xff", 8) + "{}";
    expect_format_error(open_bytes(d, bytes), "exceeds the limit");
    expect_format_error(open_bytes(d, st_bytes("{}", "", 100000001ull)), "exceeds the limit");
}

TEST(SafetensorsRead, BadDtype) {
    temp_dir d;
    std::string h = R"({"w":{"dtype":"bf16","shape":[1],"data_offsets":[0,2]}})";
    expect_format_error(open_bytes(d, st_bytes(h, "ab")), "\"w\"", "dtype \"bf16\"");
    std::string h2 = R"({"w":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}})";
    expect_format_error(open_bytes(d, st_bytes(h2, "a")), "\"w\"", "dtype \"F4\"");
}

TEST(SafetensorsRead, InvalidJson) {
    temp_dir d;
    expect_format_error(open_bytes(d, st_bytes("{", "")), "invalid JSON");
    expect_format_error(open_bytes(d, st_bytes("[]", "")), "not a JSON object");
    expect_format_error(open_bytes(d, st_bytes("\xff", "")), "UTF-8");
    expect_format_error(open_bytes(d, st_bytes(std::string("{}\0\0", 4), "")), "trailing characters");
}

TEST(SafetensorsRead, DuplicateKeysRejected) {
    temp_dir d;
    std::string h = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                    R"("a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
    expect_format_error(open_bytes(d, st_bytes(h, "x")), "duplicate key \"a\"");
}

TEST(SafetensorsRead, OverflowingShape) {
    temp_dir d;
    std::string h = R"({"o":{"dtype":"F32","shape":[2,18446744073709551614],"data_offsets":[0,8]}})";
    expect_format_error(open_bytes(d, st_bytes(h, std::string(8, '\0'))), "\"o\"", "overflow");
    std::string h2 = R"({"o":{"dtype":"F32","shape":[2,9223372036854775807],"data_offsets":[0,8]}})";
    expect_format_error(open_bytes(d, st_bytes(h2, std::string(8, '\0'))), "\"o\"", "overflow");
    std::string h3 = R"({"o":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})";
    expect_format_error(open_bytes(d, st_bytes(h3, std::string(8, '\0'))), "\"o\"", "non-negative");
    std::string h4 = R"({"o":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})";
    expect_format_error(open_bytes(d, st_bytes(h4, std::string(4, '\0'))), "\"o\"", "non-negative");
}

TEST(SafetensorsRead, MetadataMustBeStrings) {
    temp_dir d;
    expect_format_error(open_bytes(d, st_bytes(R"({"__metadata__":{"k":0}})", "")), "__metadata__");
    expect_format_error(open_bytes(d, st_bytes(R"({"__metadata__":null})", "")), "__metadata__");
}

TEST(SafetensorsRead, UnknownFieldRejected) {
    temp_dir d;
    std::string h = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1}})";
    expect_format_error(open_bytes(d, st_bytes(h, "x")), "\"a\"", "unknown field");
}

TEST(SafetensorsRead, MissingFileIsNotFound) {
    temp_dir d;
    try {
        safetensors_file::open(d / "absent.safetensors");
        FAIL() << "opened a missing file";
    } catch (const error &e) {
        EXPECT_EQ(e.status(), MLXMTP_ERR_NOT_FOUND);
        EXPECT_NE(std::string(e.what()).find("absent.safetensors"), std::string::npos);
    }
}

// ------------------------------------------------------------ checkpoint --

TEST(Checkpoint, FixtureMatchesItsIndex) {
    auto ck = checkpoint::open(qtest::fixture("tiny-qwen35-dev"));
    EXPECT_EQ(ck->files().size(), 3u);
    // The index (written by the reference tooling) lists every tensor once.
    std::string idx = qtest::read_bytes(qtest::fixture("tiny-qwen35-dev/model.safetensors.index.json"));
    size_t listed = 0;
    for (size_t p = 0; (p = idx.find(".safetensors\"", p)) != std::string::npos; ++p) ++listed;
    EXPECT_EQ(ck->tensors().size(), listed);
    uint64_t total = 0;
    for (auto *t : ck->tensors()) total += t->nbytes;
    EXPECT_NE(idx.find("\"total_size\": " + std::to_string(total)), std::string::npos);
    const tensor_info *e = ck->find("model.language_model.embed_tokens.weight");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->shape, (std::vector<int64_t>{1024, 128}));
    EXPECT_EQ(e->type, dtype::bf16);
    // names come back sorted
    auto ts = ck->tensors();
    for (size_t i = 1; i < ts.size(); ++i) EXPECT_LT(ts[i - 1]->name, ts[i]->name);
}

namespace {
outcome open_ckpt(const std::string &dir) {
    outcome o;
    try {
        checkpoint::open(dir);
    } catch (const error &e) {
        o.status = e.status();
        o.message = e.what();
    }
    return o;
}
void make_shard(const std::string &path) {
    write_bytes(path, st_bytes(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"));
}
}  // namespace

TEST(Checkpoint, ShardNamesEscapingTheDirectoryRejected) {
    temp_dir outer;
    std::string dir = outer / "model";
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    make_shard(outer / "evil.safetensors");
    const char *bad[] = {"../evil.safetensors", "/etc/passwd", "sub/x.safetensors", "", ".."};
    for (const char *b : bad) {
        write_bytes(dir + "/model.safetensors.index.json",
                    std::string(R"({"weight_map":{"t":")") + b + R"("}})");
        outcome o = open_ckpt(dir);
        EXPECT_EQ(o.status, MLXMTP_ERR_FORMAT) << b << ": " << o.message;
        EXPECT_NE(o.message.find("not a plain file name"), std::string::npos) << o.message;
        EXPECT_NE(o.message.find("\"t\""), std::string::npos) << o.message;
    }
    // a plain name that is a symlink leading out of the directory
    ASSERT_EQ(::symlink((outer / "evil.safetensors").c_str(), (dir + "/link.safetensors").c_str()), 0);
    write_bytes(dir + "/model.safetensors.index.json", R"({"weight_map":{"t":"link.safetensors"}})");
    outcome o = open_ckpt(dir);
    EXPECT_EQ(o.status, MLXMTP_ERR_FORMAT);
    EXPECT_NE(o.message.find("outside the directory"), std::string::npos) << o.message;
}

TEST(Checkpoint, IndexAndShardsMustAgree) {
    temp_dir d;
    make_shard(d / "a.safetensors");
    write_bytes(d / "model.safetensors.index.json", R"({"weight_map":{"t":"a.safetensors","u":"a.safetensors"}})");
    outcome o = open_ckpt(d.path);
    EXPECT_EQ(o.status, MLXMTP_ERR_FORMAT);
    EXPECT_NE(o.message.find("\"u\" is listed in the index but missing"), std::string::npos) << o.message;

    write_bytes(d / "model.safetensors.index.json", R"({"weight_map":{"t":"b.safetensors"}})");
    o = open_ckpt(d.path);
    EXPECT_EQ(o.status, MLXMTP_ERR_NOT_FOUND) << o.message;

    make_shard(d / "b.safetensors");
    write_bytes(d / "model.safetensors.index.json", R"({"weight_map":{"t":"a.safetensors","t":"b.safetensors"}})");
    o = open_ckpt(d.path);
    EXPECT_NE(o.message.find("duplicate key"), std::string::npos) << o.message;

    write_bytes(d / "model.safetensors.index.json", R"({"weight_map": [1]})");
    o = open_ckpt(d.path);
    EXPECT_EQ(o.status, MLXMTP_ERR_FORMAT);
    write_bytes(d / "model.safetensors.index.json", R"({"weight_map": {"t": "a.safetensors"})");
    o = open_ckpt(d.path);
    EXPECT_EQ(o.status, MLXMTP_ERR_FORMAT);
    EXPECT_NE(o.message.find("invalid JSON"), std::string::npos) << o.message;
}

TEST(Checkpoint, SingleFileAndMissing) {
    temp_dir d;
    outcome o = open_ckpt(d.path);
    EXPECT_EQ(o.status, MLXMTP_ERR_NOT_FOUND);
    make_shard(d / "model.safetensors");
    auto ck = checkpoint::open(d.path);
    ASSERT_EQ(ck->tensors().size(), 1u);
    EXPECT_EQ(ck->find("t")->data[0], 'x');
}
