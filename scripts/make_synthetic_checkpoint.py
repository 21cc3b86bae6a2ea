#!/usr/bin/python3
# Writes a synthetic bf16 Qwen3.5-style checkpoint of about SIZE_GB gigabytes
# (sharded safetensors + index + the tiny fixture's config.json) for the
# quantizer benchmark.  Values are N(0, 0.02) bf16; blocks are reused so that
# generation is quick.  Usage: make_synthetic_checkpoint.py DIR SIZE_GB
import json, os, struct, sys
import numpy as np

out, size_gb = sys.argv[1], float(sys.argv[2])
os.makedirs(out, exist_ok=True)
root = os.path.dirname(os.path.abspath(__file__))
cfg = open(os.path.join(root, '..', 'tests', 'fixtures', 'tiny-qwen35-dev', 'config.json')).read()
open(os.path.join(out, 'config.json'), 'w').write(cfg)

rng = np.random.default_rng(0)
block = (rng.standard_normal(1 << 24, dtype=np.float32) * 0.02).view(np.uint32)
block = ((block + 0x7FFF + ((block >> 16) & 1)) >> 16).astype(np.uint16)  # bf16, RNE

H, F = 4096, 12288
per_layer = [('mlp.gate_proj.weight', (F, H)), ('mlp.up_proj.weight', (F, H)), ('mlp.down_proj.weight', (H, F)),
             ('self_attn.q_proj.weight', (2 * H, H)), ('self_attn.o_proj.weight', (H, H)),
             ('input_layernorm.weight', (H,))]
tensors, total, layer = [], 0, 0
while total < size_gb * 1e9:
    for n, shp in per_layer:
        name = 'model.language_model.layers.%d.%s' % (layer, n)
        tensors.append((name, shp))
        total += int(np.prod(shp)) * 2
    layer += 1

shard_limit = 1 << 30
shards, cur, cur_size = [], [], 0
for t in tensors:
    nb = int(np.prod(t[1])) * 2
    if cur and cur_size + nb > shard_limit:
        shards.append(cur); cur, cur_size = [], 0
    cur.append(t); cur_size += nb
shards.append(cur)
weight_map = {}
for i, sh in enumerate(shards):
    fname = 'model-%05d-of-%05d.safetensors' % (i + 1, len(shards))
    header, off = {'__metadata__': {'format': 'pt'}}, 0
    for name, shp in sh:
        nb = int(np.prod(shp)) * 2
        header[name] = {'dtype': 'BF16', 'shape': list(shp), 'data_offsets': [off, off + nb]}
        off += nb
        weight_map[name] = fname
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - (8 + len(h)) % 8) % 8)
    with open(os.path.join(out, fname), 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h)
        for k, (name, shp) in enumerate(sh):
            n = int(np.prod(shp))
            start = (k * 7919) % (len(block) // 2)
            while n > 0:
                m = min(n, len(block) - start)
                f.write(block[start:start + m].tobytes())
                n -= m
                start = 0
json.dump({'metadata': {'total_size': total}, 'weight_map': dict(sorted(weight_map.items()))},
          open(os.path.join(out, 'model.safetensors.index.json'), 'w'), indent=4)
print('%s: %d tensors, %.2f GB in %d shards' % (out, len(tensors), total / 1e9, len(shards)))
