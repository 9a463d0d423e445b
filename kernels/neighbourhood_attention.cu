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
#include <mma.h>

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

__device__ __forceinline__ float warp_max(float s) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
        s = fmaxf(s, __shfl_xor_sync(0xffffffffu, s, off));
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
// Tiled tensor-core forward (fp16 storage, fp32 accumulation).
//
// One block per (slice, tile of tr x tc queries). The keys any query of the tile can see form a
// rectangle: rows window_start(first row) .. window_start(last row) + ke - 1 (window_start is
// non-decreasing and grows by at most one per row), at most tr + ke - 1 rows, same for columns.
// The block stages that rectangle of K (then V), and the tile's queries, in shared memory and
// computes S = Q K^T for every (query, rectangle key) pair with wmma 16x16x16 fragments; each
// query then keeps only the ke x ke scores of its own window (the others never enter the
// softmax and get weight 0), and O = P V runs on tensor cores again.
//
// Warps: warp w owns query rows [16w, 16w + 16) of the tile (row m is query
// (m / qcn, m % qcn) of the tile, rows >= tr * tc are zero padding), so S, the softmax and O of
// a row never leave the warp: the only block barriers are around the K and V loads.
//
// Shared memory (dynamic, bytes), with M = 16 * warps queries and kcap >= the padded key count
// of every tile (both chosen by NaGeometry/NaTile on the host, which sizes the launch by the same
// formula):
//   Q      M    x (D + 8) fp16      16-byte row padding staggers the banks for wmma loads
//   K, V   kcap x (D + 8) fp16      K, then V once every warp has finished S (zero rows pad the
//                                   keys up to a multiple of 16: weight 0 times 0, never NaN)
//   S      M    x (kcap + 4) fp32   scores; each row is overwritten in place by its fp16 P row,
//                                   then its first 16 x 16 floats stage the warp's output tiles
// ---------------------------------------------------------------------------------------------

constexpr int TC_MAX_WINDOW = 13;                                           // largest ke
constexpr int TC_WINDOW_SLOTS = (TC_MAX_WINDOW * TC_MAX_WINDOW + 31) / 32;  // window keys per lane
constexpr int TC_PAD_H = 8;                                                 // fp16 row padding
constexpr int TC_PAD_F = 4;                                                 // fp32 row padding

// 16-byte asynchronous global-to-shared copy (sm_80+): no register staging, many in flight.
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {
    const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem) : "memory");
}

