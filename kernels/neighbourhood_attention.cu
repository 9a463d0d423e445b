// Fused 2-D neighbourhood attention (NATTEN na2d, dilation 1) for MVAR's spatial-Markov scales.
//
// Layout (shared with mvar-core's NeighbourhoodKernel): q, k, v, o, dq, dk, dv are contiguous
// [BH, N, D] with BH = batch * heads, N = p * p tokens in row-major map order, D the head dim.
// lse and delta are fp32 [BH, N].
//
// Window rule: query row i attends key rows clamp(i - k/2, 0, p - ke) .. + ke - 1 with
// ke = min(k, p) (same for columns), so every query sees exactly ke * ke keys; a map smaller
// than the kernel attends to every key.
//
// Work split: one warp per query (forward, dq) or per key (dk, dv). Lane l owns the E = D / 32
// consecutive head-dim elements [l*E, l*E + E): a warp reads one whole row with a single
// coalesced access, and dot products finish with a 5-step shuffle reduction. Every sum,
// including the softmax, is accumulated in fp32; fp16 is only the storage type.
//
// Entry points are extern "C" so that the JCuda loader finds them by name:
//   na_fwd_<t>_d<D>(q, k, v, o, lse, bh, p, ks, scale)              lse may be null
//   na_bwd_dq_<t>_d<D>(q, k, v, o, dout, lse, dq, delta, bh, p, ks, scale)
//   na_bwd_dkdv_<t>_d<D>(q, k, v, dout, lse, delta, dk, dv, bh, p, ks, scale)
// with <t> in {f32, f16} and D in {32, 64, 128}. dkdv reads the delta written by dq, so it
// must be launched after dq on the same stream.
//
// The fp16 forward has a second, faster kernel on tensor cores (see "Tiled tensor-core forward"
// below): na_fwd_tc_f16_d<D>(q, k, v, o, lse, p, ks, scale, tr, tc, kcap), for ke <= 13.
// The warp-per-query kernels stay for fp32, for the backward passes and for wider windows.
#include <cuda_fp16.h>

// Dynamic shared memory of the tensor-core forward. At file scope, not in the anonymous namespace
// below: nvcc names anonymous-namespace symbols after a hash of the source path, which would make
// the PTX depend on the folder it was built in (and kernels/build.sh --check fail elsewhere).
extern __shared__ __align__(128) unsigned char na_tc_shared[];

