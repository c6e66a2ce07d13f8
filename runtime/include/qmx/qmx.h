/* SPDX-License-Identifier: MIT */
/*
 * qmx.h - public C API of libqmx, the quantized-matrix offload runtime.
 *
 * Objects are opaque handles: a device (one backend instance), buffers owned by
 * a device, and jobs submitted to it.  Every call returns 0 or a negative
 * QMX_E* code; qmx_last_error() gives a thread-local message naming the field
 * and the limit that was broken.
 *
 * The quantized GEMM computed by every backend is, bit for bit, the one
 * qmx_gemm_reference() computes (see docs/semantics.md):
 *
 *   acc[i][j] = sum_k (A[i][k] - a_zero_point) * (B[k][j] - b_zero_point)   (int32)
 *   int32 out : C[i][j] = acc + bias[j]
 *   int8  out : C[i][j] = clamp(c_zero_point + requant(acc + bias[j], mult, shift), qmin, qmax)
 */
#ifndef QMX_QMX_H
#define QMX_QMX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(QMX_STATIC_DEFINE)
#define QMX_API
#elif defined(__GNUC__)
#define QMX_API __attribute__((visibility("default")))
#else
#define QMX_API
#endif

#define QMX_VERSION_MAJOR 0
#define QMX_VERSION_MINOR 1
#define QMX_VERSION_PATCH 0

/* ------------------------------------------------------------------ errors */

/* X(name, value, description): one list drives the enum and qmx_strerror(). */
#define QMX_ERROR_LIST(X)                                                      \
	X(QMX_OK, 0, "success")                                                \
	X(QMX_EINVAL, -1, "invalid argument")                                  \
	X(QMX_ENOMEM, -2, "out of memory")                                     \
	X(QMX_ENODEV, -3, "no such device")                                    \
	X(QMX_ENOTSUP, -4, "operation not supported by this backend")         \
	X(QMX_ETIMEDOUT, -5, "timed out")                                      \
	X(QMX_EIO, -6, "device input/output error")                            \
	X(QMX_EOVERFLOW, -7, "size or value overflows its type")               \
	X(QMX_ENOENT, -8, "required library or file not found")                \
	X(QMX_EBUSY, -9, "resource busy")                                      \
	X(QMX_EDEVICE, -10, "the device reported an error for the job")        \
	X(QMX_EPERM, -11, "permission denied")                                 \
	X(QMX_EVERSION, -12, "device or bitstream version mismatch")         \
	X(QMX_EDEPENDENCY, -13, "not run: the job it waits for failed")

enum qmx_error {
#define QMX_X_ENUM(name, value, text) name = value,
	QMX_ERROR_LIST(QMX_X_ENUM)
#undef QMX_X_ENUM
};

/* Static description of an error code ("unknown error" for unknown codes). */
QMX_API const char *qmx_strerror(int err);
/* The symbolic name of an error code ("QMX_EINVAL"). */
QMX_API const char *qmx_error_name(int err);
/* Thread-local detail of the last failing call on this thread, e.g.
 * "qmx_gemm_submit: lda (12) < k (16)".  Never NULL; "" when none. */
QMX_API const char *qmx_last_error(void);

/* ------------------------------------------------------------------ devices */

typedef struct qmx_device qmx_device;
typedef struct qmx_buffer qmx_buffer;
typedef struct qmx_job qmx_job;

/* Feature bits in qmx_device_info.features. */
#define QMX_FEATURE_INT32_OUT (1u << 0)
#define QMX_FEATURE_INT8_OUT (1u << 1)
#define QMX_FEATURE_PER_CHANNEL (1u << 2)
#define QMX_FEATURE_BIAS (1u << 3)
#define QMX_FEATURE_DEVICE_MEMORY (1u << 4) /* buffers live in device memory */
#define QMX_FEATURE_SIMULATED (1u << 5)     /* a model, not silicon */
#define QMX_FEATURE_COUNTERS (1u << 6)      /* activity counters in job stats */
#define QMX_FEATURE_POWER_SENSOR (1u << 7)  /* measured power available */

