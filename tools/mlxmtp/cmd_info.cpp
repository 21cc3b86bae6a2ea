// mlxmtp info: the Vulkan devices, their features, and the kernel self-test.
#include "cli.h"

#include <cstdio>

namespace mlxmtp_cli {
namespace {

struct info_opts {
    bool json = false;
    bool selftest = false;
    bool validation = false;
    bool tensor_cores = false;
    bool no_tensor_cores = false;
    int device = -1;
};

json_object *features_json(uint32_t f) {
    json_object *a = json_object_new_array();
    static const struct { uint32_t bit; const char *name; } names[] = {
        {MLXMTP_FEATURE_FP16, "fp16"},           {MLXMTP_FEATURE_INT8, "int8"},
        {MLXMTP_FEATURE_STORAGE16, "storage16"}, {MLXMTP_FEATURE_STORAGE8, "storage8"},
        {MLXMTP_FEATURE_SUBGROUP_ARITH, "subgroup_arithmetic"},
        {MLXMTP_FEATURE_COOPMAT_KHR, "cooperative_matrix_khr"},
        {MLXMTP_FEATURE_COOPMAT_NV, "cooperative_matrix_nv"},
        {MLXMTP_FEATURE_BFLOAT16, "bfloat16"},   {MLXMTP_FEATURE_PUSH_DESCRIPTOR, "push_descriptor"},
        {MLXMTP_FEATURE_INT64, "int64"},
    };
    for (auto &n : names)
        if (f & n.bit) json_object_array_add(a, json_object_new_string(n.name));
    return a;
}

const char *type_name(uint32_t t) {
    switch (t) {
    case MLXMTP_DEVICE_INTEGRATED: return "integrated";
    case MLXMTP_DEVICE_DISCRETE: return "discrete";
    case MLXMTP_DEVICE_VIRTUAL: return "virtual";
    case MLXMTP_DEVICE_CPU: return "cpu";
    default: return "other";
    }
}

int run_info(const info_opts &o) {
    mlxmtp_instance_params ip;
    mlxmtp_instance_params_init(&ip);
    if (o.validation) ip.flags |= MLXMTP_INSTANCE_VALIDATION;
    if (!add_tensor_core_flags(o.tensor_cores, o.no_tensor_cores, &ip.flags)) return kExitUsage;
    mlxmtp_instance *inst = nullptr;
    mlxmtp_status st = mlxmtp_instance_create(&ip, &inst);
    if (st != MLXMTP_OK) return report_failure("creating the Vulkan instance", st, o.json);
    uint32_t n = mlxmtp_instance_device_count(inst);
    json_object *root = json_object_new_object();
    json_object_object_add(root, "version", json_object_new_string(mlxmtp_version_string()));
    json_object_object_add(root, "abi_version", json_object_new_int(static_cast<int>(mlxmtp_abi_version())));
    json_object *devs = json_object_new_array();
    bool ok = true;
    if (!o.json) std::printf("mlxmtp %s, %u Vulkan device(s)\n", mlxmtp_version_string(), n);
    for (uint32_t i = 0; i < n; ++i) {
        if (o.device >= 0 && static_cast<uint32_t>(o.device) != i) continue;
        mlxmtp_device_info d;
        mlxmtp_device_info_init(&d);
        if (mlxmtp_instance_device_info(inst, i, &d) != MLXMTP_OK) continue;
        json_object *j = json_object_new_object();
        json_object_object_add(j, "index", json_object_new_int(static_cast<int>(i)));
        json_object_object_add(j, "name", json_object_new_string(d.name));
        json_object_object_add(j, "driver", json_object_new_string(d.driver));
        json_object_object_add(j, "type", json_object_new_string(type_name(d.type)));
        json_object_object_add(j, "vendor_id", json_object_new_int64(d.vendor_id));
        json_object_object_add(j, "device_id", json_object_new_int64(d.device_id));
        json_object_object_add(j, "vulkan_api",
                               json_object_new_string((std::to_string(d.api_version >> 22) + "." +
                                                       std::to_string((d.api_version >> 12) & 0x3ff) + "." +
                                                       std::to_string(d.api_version & 0xfff)).c_str()));
        json_object_object_add(j, "device_local_bytes", json_object_new_int64(static_cast<int64_t>(d.device_local_bytes)));
        json_object_object_add(j, "max_allocation_size", json_object_new_int64(static_cast<int64_t>(d.max_allocation_size)));
        json_object_object_add(j, "max_storage_buffer_range",
                               json_object_new_int64(static_cast<int64_t>(d.max_storage_buffer_range)));
        json_object_object_add(j, "max_allocation_count", json_object_new_int64(d.max_allocation_count));
        json_object_object_add(j, "subgroup_size", json_object_new_int64(d.subgroup_size));
        json_object_object_add(j, "max_shared_memory", json_object_new_int64(d.max_shared_memory));
        json_object_object_add(j, "features", features_json(d.features));
        if (!o.json)
            std::printf("[%u] %s (%s)\n    driver %s, %.1f GiB device-local, subgroup %u, max binding %.0f MiB\n",
                        i, d.name, type_name(d.type), d.driver, d.device_local_bytes / 1073741824.0,
                        d.subgroup_size, d.max_storage_buffer_range / 1048576.0);
        if (o.selftest) {
            const char *report = "";
            mlxmtp_status s = mlxmtp_instance_selftest(inst, i, &report);
            json_object *t = json_object_new_object();
            json_object_object_add(t, "passed", json_object_new_boolean(s == MLXMTP_OK));
            json_object_object_add(t, "report", json_object_new_string(s == MLXMTP_OK ? report : mlxmtp_last_error()));
            json_object_object_add(j, "selftest", t);
            if (!o.json) std::printf("    kernel self-test: %s\n%s", s == MLXMTP_OK ? "passed" : "FAILED",
                                     s == MLXMTP_OK ? report : mlxmtp_last_error());
            ok = ok && s == MLXMTP_OK;
        }
        json_object_array_add(devs, j);
    }
    json_object_object_add(root, "devices", devs);
    if (o.json)
        print_json(root);
    else
        json_object_put(root);
    mlxmtp_instance_destroy(inst);
    if (n == 0) {
        if (!o.json) std::fprintf(stderr, "error: no Vulkan device found\n");
        return kExitFailure;
    }
    return ok ? 0 : kExitFailure;
}

[[maybe_unused]] const bool registered = register_command(
    "info", "List Vulkan devices and their features; optionally run the kernel self-test",
    [](CLI::App &sub) -> run_fn {
        auto o = std::make_shared<info_opts>();
        sub.add_flag("--json", o->json, "Machine-readable output");
        sub.add_flag("--selftest", o->selftest, "Compile and check the self-test kernels on each device");
        sub.add_flag("--validation", o->validation, "Enable the Khronos validation layer");
        sub.add_flag("--tensor-cores", o->tensor_cores,
                     "The tensor-core extension where the device has it (the default: the self-test then "
                     "checks the tensor-core MXFP4 kernel natively)");
        sub.add_flag("--no-tensor-cores", o->no_tensor_cores,
                     "Leave the tensor-core extension off (the self-test checks its emulation)");
        sub.add_option("--device", o->device, "Only this device index");
        return [o] { return run_info(*o); };
    });

}  // namespace
}  // namespace mlxmtp_cli