namespace {

constexpr float LOG2E = 1.4426950408889634f;
constexpr float LN2 = 0.6931471805599453f;

__device__ __forceinline__ int window_start(int i, int p, int ks) {
    int ke = min(ks, p);
    return min(max(i - ks / 2, 0), p - ke);
}

// Queries whose window contains key row j form the contiguous range [lo, hi]: window_start is
// non-decreasing in i. Closed form of that range (checked against brute force in Java).
__device__ __forceinline__ void inverse_range(int j, int p, int ks, int& lo, int& hi) {
    int ke = min(ks, p);
    int h = ks / 2;
    hi = j >= p - ke ? p - 1 : min(p - 1, j + h);
    lo = j - ke + 1 <= 0 ? 0 : j - ke + 1 + h;
}

// E consecutive elements to/from fp32 registers, as one vector access where the type allows.
template <typename T, int E> struct Row;

template <> struct Row<float, 1> {
    __device__ static void load(const float* p, float* x) { x[0] = __ldg(p); }
    __device__ static void store(float* p, const float* x) { p[0] = x[0]; }
};
template <> struct Row<float, 2> {
    __device__ static void load(const float* p, float* x) {
        float2 t = __ldg(reinterpret_cast<const float2*>(p));
        x[0] = t.x; x[1] = t.y;
    }
    __device__ static void store(float* p, const float* x) {
        *reinterpret_cast<float2*>(p) = make_float2(x[0], x[1]);
    }
};
template <> struct Row<float, 4> {
    __device__ static void load(const float* p, float* x) {
        float4 t = __ldg(reinterpret_cast<const float4*>(p));
        x[0] = t.x; x[1] = t.y; x[2] = t.z; x[3] = t.w;
    }
    __device__ static void store(float* p, const float* x) {
        *reinterpret_cast<float4*>(p) = make_float4(x[0], x[1], x[2], x[3]);
    }
};
template <> struct Row<__half, 1> {
    __device__ static void load(const __half* p, float* x) { x[0] = __half2float(__ldg(p)); }
    __device__ static void store(__half* p, const float* x) { p[0] = __float2half_rn(x[0]); }
};
template <> struct Row<__half, 2> {
    __device__ static void load(const __half* p, float* x) {
        float2 t = __half22float2(__ldg(reinterpret_cast<const __half2*>(p)));
        x[0] = t.x; x[1] = t.y;
    }
    __device__ static void store(__half* p, const float* x) {
        *reinterpret_cast<__half2*>(p) = __floats2half2_rn(x[0], x[1]);
    }
};
template <> struct Row<__half, 4> {
    __device__ static void load(const __half* p, float* x) {
        uint2 raw = __ldg(reinterpret_cast<const uint2*>(p));
        float2 a = __half22float2(*reinterpret_cast<__half2*>(&raw.x));
        float2 b = __half22float2(*reinterpret_cast<__half2*>(&raw.y));
        x[0] = a.x; x[1] = a.y; x[2] = b.x; x[3] = b.y;
    }
    __device__ static void store(__half* p, const float* x) {
        __half2 a = __floats2half2_rn(x[0], x[1]);
        __half2 b = __floats2half2_rn(x[2], x[3]);
        uint2 raw;
        raw.x = *reinterpret_cast<unsigned int*>(&a);
        raw.y = *reinterpret_cast<unsigned int*>(&b);
        *reinterpret_cast<uint2*>(p) = raw;
    }
};

__device__ __forceinline__ float warp_sum(float s) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
        s += __shfl_xor_sync(0xffffffffu, s, off);
    }
    return s;
}

template <int E>
__device__ __forceinline__ float dot(const float* a, const float* b) {
    float s = 0.f;
#pragma unroll
    for (int e = 0; e < E; ++e) s = fmaf(a[e], b[e], s);
    return warp_sum(s);
}

// The warp's item (query or key) over all BH * N, or -1 for the tail warps of the last block.
// Whole warps exit together, so the full-mask shuffles above stay valid.
__device__ __forceinline__ long long warp_item(long long items) {
    long long w = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    return w < items ? w : -1;
}

template <typename T, int D>
__device__ void fwd(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                    T* __restrict__ o, float* __restrict__ lse, int bh, int p, int ks, float scale) {
    constexpr int E = D / 32;
    const int n = p * p;
    const long long item = warp_item((long long)bh * n);
    if (item < 0) return;
    const int lane = threadIdx.x & 31;
    const long long base = (item / n) * n * D;   // start of this (batch, head) slice
    const int t = (int)(item % n);
    const int ke = min(ks, p);
    const int r0 = window_start(t / p, p, ks);
    const int c0 = window_start(t % p, p, ks);

    float qv[E], kv[E], vv[E], acc[E];
    Row<T, E>::load(q + base + (long long)t * D + lane * E, qv);
    // Scores in log2 units: exp2 of (scale * log2 e * q.k) is the softmax numerator.
#pragma unroll
    for (int e = 0; e < E; ++e) { qv[e] *= scale * LOG2E; acc[e] = 0.f; }
    float m = -INFINITY, l = 0.f;
    for (int r = r0; r < r0 + ke; ++r) {
        for (int c = c0; c < c0 + ke; ++c) {
            const long long off = base + (long long)(r * p + c) * D + lane * E;
            Row<T, E>::load(k + off, kv);
            Row<T, E>::load(v + off, vv);
            const float s = dot<E>(qv, kv);
            // Online softmax: rescale what was summed so far when the running maximum grows.
            const float mn = fmaxf(m, s);
            const float corr = exp2f(m - mn);
            const float w = exp2f(s - mn);
            l = l * corr + w;
#pragma unroll
            for (int e = 0; e < E; ++e) acc[e] = fmaf(acc[e], corr, w * vv[e]);
            m = mn;
        }
    }
    const float inv = 1.f / l;
#pragma unroll
    for (int e = 0; e < E; ++e) acc[e] *= inv;
    Row<T, E>::store(o + base + (long long)t * D + lane * E, acc);
    if (lse != nullptr && lane == 0) lse[item] = (m + log2f(l)) * LN2;
}

