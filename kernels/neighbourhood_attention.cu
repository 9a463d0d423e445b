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
#include <cuda_fp16.h>

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
