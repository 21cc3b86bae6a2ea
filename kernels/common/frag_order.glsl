// The order of a frag copy's pieces (one per 16-row tile and 64-column
// group, 32 lanes' words each): tile first, [tile][group], or with KMAJOR=1
// (the host's copies by default: frag_copy::kmajor; kernel_tuning::
// frag_tile_major keeps tile first) group first, [group][tile], so that the
// workgroups at the same step of their tiles read adjacent pieces.  The
// repack kernels write and matvec_frag.comp reads through these; the order
// does not change any value.
#ifndef MLXMTP_FRAG_ORDER_GLSL
#define MLXMTP_FRAG_ORDER_GLSL
#ifndef KMAJOR
#define KMAJOR 0
#endif

// The index of the piece of tile `tile` and 64-column group g.
uint frag_piece(uint tile, uint g, uint tiles, uint groups) {
    return KMAJOR != 0 ? g * tiles + tile : tile * groups + g;
}

// (tile, group) of piece i.
uvec2 frag_piece_at(uint i, uint tiles, uint groups) {
    return KMAJOR != 0 ? uvec2(i % tiles, i / tiles) : uvec2(i / groups, i % groups);
}
#endif