template <typename T, int D>
__device__ void bwd_dq(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                       const T* __restrict__ o, const T* __restrict__ dout,
                       const float* __restrict__ lse, T* __restrict__ dq, float* __restrict__ delta,
                       int bh, int p, int ks, float scale) {
    constexpr int E = D / 32;
    const int n = p * p;
    const long long item = warp_item((long long)bh * n);
    if (item < 0) return;
    const int lane = threadIdx.x & 31;
    const long long base = (item / n) * n * D;
    const int t = (int)(item % n);
    const int ke = min(ks, p);
    const int r0 = window_start(t / p, p, ks);
    const int c0 = window_start(t % p, p, ks);

    float qv[E], gv[E], kv[E], vv[E], acc[E];
    const long long me = base + (long long)t * D + lane * E;
    Row<T, E>::load(dout + me, gv);
    Row<T, E>::load(o + me, acc);
    // delta_i = sum_j P_ij dP_ij = dO_i . O_i; the dk/dv kernel needs it for every query.
    const float di = dot<E>(gv, acc);
    if (lane == 0) delta[item] = di;
    Row<T, E>::load(q + me, qv);
#pragma unroll
    for (int e = 0; e < E; ++e) { qv[e] *= scale * LOG2E; acc[e] = 0.f; }
    const float l2 = lse[item] * LOG2E;
    for (int r = r0; r < r0 + ke; ++r) {
        for (int c = c0; c < c0 + ke; ++c) {
            const long long off = base + (long long)(r * p + c) * D + lane * E;
            Row<T, E>::load(k + off, kv);
            Row<T, E>::load(v + off, vv);
            const float pij = exp2f(dot<E>(qv, kv) - l2);
            const float ds = pij * (dot<E>(gv, vv) - di);
#pragma unroll
            for (int e = 0; e < E; ++e) acc[e] = fmaf(ds, kv[e], acc[e]);
        }
    }
#pragma unroll
    for (int e = 0; e < E; ++e) acc[e] *= scale;
    Row<T, E>::store(dq + me, acc);
}

template <typename T, int D>
__device__ void bwd_dkdv(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                         const T* __restrict__ dout, const float* __restrict__ lse,
                         const float* __restrict__ delta, T* __restrict__ dk, T* __restrict__ dv,
                         int bh, int p, int ks, float scale) {
    constexpr int E = D / 32;
    const int n = p * p;
    const long long item = warp_item((long long)bh * n);
    if (item < 0) return;
    const int lane = threadIdx.x & 31;
    const long long slice = item / n;
    const long long base = slice * n * D;
    const int t = (int)(item % n);
    int rlo, rhi, clo, chi;
    inverse_range(t / p, p, ks, rlo, rhi);
    inverse_range(t % p, p, ks, clo, chi);

    float kv[E], vv[E], qv[E], gv[E], dka[E], dva[E];
    const long long me = base + (long long)t * D + lane * E;
    Row<T, E>::load(k + me, kv);
    Row<T, E>::load(v + me, vv);
#pragma unroll
    for (int e = 0; e < E; ++e) { kv[e] *= scale * LOG2E; dka[e] = 0.f; dva[e] = 0.f; }
    for (int r = rlo; r <= rhi; ++r) {
        for (int c = clo; c <= chi; ++c) {
            const int qi = r * p + c;
            const long long off = base + (long long)qi * D + lane * E;
            const long long stat = slice * n + qi;
            Row<T, E>::load(q + off, qv);
            Row<T, E>::load(dout + off, gv);
            const float pij = exp2f(dot<E>(qv, kv) - lse[stat] * LOG2E);
            const float ds = pij * (dot<E>(gv, vv) - delta[stat]);
#pragma unroll
            for (int e = 0; e < E; ++e) {
                dva[e] = fmaf(pij, gv[e], dva[e]);
                dka[e] = fmaf(ds, qv[e], dka[e]);
            }
        }
    }
#pragma unroll
    for (int e = 0; e < E; ++e) dka[e] *= scale;
    Row<T, E>::store(dk + me, dka);
    Row<T, E>::store(dv + me, dva);
}