__device__ __forceinline__ void cp_async_wait_all() {
    asm volatile("cp.async.wait_all;\n" ::: "memory");
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
    using namespace nvcuda;
    constexpr int LD = D + TC_PAD_H;
    constexpr int KD = D / 16;
    extern __shared__ __align__(128) unsigned char smem[];
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int lds = kcap + TC_PAD_F;
    __half* sq = reinterpret_cast<__half*>(smem);
    __half* skv = sq + (blockDim.x >> 5) * 16 * LD;
    float* ss = reinterpret_cast<float*>(skv + kcap * LD);

    // This block's slice and query tile (tiles row-major over the map, slices outermost).
    const int n = p * p;
    const int tiles_c = (p + tc - 1) / tc;
    const int per_slice = (p + tr - 1) / tr * tiles_c;
    const int block = blockIdx.x;
    const long long slice = block / per_slice;
    const int tile = block % per_slice;
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
    const int nkp = (nk + 15) & ~15;
    const long long base = slice * n * D;

    load_rect<D>(sq, q + base, qr0 * p + qc0, nq / qcn, qcn, p);
    zero_rows<D>(sq, nq, (blockDim.x >> 5) * 16);
    load_rect<D>(skv, k + base, kr0 * p + kc0, krn, kcn, p);
    zero_rows<D>(skv, nk, nkp);
    cp_async_wait_all();
    __syncthreads();

    // Warps whose 16 rows are all padding (edge tiles) only help with the loads.
    const bool active = warp * 16 < nq;
    float* srows = ss + warp * 16 * lds;
    if (active) {
        // S = Q K^T: K^T as a col-major matrix_b is K row-major, so no transpose is stored.
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a[KD];
#pragma unroll
        for (int kk = 0; kk < KD; ++kk) wmma::load_matrix_sync(a[kk], sq + warp * 16 * LD + kk * 16, LD);
        for (int j = 0; j < nkp; j += 16) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> s;
            wmma::fill_fragment(s, 0.f);
#pragma unroll
            for (int kk = 0; kk < KD; ++kk) {
                wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
                wmma::load_matrix_sync(b, skv + j * LD + kk * 16, LD);
                wmma::mma_sync(s, a[kk], b, s);
            }
            wmma::store_matrix_sync(srows + j, s, lds, wmma::mem_row_major);
        }
    }
    __syncthreads();  // every warp is done with K: V takes its place while the softmax runs
    load_rect<D>(skv, v + base, kr0 * p + kc0, krn, kcn, p);  // rows nk..nkp stay zero from K

    if (active) {
        __syncwarp();  // the warp's S rows, stored by all its lanes, are read across lanes
        // Lane slot i holds window key e = lane + 32 i; its rectangle offset from the window's
        // first key is the same for every query of the block.
        const int window = ke * ke;
        int off[TC_WINDOW_SLOTS];
#pragma unroll
        for (int i = 0; i < TC_WINDOW_SLOTS; ++i) {
            const int e = lane + 32 * i;
            off[i] = e < window ? e / ke * kcn + e % ke : 0;
        }
        const float l2scale = scale * LOG2E;
        for (int r = 0; r < 16; ++r) {
            const int m = warp * 16 + r;
            float* srow = srows + r * lds;
            __half* prow = reinterpret_cast<__half*>(srow);  // P overwrites the row's scores
            float x[TC_WINDOW_SLOTS];
            int first = 0;
            float inv = 0.f;
            if (m < nq) {  // warp-uniform
                const int qr = qr0 + m / qcn;
                const int qc = qc0 + m % qcn;
                first = (window_start(qr, p, ks) - kr0) * kcn + window_start(qc, p, ks) - kc0;
                // Scores in log2 units, as in the warp-per-query kernel.
                float mx = -INFINITY;
#pragma unroll
                for (int i = 0; i < TC_WINDOW_SLOTS; ++i) {
                    x[i] = lane + 32 * i < window ? srow[first + off[i]] * l2scale : -INFINITY;
                    mx = fmaxf(mx, x[i]);
                }
                mx = warp_max(mx);  // finite: the window holds at least the query's own key
                float l = 0.f;
#pragma unroll
                for (int i = 0; i < TC_WINDOW_SLOTS; ++i) {
                    x[i] = exp2f(x[i] - mx);  // 0 for the unused slots
                    l += x[i];
                }
                l = warp_sum(l);
                inv = 1.f / l;
                if (lse != nullptr && lane == 0) lse[slice * n + qr * p + qc] = (mx + log2f(l)) * LN2;
            }
            __syncwarp();  // every lane holds its scores before the row is overwritten
            for (int i = lane; i < nkp / 8; i += 32) {
                reinterpret_cast<uint4*>(prow)[i] = make_uint4(0, 0, 0, 0);
            }
            __syncwarp();
            if (m < nq) {
#pragma unroll
                for (int i = 0; i < TC_WINDOW_SLOTS; ++i) {
                    if (lane + 32 * i < window) prow[first + off[i]] = __float2half_rn(x[i] * inv);
                }
            }
        }
    }
    cp_async_wait_all();
    __syncthreads();  // V complete (and every P row written, which the warp's own loads need)

    if (active) {
        // O = P V; P rows are fp16 with stride 2 * lds halves inside the S rows.
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[KD];
#pragma unroll
        for (int dj = 0; dj < KD; ++dj) wmma::fill_fragment(acc[dj], 0.f);
        const __half* pw = reinterpret_cast<const __half*>(srows);
        for (int j = 0; j < nkp; j += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> pa;
            wmma::load_matrix_sync(pa, pw + j, 2 * lds);
#pragma unroll
            for (int dj = 0; dj < KD; ++dj) {
                wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> vb;
                wmma::load_matrix_sync(vb, skv + j * LD + dj * 16, LD);
                wmma::mma_sync(acc[dj], pa, vb, acc[dj]);
            }
        }
        // Each 16 x 16 output tile goes through the warp's first 256 floats (P is consumed):
        // lane l converts row l / 2, columns 8 (l % 2) .. + 8, and stores them as 16 bytes.
        const int r = lane >> 1;
        const int m = warp * 16 + r;
        const long long dst = m < nq ? base + (long long)((qr0 + m / qcn) * p + qc0 + m % qcn) * D : -1;
        const float* src = srows + r * 16 + (lane & 1) * 8;
        __syncwarp();
#pragma unroll
        for (int dj = 0; dj < KD; ++dj) {
            wmma::store_matrix_sync(srows, acc[dj], 16, wmma::mem_row_major);
            __syncwarp();
            if (dst >= 0) {
                const float4 lo = *reinterpret_cast<const float4*>(src);
                const float4 hi = *reinterpret_cast<const float4*>(src + 4);
                __half2 h[4] = {__floats2half2_rn(lo.x, lo.y), __floats2half2_rn(lo.z, lo.w),
                                __floats2half2_rn(hi.x, hi.y), __floats2half2_rn(hi.z, hi.w)};
                *reinterpret_cast<uint4*>(o + dst + dj * 16 + (lane & 1) * 8) =
                    *reinterpret_cast<const uint4*>(h);
            }
            __syncwarp();
        }
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

// Block: 32 * ceil(tr * tc / 16) threads (at most 128); grid: bh * tiles per slice; dynamic
// shared memory as laid out above fwd_tc. The minimum of three resident blocks per SM is what
// the shared memory of the common tiles allows anyway; stating it lets ptxas budget 170
// registers a thread (without it, ptxas 13.0 spills at 64 for D = 64 on sm_90).
#define NA_TC_ENTRY_POINT(D)                                                                      \
    extern "C" __global__ void __launch_bounds__(128, 3)                                          \
        na_fwd_tc_f16_d##D(const __half* q, const __half* k, const __half* v, __half* o,          \
                           float* lse, int p, int ks, float scale, int tr, int tc, int kcap) {    \
        fwd_tc<D>(q, k, v, o, lse, p, ks, scale, tr, tc, kcap);                                   \
    }

NA_TC_ENTRY_POINT(32)
NA_TC_ENTRY_POINT(64)
NA_TC_ENTRY_POINT(128)