typedef struct qmx_device_info {
	char uri[128];         /* string that opens this device, e.g. "sim" */
	char backend[16];      /* "cpu", "sim", "kmod", "xrt", "opencl" */
	char name[96];         /* human-readable device name */
	char detail[160];      /* backend-specific: path, platform, ISA... */
	uint32_t array_rows;   /* MAC array rows (0 for CPU) */
	uint32_t array_cols;   /* MAC array columns (0 for CPU) */
	uint32_t clock_mhz;    /* device clock, 0 when not applicable */
	uint32_t compute_units;/* CPU threads, or 1 for one accelerator */
	uint32_t hw_version;   /* register-map version (major << 16 | minor) */
	uint32_t features;     /* QMX_FEATURE_* */
	uint64_t max_dim;      /* largest M, N or K accepted */
	uint64_t max_k;        /* largest K accepted without int32 overflow */
	char profile[32];      /* target profile the device is modelled as
				* ("asic-28nm"; hw/energy/profiles.ini), "" for CPUs */
} qmx_device_info;

/*
 * Open a device by URI: "cpu", "cpu-ref" (plain reference), "sim", "sim:16x16",
 * "sim:16x16,profile=asic-7nm" (the target profile the model stands for, see
 * qmx_profile_list(); kmod and xrt URIs take ",profile=NAME" too), "kmod",
 * "kmod:/dev/dri/renderD128", "xrt:0", "opencl:0".  A NULL or empty
 * URI means $QMX_DEVICE, else the default device (the simulated accelerator
 * when built, otherwise "cpu").  The returned handle holds one reference.
 */
QMX_API int qmx_device_open(const char *uri, qmx_device **out);
QMX_API qmx_device *qmx_device_ref(qmx_device *dev);
/* Drop one reference; the device closes when the last one goes. */
QMX_API void qmx_device_del(qmx_device *dev);
QMX_API int qmx_device_query(const qmx_device *dev, qmx_device_info *info);
/* URI the default device would open (what qmx_device_open(NULL) picks). */
QMX_API const char *qmx_default_device_uri(void);

/*
 * Enumerate the devices every built backend can see.  Fills at most `cap`
 * entries of `infos` (which may be NULL when cap is 0) and stores the total
 * number found in *count.
 */
QMX_API int qmx_device_list(qmx_device_info *infos, size_t cap, size_t *count);

/* Names of the backends compiled into this library, NULL-terminated. */
QMX_API const char *const *qmx_backend_names(void);

/* ------------------------------------------------------------------ buffers */

enum qmx_sync_dir {
	QMX_SYNC_TO_DEVICE = 1,   /* host writes become visible to the device */
	QMX_SYNC_FROM_DEVICE = 2, /* device writes become visible to the host */
};

/* Allocate `size` bytes (> 0) owned by `dev`.  flags must be 0 for now. */
QMX_API int qmx_buffer_new(qmx_device *dev, size_t size, uint32_t flags,
			   qmx_buffer **out);
/* Map the buffer for host access; nested maps return the same pointer. */
QMX_API int qmx_buffer_map(qmx_buffer *buf, void **ptr);
QMX_API int qmx_buffer_unmap(qmx_buffer *buf);
/* Make [offset, offset + size) coherent in the given direction. */
QMX_API int qmx_buffer_sync(qmx_buffer *buf, enum qmx_sync_dir dir,
			    size_t offset, size_t size);
QMX_API size_t qmx_buffer_size(const qmx_buffer *buf);
QMX_API void qmx_buffer_del(qmx_buffer *buf);

/* ------------------------------------------------------------------ GEMM */

enum qmx_out_type {
	QMX_OUT_INT32 = 0, /* C = acc + bias */
	QMX_OUT_INT8 = 1,  /* C = requantized, clamped int8 */
};

enum qmx_quant_mode {
	QMX_QUANT_PER_TENSOR = 0,  /* multiplier/shift scalars below */
	QMX_QUANT_PER_CHANNEL = 1, /* one multiplier/shift per output column */
};

/*
 * Shape and quantization of one GEMM: C (M x N) = A (M x K) * B (K x N).
 * All matrices are row-major; leading dimensions are in elements.
 * Initialise with qmx_gemm_params_init() so new fields get defaults.
 */
