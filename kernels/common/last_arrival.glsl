// Cross-workgroup completion: the workgroups that write the parts of one
// result each count their arrival on a counter after their stores; the last
// one to arrive reads every part back and finishes the result.  The includer
// declares `coherent buffer ... { uint arrivals[]; }` (zeros before the first
// dispatch; the last arrival resets its counter, so every dispatch leaves
// them zero) and makes its part stores to `coherent` buffers.
#ifndef MLXMTP_LAST_ARRIVAL_GLSL
#define MLXMTP_LAST_ARRIVAL_GLSL

shared uint arrival_last;

// Called by every invocation of the workgroup (uniform control flow) after
// its part stores: true, in every invocation, when this workgroup is the
// last of `count` to arrive on counter i; the other parts' stores are then
// visible to its loads.
bool last_to_arrive(uint i, uint count) {
    memoryBarrierBuffer();  // this invocation's part stores, before the arrival
    barrier();
    if (gl_LocalInvocationIndex == 0u) {
        arrival_last = atomicAdd(arrivals[i], 1u) == count - 1u ? 1u : 0u;
        if (arrival_last != 0u) atomicExchange(arrivals[i], 0u);  // all arrived: ready for the next dispatch
    }
    barrier();
    if (arrival_last == 0u) return false;  // uniform
    memoryBarrierBuffer();  // the other parts' stores, before this workgroup's loads
    return true;
}

#endif
