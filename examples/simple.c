/* simple.c: list the Vulkan devices mlxmtp sees and run its kernel self-test.
 * Build against an installed library:
 *   cc simple.c $(pkg-config --cflags --libs mlxmtp) -o simple */
#include <mlxmtp.h>
#include <stdio.h>

int main(void) {
    if (mlxmtp_version_number() != MLXMTP_VERSION_NUMBER) {
        fprintf(stderr, "header %s does not match library %s\n", MLXMTP_VERSION_STRING, mlxmtp_version_string());
        return 1;
    }
    mlxmtp_instance *inst = NULL;
    mlxmtp_status st = mlxmtp_instance_create(NULL, &inst);
    if (st != MLXMTP_OK) {
        fprintf(stderr, "mlxmtp: %s: %s\n", mlxmtp_status_string(st), mlxmtp_last_error());
        return 1;
    }
    uint32_t n = mlxmtp_instance_device_count(inst);
    printf("mlxmtp %s: %u device(s)\n", mlxmtp_version_string(), n);
    for (uint32_t i = 0; i < n; ++i) {
        mlxmtp_device_info info;
        mlxmtp_device_info_init(&info);
        if (mlxmtp_instance_device_info(inst, i, &info) == MLXMTP_OK)
            printf("  [%u] %s, subgroup %u\n", i, info.name, info.subgroup_size);
    }
    int rc = 0;
    if (n > 0) {
        const char *report = NULL;
        st = mlxmtp_instance_selftest(inst, 0, &report);
        printf("self-test: %s\n", st == MLXMTP_OK ? "passed" : mlxmtp_instance_last_error(inst));
        rc = st == MLXMTP_OK ? 0 : 1;
    }
    mlxmtp_instance_destroy(inst);
    return rc;
}