typedef struct qmx_gemm_params {
	int64_t m, n, k;          /* > 0 */
	int64_t lda, ldb, ldc;    /* lda >= k, ldb >= n, ldc >= n */
	int32_t a_zero_point;     /* [-128, 127] */
	int32_t b_zero_point;     /* [-128, 127], usually 0 */
	int32_t c_zero_point;     /* [-128, 127], int8 output only */
	int32_t out_type;         /* enum qmx_out_type */
	int32_t quant_mode;       /* enum qmx_quant_mode, int8 output only */
	int32_t multiplier;       /* per-tensor: [0, 2^31 - 1] */
	int32_t shift;            /* per-tensor: [-31, 30], positive = left */
	int32_t qmin, qmax;       /* clamp, -128 <= qmin <= qmax <= 127 */
	int32_t has_bias;         /* 1: add bias[j] (int32, N entries) */
} qmx_gemm_params;

/* Defaults: int32 output, no bias, zero points 0, multiplier 2^30 (0.5) with
 * shift 1 (so x * 1.0), clamp [-128, 127].  Shape fields are set to 0. */
QMX_API void qmx_gemm_params_init(qmx_gemm_params *p, int64_t m, int64_t n,
				  int64_t k);

/* Host-memory operands of a GEMM.  bias is int32[N] (when has_bias);
 * multipliers and shifts are int32[N] (per-channel only).  c is int8 or int32
 * depending on out_type. */
typedef struct qmx_gemm_host_operands {
	const int8_t *a;
	const int8_t *b;
	const int32_t *bias;
	const int32_t *multipliers;
	const int32_t *shifts;
	void *c;
} qmx_gemm_host_operands;

/* A place in a device buffer: byte offset into `buffer`. */
typedef struct qmx_ref {
	qmx_buffer *buffer;
	uint64_t offset;
} qmx_ref;

/* Device-memory operands of a GEMM, for qmx_gemm_submit(). */
typedef struct qmx_gemm_desc {
	qmx_gemm_params params;
	qmx_ref a, b, c;
	qmx_ref bias;        /* when params.has_bias */
	qmx_ref multipliers; /* per-channel only */
	qmx_ref shifts;      /* per-channel only */
} qmx_gemm_desc;

/* Check params alone (shapes, ranges, overflow); 0 or QMX_EINVAL/EOVERFLOW. */
QMX_API int qmx_gemm_params_check(const qmx_gemm_params *p);

/* The golden reference: plain C, the definition of the semantics. */
QMX_API int qmx_gemm_reference(const qmx_gemm_params *p,
			       const qmx_gemm_host_operands *ops);

/* ------------------------------------------------------------------ jobs */

enum qmx_energy_source {
	QMX_ENERGY_NONE = 0,     /* no figure */
	QMX_ENERGY_MEASURED = 1, /* from a meter (RAPL, hwmon, card sensor) */
	QMX_ENERGY_MODELLED = 2, /* from a declared model: counters x per-action energy, CPU time x TDP share, or card power */
};

typedef struct qmx_job_stats {
	uint64_t wall_ns;      /* host time, submit to completion */
	uint64_t device_ns;    /* device busy time (cycles / clock; CPU: compute) */
	uint64_t cpu_ns;       /* host CPU time the job consumed (all threads) */
	uint64_t cycles;       /* device busy cycles (0 when not known) */
	uint64_t stall_cycles; /* cycles waiting on memory */
	uint64_t macs;         /* multiply-accumulates performed */
	uint64_t ext_bytes_read, ext_bytes_written;   /* external memory */
	uint64_t sram_bytes_read, sram_bytes_written; /* on-chip buffers */
	uint32_t threads;      /* CPU threads used (CPU backends) */
	int32_t energy_source; /* enum qmx_energy_source */
	double energy_j;       /* device (or CPU package share) energy */
	double carbon_operational_g; /* energy_j x grid intensity */
	double carbon_embodied_g;    /* embodied share for this job's time */
	/* Modelled energy by action (J), summing to energy_j; all 0 when the
	 * energy was measured.  A CPU's and an FPGA card's power x time are in
	 * energy_static_j (a CPU's modelled DRAM in energy_dram_j). */
	double energy_mac_j;     /* MACs x E_mac */
	double energy_sram_j;    /* on-chip buffer bytes x E_sram */
	double energy_dram_j;    /* external memory bytes x E_dram */
	double energy_clock_j;   /* flip-flop bits x busy cycles x E_ff */
	double energy_leakage_j; /* SRAM bits x leakage x device time */
	double energy_static_j;  /* other static power x device time */
	uint32_t flags;        /* QMX_JOB_* */
	uint32_t reserved0;
	uint64_t sim_wall_ns;  /* simulated device: host wall time spent simulating
				* the job (not the system's time: device_ns is) */
	uint64_t sim_cpu_ns;   /* simulated device: host CPU time spent simulating */
} qmx_job_stats;