// ---------------------------------------------------------------------------------------------
// Tiled tensor-core forward (fp16 storage, fp32 accumulation), FlashAttention-style.
//
// One block per (slice, tile of tr x tc queries). The keys any query of the tile can see form a
// rectangle: rows window_start(first row) .. window_start(last row) + ke - 1 (window_start is
// non-decreasing and grows by at most one per row), at most tr + ke - 1 rows, same for columns.
// The block copies that rectangle of K and of V (krn x kcn keys, row-major, zero rows up to a
// multiple of 16) to shared memory once, with cp.async; nothing else is shared.
//
// Warp w owns the tile's queries [16w, 16w + 16) (query m is (m / qcn, m % qcn) of the tile; rows
// past the tile repeat its last query and are never stored) and works alone after the one block
// barrier: its queries' windows all lie in rectangle rows window_start(its first map row) ..
// window_start(its last map row) + ke - 1, a contiguous range of rectangle keys, which it walks in
// chunks of 16 keys. Per chunk, with mma.sync m16n8k16 (fp16 in, fp32 accumulate):
//   S = Q K^T (16 x 16, in registers: lane holds rows g = lane / 4 and g + 8, keys 2 (lane % 4) + {0, 1}
//   of each 8-key half), keys outside a query's own window set to -inf (the exact window rule:
//   key row and column within ke of the window start, computed per key), an online softmax per
//   row in fp32 (a row's 16 scores live in the 4 lanes of a quad: two shuffles), and O += P V
//   with P rounded to fp16 straight from the S registers (the accumulator layout of two m16n8
//   tiles is the A-operand layout of one m16n8k16) and V read transposed by ldmatrix.
// O (fp32 registers) is normalised at the end, staged through the warp's own Q rows in shared
// memory and written as 16-byte stores; lse from the row's maximum and sum.
//
// Shared memory (dynamic, bytes), kcap >= the padded key count of every tile and M = 16 * warps
// (both chosen by NaTile on the host, which sizes the launch by the same formula):
//   K, V   kcap x (D + 8) fp16 each     16-byte row padding: ldmatrix rows hit distinct banks
//   Q      M    x (D + 8) fp16          warp w's 16 rows, later its output tile
// ---------------------------------------------------------------------------------------------

constexpr int TC_PAD_H = 8;  // fp16 row padding

// 16-byte asynchronous global-to-shared copy (sm_80+): no register staging, many in flight.
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {
    const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem) : "memory");
}

__device__ __forceinline__ void cp_async_wait_all() {
    asm volatile("cp.async.wait_all;\n" ::: "memory");
}

// Four 8x8 fp16 matrices from shared memory; lane l gives the address of row l % 8 of matrix
// l / 8. Plain: lane t receives (row t / 4, columns 2 (t % 4) + {0, 1}) of each; .trans: the
// transposed element pair, (rows 2 (t % 4) + {0, 1}, column t / 4).
__device__ __forceinline__ void ldsm_x4(unsigned (&r)[4], const __half* p) {
    const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
}

__device__ __forceinline__ void ldsm_x4_trans(unsigned (&r)[4], const __half* p) {
    const unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
}

// c += a b for a 16x16 fp16 A (row-major fragment), a 16x8 fp16 B (column-major), fp32 C.
__device__ __forceinline__ void mma16816(float (&c)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
                 "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ unsigned pack_half2(float lo, float hi) {
    __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<unsigned*>(&h);
}

// Starts copying a rows x cols rectangle of map tokens, top-left token `first`, into consecutive
// shared rows (rectangle row-major). Each map row of the rectangle is one contiguous span.
template <int D>
__device__ __forceinline__ void load_rect(__half* dst, const __half* src, int first, int rows, int cols,
                                          int p) {
    constexpr int CH = D / 8;  // 16-byte chunks per token
    constexpr int LD = D + TC_PAD_H;
    for (int r = 0; r < rows; ++r) {
        const __half* span = src + (long long)(first + r * p) * D;
        __half* out = dst + r * cols * LD;
        for (int i = threadIdx.x; i < cols * CH; i += blockDim.x) {
            cp_async16(out + (i / CH) * LD + (i % CH) * 8, span + i * 8);
        }
    }
}

