/* SPDX-License-Identifier: MIT */
/*
 * qmx_backend.h - the contract between the libqmx core and its backends.
 *
 * Each backend lives in runtime/backends/<name>/ and defines one
 * `const struct qmx_backend_ops qmx_backend_<name>_ops`.  A NULL op means
 * "not supported"; the core checks it and says so, or falls back to the
 * shared host-memory default named beside the op.
 *
 * The core validates every argument before an op is called: ops receive
 * well-formed descriptors whose references lie inside their buffers.
 */
#ifndef QMX_BACKEND_H
#define QMX_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "qmx/qmx.h"

struct qmx_backend_ops {
	const char *name; /* URI scheme: "cpu", "sim", ... */

	/* Append the devices this backend can see (may be NULL: none listed). */
	int (*enumerate)(qmx_device_info *infos, size_t cap, size_t *count);

	/* Open: `arg` is the URI part after "name:" ("" when absent).  Fill
	 * dev->info and dev->priv.  Required. */
	int (*open)(qmx_device *dev, const char *arg);
	void (*close)(qmx_device *dev);

	/* Buffers.  NULL alloc/free: 64-byte aligned host memory
	 * (buf->host), map returns it, sync is a no-op. */
	int (*buffer_alloc)(qmx_device *dev, qmx_buffer *buf);
	void (*buffer_free)(qmx_device *dev, qmx_buffer *buf);
	int (*buffer_map)(qmx_buffer *buf, void **ptr);
	int (*buffer_unmap)(qmx_buffer *buf);
	int (*buffer_sync)(qmx_buffer *buf, enum qmx_sync_dir dir,
			   size_t offset, size_t size);

	/* Optional: run a GEMM straight on host pointers (qmx_gemm()), for
	 * backends that compute in host memory.  NULL: the core copies the
	 * operands into device buffers and goes through gemm_submit. */
	int (*gemm_host)(qmx_device *dev, const qmx_gemm_params *p,
			 const qmx_gemm_host_operands *ops, qmx_job_stats *stats);

	/* Start a validated GEMM job.  The backend completes it by calling
	 * qmx_job_complete() from any thread, or synchronously before return. */
	int (*gemm_submit)(qmx_device *dev, qmx_job *job);
	/* Optional: drive a job forward when completion needs the waiter's
	 * thread (polling backends).  Return 0 when done, QMX_ETIMEDOUT when
	 * still running at the deadline (CLOCK_MONOTONIC ns, <0 = none).
	 * NULL: the core waits on the job's condition variable. */
	int (*job_wait)(qmx_device *dev, qmx_job *job, int64_t deadline_ns);
	/* Optional: release backend state of a finished job. */
	void (*job_release)(qmx_device *dev, qmx_job *job);

	/* Batches (qmx_batch_*, runtime/src/qmx_batch.h), both optional.
	 * batch_submit starts every entry of a validated batch (b->count >= 1,
	 * each entry's job initialised, wait_for < its index) natively, e.g. as
	 * descriptors on the device's command queue, and completes each entry
	 * with qmx_job_complete() or qmx_batch_entry_skip(); an error return
	 * means no entry was started.  NULL: the core runs the entries in order
	 * through gemm_submit (the loop used by cpu, xrt, opencl), waiting for an
	 * entry's wait_for entry before starting it and skipping it when that
	 * failed.  batch_wait drives a native batch until every entry is done
	 * or deadline_ns passes (0 or QMX_ETIMEDOUT), for backends whose
	 * completion needs the waiter's thread (sim); NULL: the core waits on
	 * each entry's job (through job_wait when set).  job_release is called
	 * for each entry marked started (the loop marks the ones it submitted;
	 * a native backend marks those whose job.priv it filled) before the
	 * batch is resubmitted or freed. */
	int (*batch_submit)(qmx_device *dev, qmx_batch *b);
	int (*batch_wait)(qmx_device *dev, qmx_batch *b, int64_t deadline_ns);

