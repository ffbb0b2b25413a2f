// SCOUT_VECTOR_CLONES: function multiversioning for hot loops the compiler
// vectorises. On x86-64 the function is compiled twice, for the baseline and
// for AVX2 (twice the lanes), and the dynamic loader picks the copy the CPU
// runs best; elsewhere it is an ordinary function. The binaries stay portable
// to any x86-64 and need no -march flag.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SCOUT_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SCOUT_VECTOR_CLONES
#endif