// Zero fp16 rows [from, to) of a shared (D + 8)-strided buffer.
template <int D>
__device__ __forceinline__ void zero_rows(__half* dst, int from, int to) {
    constexpr int CH = D / 8;
    constexpr int LD = D + TC_PAD_H;
    for (int i = from * CH + threadIdx.x; i < to * CH; i += blockDim.x) {
        *reinterpret_cast<uint4*>(dst + (i / CH) * LD + (i % CH) * 8) = make_uint4(0, 0, 0, 0);
    }
}

template <int D>
__device__ void fwd_tc(const __half* __restrict__ q, const __half* __restrict__ k,
                       const __half* __restrict__ v, __half* __restrict__ o, float* __restrict__ lse,
                       int p, int ks, float scale, int tr, int tc, int kcap) {
    constexpr int LD = D + TC_PAD_H;
    constexpr int CH = D / 8;   // 16-byte chunks per row
    constexpr int KD = D / 16;  // k-steps of Q K^T, and 16-column pairs of O
    unsigned char* smem = na_tc_shared;
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    __half* sk = reinterpret_cast<__half*>(smem);
    __half* sv = sk + kcap * LD;
    __half* sq = sv + kcap * LD + warp * 16 * LD;  // this warp's 16 rows

    // This block's slice and query tile (tiles row-major over the map, slices outermost).
    const int n = p * p;
    const int tiles_c = (p + tc - 1) / tc;
    const int per_slice = (p + tr - 1) / tr * tiles_c;
    const long long slice = blockIdx.x / per_slice;
    const int tile = blockIdx.x % per_slice;
    const int qr0 = tile / tiles_c * tr;
    const int qc0 = tile % tiles_c * tc;
    const int qcn = min(tc, p - qc0);
    const int nq = min(tr, p - qr0) * qcn;
    // The key rectangle that holds every window of the tile.
    const int ke = min(ks, p);
    const int kr0 = window_start(qr0, p, ks);
    const int kc0 = window_start(qc0, p, ks);
    const int krn = window_start(qr0 + nq / qcn - 1, p, ks) + ke - kr0;
    const int kcn = window_start(qc0 + qcn - 1, p, ks) + ke - kc0;
    const int nk = krn * kcn;
    const long long base = slice * n * D;

    load_rect<D>(sk, k + base, kr0 * p + kc0, krn, kcn, p);
    load_rect<D>(sv, v + base, kr0 * p + kc0, krn, kcn, p);
    // Padding keys are masked out of every window, but their V rows must be finite (0 * NaN).
    zero_rows<D>(sk, nk, (nk + 15) & ~15);
    zero_rows<D>(sv, nk, (nk + 15) & ~15);
    const int m0 = warp * 16;
    if (m0 >= nq) {  // edge tiles: a warp with no query only helps with the loads
        cp_async_wait_all();
        __syncthreads();
        return;
    }
    const int mlast = min(m0 + 15, nq - 1);
    // Map token of the tile's query m.
    auto token = [&](int m) { return (qr0 + m / qcn) * p + qc0 + m % qcn; };
    for (int i = lane; i < 16 * CH; i += 32) {
        cp_async16(sq + (i / CH) * LD + (i % CH) * 8, q + base + (long long)token(min(m0 + i / CH, mlast)) * D + (i % CH) * 8);
    }
    cp_async_wait_all();
    __syncthreads();  // the only block barrier: K and V are complete

    const int g = lane >> 2;  // fragment row (and row + 8)
    const int c2 = 2 * (lane & 3);  // fragment column pair
    unsigned qa[KD][4];
#pragma unroll
    for (int kk = 0; kk < KD; ++kk) ldsm_x4(qa[kk], sq + (lane & 15) * LD + kk * 16 + (lane >> 4) * 8);

    // Window of the lane's two query rows, as rectangle row and column of its first key.
    int wr[2], wc[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int m = min(m0 + g + 8 * h, mlast);
        wr[h] = window_start(qr0 + m / qcn, p, ks) - kr0;
        wc[h] = window_start(qc0 + m % qcn, p, ks) - kc0;
    }
    // The rectangle keys of the warp's windows, whole chunks of 16.
    const int jend = (window_start(qr0 + mlast / qcn, p, ks) - kr0 + ke) * kcn;
    const int jbeg = (window_start(qr0 + m0 / qcn, p, ks) - kr0) * kcn & ~15;
    // Rectangle row of key j as floor((j + 0.5) / kcn) in fp32: exact, since j + 0.5 is at least
    // 0.5 from a multiple of kcn and j < 2^12 (NaGeometryTest checks the rounding).
    const float rkcn = 1.f / kcn;
    const float l2scale = scale * LOG2E;

    float acc[2 * KD][4];
#pragma unroll
    for (int t = 0; t < 2 * KD; ++t) acc[t][0] = acc[t][1] = acc[t][2] = acc[t][3] = 0.f;
    float mx[2] = {-INFINITY, -INFINITY};  // running maximum of each row, log2 units
    float sum[2] = {0.f, 0.f};             // the lane's part of each row's sum

    for (int j0 = jbeg; j0 < jend; j0 += 16) {
        float s[2][4] = {};
#pragma unroll
        for (int kk = 0; kk < KD; ++kk) {
            unsigned b[4];  // keys j0 + 0..7 and 8..15, head dims 16 kk + 0..7 and 8..15
            ldsm_x4(b, sk + (j0 + (lane >> 4) * 8 + (lane & 7)) * LD + kk * 16 + ((lane >> 3) & 1) * 8);
            mma16816(s[0], qa[kk], b[0], b[1]);
            mma16816(s[1], qa[kk], b[2], b[3]);
        }
        // Scale to log2 units and mask: s[t][2h + e] is row g + 8h, key j0 + 8t + c2 + e.
        float cmax[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int t = 0; t < 2; ++t) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int j = j0 + 8 * t + c2 + e;
                const int kr = __float2int_rz((j + 0.5f) * rkcn);
                const int kc = j - kr * kcn;
#pragma unroll
                for (int h = 0; h < 2; ++h) {
                    const bool in = (unsigned)(kr - wr[h]) < (unsigned)ke && (unsigned)(kc - wc[h]) < (unsigned)ke;
                    s[t][2 * h + e] = in ? s[t][2 * h + e] * l2scale : -INFINITY;
                    cmax[h] = fmaxf(cmax[h], s[t][2 * h + e]);
                }
            }
        }
        unsigned pa[4];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            cmax[h] = fmaxf(cmax[h], __shfl_xor_sync(0xffffffffu, cmax[h], 1));
            cmax[h] = fmaxf(cmax[h], __shfl_xor_sync(0xffffffffu, cmax[h], 2));
            const float mnew = fmaxf(mx[h], cmax[h]);
            // -inf while no key of the row's window has been seen: subtract 0 then (all weights 0).
            const float mref = mnew == -INFINITY ? 0.f : mnew;
            const float corr = exp2f(mx[h] - mref);
            mx[h] = mnew;
            float part = 0.f;