	/* Pre-packed weights (qmx_weights_*), all optional.  weights_pack packs
	 * w->b into w->priv (in host or device memory), replacing and freeing
	 * an older packed form; weights_free frees w->priv.  gemm_weights runs
	 * a validated GEMM on host operands with B from w->priv.  NULL
	 * weights_pack or gemm_weights: the core runs such GEMMs as plain
	 * qmx_gemm() calls on w->b, so every backend accepts the handle. */
	int (*weights_pack)(qmx_device *dev, qmx_weights *w);
	void (*weights_free)(qmx_device *dev, qmx_weights *w);
	int (*gemm_weights)(qmx_device *dev, const qmx_gemm_params *p,
			    const qmx_gemm_host_operands *ops, qmx_weights *w,
			    qmx_job_stats *stats);
};

struct qmx_device {
	int refs; /* atomic */
	const struct qmx_backend_ops *ops;
	void *priv;
	qmx_device_info info;
	pthread_mutex_t lock; /* for backends that serialise jobs */
	/* Accounting's figures that depend on the device alone, resolved on
	 * its first job and kept (runtime/energy/account.c). */
	pthread_mutex_t acct_lock;
	struct qmx_acct_device *acct;
};

struct qmx_buffer {
	qmx_device *dev;
	size_t size;
	uint32_t flags;
	void *host;      /* host mapping (default allocator, or backend's) */
	void *priv;      /* backend's handle */
	uint64_t dev_addr; /* device address when the backend has one */
	int map_count;
};

struct qmx_weights {
	qmx_device *dev;  /* holds a reference */
	const int8_t *b;  /* the caller's B, K x N */
	int64_t k, n, ldb;
	pthread_mutex_t lock; /* repacking after qmx_weights_invalidate() */
	bool stale;       /* B changed since it was packed */
	void *priv;       /* backend's packed form (NULL: none) */
};

struct qmx_job {
	qmx_device *dev;
	qmx_gemm_desc desc;
	qmx_job_stats stats;
	uint64_t submit_ns; /* CLOCK_MONOTONIC at submit */
	void *priv;         /* backend's */

	/* Host meter readings at submit, so runtime/energy can measure the
	 * job's share of package energy when it completes. */
	struct {
		bool valid;
		double joules;       /* cumulative package energy */
		uint64_t busy_ticks; /* busy CPU time of the machine (/proc/stat) */
	} energy_begin;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int status;
	char status_msg[256]; /* the backend's message for a failed job */
};

/* Backend side of the job lifecycle: record status and wake waiters.  Sets
 * stats.wall_ns from submit_ns unless the backend already set it.  For a
 * failed job, the calling thread's last error (set with qmx_fail() by the
 * backend) becomes the message qmx_job_wait() reports. */
void qmx_job_complete(qmx_job *job, int status);

/* Device side of a finished job, in one place for every backend that runs
 * the qmx hardware (sim, kmod, xrt): copy its activity counters (a delta)
 * into job->stats (device_ns from clock_khz, when known), and when the
 * device reported ERROR, record its code and address as this thread's
 * error.  Returns the status for qmx_job_complete(): 0 or QMX_EDEVICE. */
struct qmx_jobprog_counters;
int qmx_job_device_result(qmx_job *job, const struct qmx_jobprog_counters *d,
			  uint32_t clock_khz, uint32_t hw_error, uint64_t error_addr);
/*
 * Shared defaults for backends that compute in host memory (cpu, onednn):
 * `run` fills st->device_ns, cpu_ns, threads and macs; `arg` is passed on.
 * qmx_host_gemm_sync() runs it on the caller's thread with the job's energy
 * and carbon accounting (for gemm_host / gemm_weights);
 * qmx_host_gemm_submit() on a worker thread that completes the job (for
 * gemm_submit).
 */
