/* The public header compiles as strict C99. */
#include <mlxmtp.h>
int mlxmtp_header_c99_probe(void) { return MLXMTP_OK + MLXMTP_VERSION_MAJOR; }