#pragma unroll
            for (int t = 0; t < 2; ++t) {
                s[t][2 * h] = exp2f(s[t][2 * h] - mref);
                s[t][2 * h + 1] = exp2f(s[t][2 * h + 1] - mref);
                part += s[t][2 * h] + s[t][2 * h + 1];
            }
            sum[h] = sum[h] * corr + part;
#pragma unroll
            for (int t = 0; t < 2 * KD; ++t) {
                acc[t][2 * h] *= corr;
                acc[t][2 * h + 1] *= corr;
            }
        }
        // The A operand (rows g, g + 8; keys c2 + {0, 1}, then 8 + c2 + {0, 1}) is S's layout.
        pa[0] = pack_half2(s[0][0], s[0][1]);
        pa[1] = pack_half2(s[0][2], s[0][3]);
        pa[2] = pack_half2(s[1][0], s[1][1]);
        pa[3] = pack_half2(s[1][2], s[1][3]);
#pragma unroll
        for (int dj = 0; dj < KD; ++dj) {
            unsigned b[4];  // keys j0 + 0..7 and 8..15 of head dims 16 dj + 0..7, then 8..15
            ldsm_x4_trans(b, sv + (j0 + (lane & 15)) * LD + dj * 16 + (lane >> 4) * 8);
            mma16816(acc[2 * dj], pa, b[0], b[1]);
            mma16816(acc[2 * dj + 1], pa, b[2], b[3]);
        }
    }

    __syncwarp();  // every lane has its Q fragments: the warp's Q rows take the output
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        float l = sum[h];
        l += __shfl_xor_sync(0xffffffffu, l, 1);
        l += __shfl_xor_sync(0xffffffffu, l, 2);  // > 0: the window holds the query's own key
        const float inv = 1.f / l;
        const int r = g + 8 * h;