typedef int (*qmx_host_run_fn)(qmx_device *dev, const qmx_gemm_params *p,
			       const qmx_gemm_host_operands *ops, const void *arg,
			       qmx_job_stats *st);
int qmx_host_gemm_sync(qmx_device *dev, const qmx_gemm_params *p,
		       const qmx_gemm_host_operands *ops, qmx_host_run_fn run,
		       const void *arg, qmx_job_stats *stats);
int qmx_host_gemm_submit(qmx_device *dev, qmx_job *job, qmx_host_run_fn run);

/* Host pointer of a reference (buffer's host mapping + offset). */
static inline void *qmx_ref_host(const qmx_ref *r)
{
	return (char *)r->buffer->host + r->offset;
}

/* Build host operands from a descriptor whose buffers are host-mapped. */
void qmx_desc_host_operands(const qmx_gemm_desc *d, qmx_gemm_host_operands *ops);

/* Byte extents the operands of `p` span (valid after qmx_gemm_params_check). */
struct qmx_gemm_extents {
	uint64_t a, b, c, bias, multipliers, shifts; /* 0 when unused */
};
void qmx_gemm_extents(const qmx_gemm_params *p, struct qmx_gemm_extents *e);
/* Check the shape of `p` (dimensions against max_dim, named max_dim_name in
 * the message and failing with too_large; every operand's extent) with the
 * shared checked helper (hw/include/qmx_extent.h) and fill *x.  `who`
 * prefixes the message ("" for none). */
struct qmx_extent_bytes;
struct qmx_extent_error;
int qmx_gemm_shape_check(const char *who, const qmx_gemm_params *p, uint64_t max_dim,
			 const char *max_dim_name, int too_large,
			 struct qmx_extent_bytes *x);
/* Record the failure `e` of the shared helper as this thread's error. */
int qmx_extent_error_fail(const char *who, const struct qmx_extent_error *e,
			  const char *max_dim_name, int too_large);
/* Check the host operands `p` needs are present and per-channel values are
 * in range; `who` prefixes the message. */
int qmx_gemm_host_operands_check(const char *who, const qmx_gemm_params *p,
				 const qmx_gemm_host_operands *ops);

/* Record a thread-local error message; returns err for `return qmx_fail(...)`. */
int qmx_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Clear the thread-local error message (called on success of public entries). */
void qmx_clear_error(void);

uint64_t qmx_now_ns(void);        /* CLOCK_MONOTONIC */
uint64_t qmx_thread_cpu_ns(void); /* CLOCK_THREAD_CPUTIME_ID */
uint64_t qmx_process_cpu_ns(void);/* CLOCK_PROCESS_CPUTIME_ID */

/* Accounting hook run by the core when a job completes successfully: fills
 * energy and carbon fields of job->stats from counters (runtime/energy). */
void qmx_account_job(qmx_device *dev, qmx_job *job);
/* Accounting hook run by the core as a job starts: samples host meters into
 * job->energy_begin (a no-op where nothing is readable). */
void qmx_account_job_begin(qmx_device *dev, qmx_job *job);
/* Free what accounting kept for the device (qmx_device_del). */
void qmx_account_device_free(qmx_device *dev);

/* Backend ops tables (defined in runtime/backends/<name>/). */
extern const struct qmx_backend_ops qmx_backend_cpu_ops;
extern const struct qmx_backend_ops qmx_backend_cpu_ref_ops;
extern const struct qmx_backend_ops qmx_backend_sim_ops;
extern const struct qmx_backend_ops qmx_backend_model_ops;
extern const struct qmx_backend_ops qmx_backend_kmod_ops;
extern const struct qmx_backend_ops qmx_backend_xrt_ops;
extern const struct qmx_backend_ops qmx_backend_opencl_ops;
extern const struct qmx_backend_ops qmx_backend_onednn_ops;

#endif /* QMX_BACKEND_H */
