/* Including the header twice is harmless. */
#include <mlxmtp.h>
#include <mlxmtp.h>
int mlxmtp_header_twice_probe(void) { return MLXMTP_ABI_VERSION; }