#define QMX_JOB_DEVICE (1u << 0)    /* ran on a device, not the host's CPU */
#define QMX_JOB_SIMULATED (1u << 1) /* on a simulated device (sim_* are set) */

/* Validate `desc` against the buffers it names and queue it.  The buffers
 * must stay alive until the job is waited for. */
QMX_API int qmx_gemm_submit(qmx_device *dev, const qmx_gemm_desc *desc,
			    qmx_job **out);
/* Wait at most timeout_ns (< 0: forever).  Returns the job's status:
 * 0, QMX_ETIMEDOUT (job still running), or the error the job ended with. */
QMX_API int qmx_job_wait(qmx_job *job, int64_t timeout_ns);
QMX_API int qmx_job_get_stats(const qmx_job *job, qmx_job_stats *stats);
/* Waits for an unfinished job before freeing it. */
QMX_API void qmx_job_del(qmx_job *job);
/* Add the statistics of one part (a tile, a batch entry) to `sum`: counters,
 * times and energies add up, threads is the largest, flags combine;
 * energy_source is the part's when `first`, else becomes modelled (or none)
 * as soon as one part is. */
QMX_API void qmx_job_stats_add(qmx_job_stats *sum, const qmx_job_stats *st, int first);

/*
 * Synchronous convenience: C = A * B on host pointers.  Copies operands into
 * device buffers when the backend needs it, runs, waits, copies back.
 * stats may be NULL.
 */
QMX_API int qmx_gemm(qmx_device *dev, const qmx_gemm_params *p,
		     const qmx_gemm_host_operands *ops, qmx_job_stats *stats);

/* ------------------------------------------------------------------ device groups */

/*
 * A device group is one qmx_device made of up to QMX_GROUP_MAX_MEMBERS member
 * devices of any kinds, opened by a URI listing them: "sim,sim:16x16",
 * "cpu,sim:16x16,profile=asic-7nm", or with the explicit prefix
 * "group:cpu,sim".  A comma starts a new member when the text after it
 * begins with a backend's name ("cpu", "sim", "kmod", ... followed by ':',
 * ',' or the end); otherwise it continues the current member's options.  A
 * member may carry ",weight=W" (W > 0, given for every member or none).
 *
 * Each GEMM is split by rows of A (when M >= N) or else by columns of B,
 * in proportion to each member's throughput: W when given, else modelled
 * MAC/s (array rows x columns x clock) for devices that report an array,
 * else MAC/s measured by a short calibration GEMM at open (CPUs).  The
 * parts run in parallel, one thread per member, each bit-exact, so the
 * group's result is bit-identical to one device's.  A job's stats are the
 * members' summed (MACs, bytes, cycles, CPU time, energy, carbon), with
 * wall_ns the group's and device_ns the slowest member's.  Buffers of a
 * group are host memory.  Groups do not nest.
 */
#define QMX_GROUP_MAX_MEMBERS 8

typedef struct qmx_group_member_stats {
	qmx_device_info info;  /* the member device */
	double weight;         /* its share of every split; the shares sum to 1 */
	double macs_per_s;     /* throughput the share comes from (0: given weight) */
	char weight_source[96];/* "modelled: ...", "calibrated: ...", "given: weight=W" */
	uint64_t jobs;         /* GEMM parts it ran */
	qmx_job_stats total;   /* its parts' stats summed (qmx_job_stats_add) */
	qmx_job_stats last;    /* its part of the latest group GEMM (zero: it had none) */
} qmx_group_member_stats;

/* Per-member figures of a group: fills at most `cap` entries of `members`
 * (NULL when cap is 0), stores the member count in *count.  QMX_EINVAL when
 * `dev` is not a group. */
