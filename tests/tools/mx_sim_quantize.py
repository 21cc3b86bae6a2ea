#!/usr/bin/python3
# Runs the MX reference emulator (tests/fixtures/mx/mx_format_sim.py, written
# from the MLX source by someone else) over groups of 32 float32 values.
#   mx_sim_quantize.py SIM_DIR IN OUT BITS RULE
# IN: little-endian float32, a multiple of 32 values.  RULE: "metal" or "roundup".
# OUT: for each group, 1 scale byte followed by the packed words (16 bytes for
# bits 4, 32 for bits 8) as little-endian uint32.
import contextlib, io, struct, sys

sim_dir, src, dst, bits, rule = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
sys.path.insert(0, sim_dir)
with contextlib.redirect_stdout(io.StringIO()):  # the module prints its examples on import
    import mx_format_sim as sim

data = open(src, 'rb').read()
n = len(data) // 4
vals = struct.unpack('<%df' % n, data)
out = bytearray()
for g in range(0, n, 32):
    w = list(vals[g:g + 32])
    sb, codes, _, _ = sim.quantize_metal(w, bits, roundup=(rule == 'roundup'))
    out.append(sb)
    out += struct.pack('<%dI' % (32 * bits // 32), *sim.pack(codes, bits))
open(dst, 'wb').write(bytes(out))