#pragma unroll
        for (int t = 0; t < 2 * KD; ++t) {
            *reinterpret_cast<unsigned*>(sq + r * LD + 8 * t + c2) = pack_half2(acc[t][2 * h] * inv, acc[t][2 * h + 1] * inv);
        }
        if (lse != nullptr && (lane & 3) == 0 && m0 + r < nq) {
            lse[slice * n + token(m0 + r)] = (mx[h] + log2f(l)) * LN2;
        }
    }
    __syncwarp();
    for (int i = lane; i < (mlast - m0 + 1) * CH; i += 32) {
        *reinterpret_cast<uint4*>(o + base + (long long)token(m0 + i / CH) * D + (i % CH) * 8) =
            *reinterpret_cast<const uint4*>(sq + (i / CH) * LD + (i % CH) * 8);
    }
}

}  // namespace

#define NA_ENTRY_POINTS(TNAME, T, D)                                                              \
    extern "C" __global__ void na_fwd_##TNAME##_d##D(const T* q, const T* k, const T* v, T* o,   \
                                                     float* lse, int bh, int p, int ks,          \
                                                     float scale) {                              \
        fwd<T, D>(q, k, v, o, lse, bh, p, ks, scale);                                            \
    }                                                                                            \
    extern "C" __global__ void na_bwd_dq_##TNAME##_d##D(                                         \
        const T* q, const T* k, const T* v, const T* o, const T* dout, const float* lse, T* dq,  \
        float* delta, int bh, int p, int ks, float scale) {                                      \
        bwd_dq<T, D>(q, k, v, o, dout, lse, dq, delta, bh, p, ks, scale);                        \
    }                                                                                            \
    extern "C" __global__ void na_bwd_dkdv_##TNAME##_d##D(                                       \
        const T* q, const T* k, const T* v, const T* dout, const float* lse, const float* delta, \
        T* dk, T* dv, int bh, int p, int ks, float scale) {                                      \
        bwd_dkdv<T, D>(q, k, v, dout, lse, delta, dk, dv, bh, p, ks, scale);                     \
    }

NA_ENTRY_POINTS(f32, float, 32)
NA_ENTRY_POINTS(f32, float, 64)
NA_ENTRY_POINTS(f32, float, 128)
NA_ENTRY_POINTS(f16, __half, 32)
NA_ENTRY_POINTS(f16, __half, 64)
NA_ENTRY_POINTS(f16, __half, 128)

// Block: 32 * ceil(tr * tc / 16) threads (at most 256); grid: bh * tiles per slice; dynamic
// shared memory as laid out above fwd_tc. The launch bound caps the registers (ptxas 13.0: 80 for
// D = 32 and 64, 128 for D = 128, no spills), so that 24 warps (16 for D = 128) fit an SM.
#define NA_TC_ENTRY_POINT(D, MIN_BLOCKS)                                                          \
    extern "C" __global__ void __launch_bounds__(256, MIN_BLOCKS)                                 \
        na_fwd_tc_f16_d##D(const __half* q, const __half* k, const __half* v, __half* o,          \
                           float* lse, int p, int ks, float scale, int tr, int tc, int kcap) {    \
        fwd_tc<D>(q, k, v, o, lse, p, ks, scale, tr, tc, kcap);                                   \
    }

NA_TC_ENTRY_POINT(32, 3)
NA_TC_ENTRY_POINT(64, 3)
NA_TC_ENTRY_POINT(128, 2)