QMX_API int qmx_device_group_stats(qmx_device *dev, qmx_group_member_stats *members,
				   size_t cap, size_t *count);

/* ------------------------------------------------------------------ batches */

/*
 * A batch: a list of GEMMs on one device submitted as one job, e.g. a whole
 * MLP forward or a training step.  Where the device has a command queue
 * (sim, kmod) the entries become descriptors fetched by the engine with one
 * doorbell; elsewhere the library starts them one after the other through
 * the device's own queue (xrt, opencl) or a loop (cpu).  Results are the
 * same, bit for bit, as the GEMMs submitted one by one.
 *
 * Ownership: the batch holds a reference on its device and copies each
 * descriptor; the buffers the descriptors name belong to the caller and must
 * stay alive (and not be written by the host) from qmx_batch_submit() until
 * qmx_batch_wait() returned anything but QMX_ETIMEDOUT (the batch is then
 * no longer in flight) or qmx_batch_destroy().
 *
 * Ordering and dependencies: entries start in index order.  An entry added
 * with wait_for = i starts only after entry i completed successfully; if
 * entry i failed, it is not run (no memory touched) and reports
 * QMX_EDEPENDENCY naming entry i.  An entry with wait_for = -1 may run
 * concurrently with earlier ones on a device that overlaps jobs (cpu), so
 * every read-after-write or write-after-read between entries must be declared
 * (one entry each: chain them).  A failing entry does not stop independent
 * ones after it.
 *
 * Life cycle: create, add entries, submit, wait, read each entry's status,
 * then either submit again (the same entries run again, e.g. every training
 * step with new buffer contents) or destroy.  Entries cannot be added to a
 * batch in flight.  One thread at a time per batch.
 */
typedef struct qmx_batch qmx_batch;

/* Most entries one batch holds (the largest command-queue ring). */
#define QMX_BATCH_MAX_ENTRIES 4096u

/* An empty batch on `dev` (holds a reference on it). */
QMX_API int qmx_batch_create(qmx_device *dev, qmx_batch **out);
/*
 * Validate `desc` as qmx_gemm_submit() does (buffers of the batch's device,
 * extents, overlaps) and append it.  wait_for is the index of an earlier
 * entry of this batch or -1 for none.  *index (may be NULL) receives the
 * new entry's index, counting from 0.  Fails with QMX_EINVAL past
 * QMX_BATCH_MAX_ENTRIES and QMX_EBUSY while the batch is in flight.
 */
QMX_API int qmx_batch_add_gemm(qmx_batch *b, const qmx_gemm_desc *desc, int32_t wait_for,
			       uint32_t *index);
/* Number of entries added so far. */
QMX_API uint32_t qmx_batch_size(const qmx_batch *b);
/*
 * Start every entry.  Returns once the batch is queued (the device may still
 * be running it); QMX_EBUSY when already in flight, QMX_EINVAL when empty.
 * An error here means no entry was started.
 */
QMX_API int qmx_batch_submit(qmx_batch *b);
/*
 * Wait at most timeout_ms (< 0: forever) for every entry to finish.  Returns
 * 0 when all succeeded, QMX_ETIMEDOUT when some still run (wait again or
 * destroy; the batch stays in flight), else the status of the first entry
 * that failed, with qmx_last_error() naming that entry, its message and how
 * many entries did not run.
 */
QMX_API int qmx_batch_wait(qmx_batch *b, int64_t timeout_ms);
/*
 * Outcome of entry `index` of a waited batch: *status is 0 or the error it
 * ended with (QMX_EDEPENDENCY when not run because the entry it waits for
 * failed); stats (may be NULL) its statistics as qmx_job_get_stats() gives
 * them.  Returns QMX_EBUSY when that entry has not finished, QMX_EINVAL for
 * an index out of range.  qmx_batch_entry_message() gives the entry's
 * message ("" when it succeeded), valid until the next submit or destroy.
 */
QMX_API int qmx_batch_entry_status(const qmx_batch *b, uint32_t index, int *status,
				   qmx_job_stats *stats);
QMX_API const char *qmx_batch_entry_message(const qmx_batch *b, uint32_t index);
/* Waits for a batch in flight before freeing it (NULL: no-op). */
QMX_API void qmx_batch_destroy(qmx_batch *b);

/* ------------------------------------------------------------------ tiling */

/*
 * Progress of a tiled GEMM: called after each tile with the tiles done and
 * the total, and about every 250 ms while a long tile runs (same `done`).
 * Return nonzero to stop: the call then fails with QMX_EBUSY, "stopped by
 * the progress callback", leaving C partly written.
 */
typedef int (*qmx_progress_fn)(uint64_t done, uint64_t total, void *user);

/*
 * qmx_gemm() for any size: a GEMM whose M, N or K exceed the device's
 * max_dim is split into tiles of at most max_dim, each run on `dev`.  When K
 * is split, the tiles compute int32 partial sums (int32 addition wraps as the
 * reference's accumulator does) and int8 output is requantized on the host
 * with the reference's arithmetic.  Bit-exact with qmx_gemm_reference().  A GEMM
 * within the limits runs as one qmx_gemm().  stats (may be NULL) receives
 * the sum over the tiles; progress (may be NULL) is called after each.
 */
QMX_API int qmx_gemm_tiled(qmx_device *dev, const qmx_gemm_params *p,
			   const qmx_gemm_host_operands *ops, qmx_job_stats *stats,
			   qmx_progress_fn progress, void *user);

/* ------------------------------------------------------------------ weights */

/*
 * Pre-packed weights: a B operand multiplied many times (a layer's weights in
 * an inference or training loop) is packed once into the layout the device's
 * kernel reads, and every GEMM with the handle skips that work.
 *
 * qmx_weights_new() packs B (K x N int8, row-major, ldb >= n) for `dev` now.
 * The handle keeps the pointer `b`, which must stay valid until
 * qmx_weights_del(): when B's contents change, call qmx_weights_invalidate()
 * and the next GEMM packs them again.  A GEMM after a change without it uses
 * the old weights.  A backend without packing multiplies by `b` directly, so
 * results are the same, bit for bit, on every device.  The handle holds a
 * reference on `dev`.  Not to be invalidated or deleted while a GEMM with it
 * runs; GEMMs with one handle may run concurrently.
 */
typedef struct qmx_weights qmx_weights;

QMX_API int qmx_weights_new(qmx_device *dev, const int8_t *b, int64_t k, int64_t n,
			    int64_t ldb, qmx_weights **out);
/* B's contents changed: the next GEMM with `w` packs it again. */
QMX_API int qmx_weights_invalidate(qmx_weights *w);
QMX_API void qmx_weights_del(qmx_weights *w);
/* C = A * B with B from `w` on the handle's device, synchronously.  p->k and
 * p->n must be the handle's; p->ldb and ops->b are ignored (the handle's are
 * used).  stats may be NULL. */
QMX_API int qmx_weights_gemm(qmx_weights *w, const qmx_gemm_params *p,
			     const qmx_gemm_host_operands *ops, qmx_job_stats *stats);

/* ------------------------------------------------------------------ quantization math */

/*
 * Real multiplier -> (quantized multiplier, shift) exactly as TFLite's
 * QuantizeMultiplier: real = q * 2^(shift - 31), q in [2^30, 2^31).
 * real must be finite and >= 0; 0 gives (0, 0).
 */
QMX_API int qmx_quantize_multiplier(double real, int32_t *multiplier,
				    int32_t *shift);
/* gemmlowp SaturatingRoundingDoublingHighMul. */
QMX_API int32_t qmx_srdhm(int32_t a, int32_t b);
/* gemmlowp RoundingDivideByPOT, 0 <= exponent <= 31. */
QMX_API int32_t qmx_rdbpot(int32_t x, int exponent);
/* TFLite MultiplyByQuantizedMultiplier. */
QMX_API int32_t qmx_multiply_by_quantized_multiplier(int32_t x, int32_t mult,
						     int32_t shift);

#ifdef __cplusplus
}
#endif

#include "qmx/energy.h" /* meters, energy and carbon accounting */
#include "qmx/train.h"  /* quantize/dequantize, fake-quant GEMM for training */
#include "qmx/carbon_aware.h" /* grid traces; shifting, placement, shaping */

#endif /* QMX_QMX_H */
