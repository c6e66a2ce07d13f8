/* SPDX-License-Identifier: MIT */
/*
 * qmx_accel.h - uAPI of qmx.ko, the DRM driver of the qmx quantized int8
 * GEMM accelerator (PCI card, SoC FPGA, or the cosim model in QEMU).
 *
 * Buffers are GEM objects named by handle; a job names its operands as
 * {handle, offset} and never by address, so the kernel proves every byte the
 * device touches lies inside a buffer the caller owns.
 *
 * Conventions: all fields are __u32/__u64 (__s32/__s64 when signed), pointers
 * travel as __u64, every pad/reserved field must be zero, and structures
 * passed by pointer carry a *_struct_size so they can grow: the kernel
 * accepts a smaller (older) size and requires bytes it does not know to be
 * zero; on output it writes at most *_struct_size bytes.
 */
#ifndef __QMX_ACCEL_H__
#define __QMX_ACCEL_H__

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_QMX_GET_PARAM		0x00
#define DRM_QMX_BO_CREATE		0x01
#define DRM_QMX_BO_MMAP_OFFSET		0x02
#define DRM_QMX_SUBMIT			0x03
#define DRM_QMX_WAIT			0x04
#define DRM_QMX_SUBMIT_BATCH		0x05

#define DRM_IOCTL_QMX_GET_PARAM		DRM_IOWR(DRM_COMMAND_BASE + DRM_QMX_GET_PARAM, struct drm_qmx_get_param)
#define DRM_IOCTL_QMX_BO_CREATE		DRM_IOWR(DRM_COMMAND_BASE + DRM_QMX_BO_CREATE, struct drm_qmx_bo_create)
#define DRM_IOCTL_QMX_BO_MMAP_OFFSET	DRM_IOWR(DRM_COMMAND_BASE + DRM_QMX_BO_MMAP_OFFSET, struct drm_qmx_bo_mmap_offset)
#define DRM_IOCTL_QMX_SUBMIT		DRM_IOWR(DRM_COMMAND_BASE + DRM_QMX_SUBMIT, struct drm_qmx_submit)
#define DRM_IOCTL_QMX_WAIT		DRM_IOWR(DRM_COMMAND_BASE + DRM_QMX_WAIT, struct drm_qmx_wait)
#define DRM_IOCTL_QMX_SUBMIT_BATCH	DRM_IOWR(DRM_COMMAND_BASE + DRM_QMX_SUBMIT_BATCH, struct drm_qmx_submit_batch)

/**
 * enum drm_qmx_param - what DRM_IOCTL_QMX_GET_PARAM reads
 *
 * @DRM_QMX_PARAM_MAGIC: identity register, 0x514D5831 ("QMX1")
 * @DRM_QMX_PARAM_VERSION: register-map version, major << 16 | minor
 * @DRM_QMX_PARAM_ARRAY_ROWS: rows of the MAC array
 * @DRM_QMX_PARAM_ARRAY_COLS: columns of the MAC array
 * @DRM_QMX_PARAM_CLOCK_KHZ: device clock in kHz
 * @DRM_QMX_PARAM_FEATURES: FEATURES register (QMX_FEATURES_* of qmx_regs.h)
 * @DRM_QMX_PARAM_MAX_DIM: largest M, N, K, LDA, LDB, LDC accepted
 * @DRM_QMX_PARAM_TRANSPORT: enum drm_qmx_transport
 * @DRM_QMX_PARAM_CNT_BUSY_CYCLES: device counter, cycles with a job running
 * @DRM_QMX_PARAM_CNT_STALL_CYCLES: device counter, busy cycles stalled
 * @DRM_QMX_PARAM_CNT_MACS: device counter, useful multiply-accumulates
 * @DRM_QMX_PARAM_CNT_SRAM_RD_BYTES: device counter, on-chip bytes read
 * @DRM_QMX_PARAM_CNT_SRAM_WR_BYTES: device counter, on-chip bytes written
 * @DRM_QMX_PARAM_CNT_EXT_RD_BYTES: device counter, external bytes read
 * @DRM_QMX_PARAM_CNT_EXT_WR_BYTES: device counter, external bytes written
 * @DRM_QMX_PARAM_CNT_JOBS: device counter, jobs completed
 * @DRM_QMX_PARAM_ENERGY_UJ: device energy since the driver bound, in µJ
 * @DRM_QMX_PARAM_ENERGY_MODELLED: 1 when ENERGY_UJ is modelled from the
 *	activity counters (cosim, cards without a power sensor), 0 if measured
 * @DRM_QMX_PARAM_BUS: BUS register (AXI data and address width)
 */
enum drm_qmx_param {
	DRM_QMX_PARAM_MAGIC = 0,
	DRM_QMX_PARAM_VERSION = 1,
	DRM_QMX_PARAM_ARRAY_ROWS = 2,
	DRM_QMX_PARAM_ARRAY_COLS = 3,
	DRM_QMX_PARAM_CLOCK_KHZ = 4,
	DRM_QMX_PARAM_FEATURES = 5,
	DRM_QMX_PARAM_MAX_DIM = 6,
	DRM_QMX_PARAM_TRANSPORT = 7,
	DRM_QMX_PARAM_CNT_BUSY_CYCLES = 8,
	DRM_QMX_PARAM_CNT_STALL_CYCLES = 9,
	DRM_QMX_PARAM_CNT_MACS = 10,
	DRM_QMX_PARAM_CNT_SRAM_RD_BYTES = 11,
	DRM_QMX_PARAM_CNT_SRAM_WR_BYTES = 12,
	DRM_QMX_PARAM_CNT_EXT_RD_BYTES = 13,
	DRM_QMX_PARAM_CNT_EXT_WR_BYTES = 14,
	DRM_QMX_PARAM_CNT_JOBS = 15,
	DRM_QMX_PARAM_ENERGY_UJ = 16,
	DRM_QMX_PARAM_ENERGY_MODELLED = 17,
	DRM_QMX_PARAM_BUS = 18,
};

/**
 * enum drm_qmx_transport - how the driver reaches the device
 *
 * @DRM_QMX_TRANSPORT_PCI: PCI(e) FPGA card running the qmx bitstream
 * @DRM_QMX_TRANSPORT_PLATFORM: SoC FPGA, device-tree platform device
 * @DRM_QMX_TRANSPORT_COSIM: QEMU ivshmem to the qmx-simd Verilator model
 */
enum drm_qmx_transport {
	DRM_QMX_TRANSPORT_PCI = 1,
	DRM_QMX_TRANSPORT_PLATFORM = 2,
	DRM_QMX_TRANSPORT_COSIM = 3,
};

/**
 * struct drm_qmx_get_param - read one device parameter or counter
 */
struct drm_qmx_get_param {
	/** @param: Input, enum drm_qmx_param. */
	__u32 param;
	/** @pad: Input, must be zero. */
	__u32 pad;
	/** @value: Output, the value. */
	__u64 value;
};

/**
 * struct drm_qmx_bo_create - allocate a buffer object (shmem-backed)
 *
 * The BO is zero-filled.  Share it with DRM PRIME export; importing foreign
 * dma-bufs is not supported.  The live BOs an fd created are bounded by the
 * module parameter file_bo_limit_mb (half of RAM by default): past it,
 * -ENOSPC.
 */
struct drm_qmx_bo_create {
	/** @size: Input, bytes, > 0; rounded up to the page size. */
	__u64 size;
	/** @flags: Input, must be zero. */
	__u32 flags;
	/** @handle: Output, GEM handle of the new object. */
	__u32 handle;
};

/**
 * struct drm_qmx_bo_mmap_offset - fake offset to mmap a BO on this fd
 */
struct drm_qmx_bo_mmap_offset {
	/** @handle: Input, GEM handle. */
	__u32 handle;
	/** @pad: Input, must be zero. */
	__u32 pad;
	/** @offset: Output, offset to pass to mmap(2) on the DRM fd. */
	__u64 offset;
};

/**
 * struct drm_qmx_operand - a place in a buffer object
 */
struct drm_qmx_operand {
	/** @handle: Input, GEM handle; 0 for an operand the job does not use. */
	__u32 handle;
	/** @pad: Input, must be zero. */
	__u32 pad;
	/** @offset: Input, byte offset of the operand inside the BO. */
	__u64 offset;
};

/* drm_qmx_gemm.out_type */
#define DRM_QMX_OUT_INT32	0
#define DRM_QMX_OUT_INT8	1
/* drm_qmx_gemm.quant_mode */
#define DRM_QMX_QUANT_PER_TENSOR	0
#define DRM_QMX_QUANT_PER_CHANNEL	1

/**
 * struct drm_qmx_gemm - one quantized GEMM, C (M x N) = A (M x K) * B (K x N)
 *
 * Semantics and ranges are those of qmx_gemm_params in libqmx's qmx.h; the
 * kernel validates them the same way and checks that each operand's extent,
 * computed from the shape, lies inside its BO:
 * A: (m - 1) * lda + k bytes; B: (k - 1) * ldb + n bytes; C: ((m - 1) * ldc +
 * n) * (1 or 4) bytes; bias, multipliers, shifts: 4 * n bytes when used.
 */
struct drm_qmx_gemm {
	/** @m: Input, rows of A and C, 1 .. MAX_DIM. */
	__u64 m;
	/** @n: Input, columns of B and C, 1 .. MAX_DIM. */
	__u64 n;
	/** @k: Input, columns of A, rows of B, 1 .. MAX_DIM. */
	__u64 k;
	/** @lda: Input, row stride of A in elements, k .. MAX_DIM. */
	__u64 lda;
	/** @ldb: Input, row stride of B in elements, n .. MAX_DIM. */
	__u64 ldb;
	/** @ldc: Input, row stride of C in elements, n .. MAX_DIM. */
	__u64 ldc;
	/** @a_zero_point: Input, [-128, 127]. */
	__s32 a_zero_point;
	/** @b_zero_point: Input, [-128, 127]. */
	__s32 b_zero_point;
	/** @c_zero_point: Input, [-128, 127], int8 output only. */
	__s32 c_zero_point;
	/** @out_type: Input, DRM_QMX_OUT_INT32 or DRM_QMX_OUT_INT8. */
	__u32 out_type;
	/** @quant_mode: Input, DRM_QMX_QUANT_*, int8 output only. */
	__u32 quant_mode;
	/** @multiplier: Input, per-tensor multiplier, [0, 2^31 - 1]. */
	__s32 multiplier;
	/** @shift: Input, per-tensor shift, [-31, 30], positive = left. */
	__s32 shift;
	/** @qmin: Input, lower clamp, -128 <= qmin <= qmax. */
	__s32 qmin;
	/** @qmax: Input, upper clamp, qmax <= 127. */
	__s32 qmax;
	/** @has_bias: Input, 1 to add bias[j] (int32, N entries), else 0. */
	__u32 has_bias;
	/** @a: Input, int8 A. */
	struct drm_qmx_operand a;
	/** @b: Input, int8 B. */
	struct drm_qmx_operand b;
	/** @c: Input, output C (int8 or int32 per @out_type); written. */
	struct drm_qmx_operand c;
	/** @bias: Input, int32[N]; only when @has_bias. */
	struct drm_qmx_operand bias;
	/** @multipliers: Input, int32[N]; only for per-channel int8 output. */
	struct drm_qmx_operand multipliers;
	/** @shifts: Input, int32[N]; only for per-channel int8 output. */
	struct drm_qmx_operand shifts;
};

/**
 * struct drm_qmx_submit - queue one GEMM job
 *
 * The job holds a reference on every BO it names until it completes or
 * times out, so closing the fd (or killing the process) with jobs in flight
 * is safe.  From SUBMIT until then the BOs are pinned for the device; pinned
 * memory is bounded per fd and per device (module parameters
 * file_pin_limit_mb and pin_limit_mb: half of, and a quarter of RAM by
 * default), and a SUBMIT past a limit fails with -ENOSPC.  Jobs of one fd run in submission order; order across fds with
 * @in_sync/@out_sync.
 *
 * @in_sync and @out_sync may be binary or timeline syncobjs
 * (DRM_CAP_SYNCOBJ_TIMELINE): a non-zero @in_sync_point waits for that point
 * of the timeline (it must have been submitted already), a non-zero
 * @out_sync_point adds the job's fence as that point.  Userspace built
 * before the point fields existed passes a shorter struct; the DRM core
 * zero-fills the rest, which means binary syncobjs.
 *
 * Errors: -EINVAL for a malformed descriptor (the kernel log names the field
 * with drm.debug=0x2) or an @in_sync_point not submitted yet, -ENOENT for an
 * unknown BO or syncobj handle,
 * -EOPNOTSUPP for an output mode, per-channel quantization or bias the
 * device's FEATURES register does not offer, -EBUSY with 1024 unfinished
 * jobs on the fd, -ENOSPC past a pinned-memory limit, -ENODEV once the
 * device is lost or being unbound.
 */
struct drm_qmx_submit {
	/** @gemm_ptr: Input, user pointer to a struct drm_qmx_gemm. */
	__u64 gemm_ptr;
	/** @gemm_struct_size: Input, sizeof(struct drm_qmx_gemm) as built. */
	__u32 gemm_struct_size;
	/** @in_sync: Input, syncobj to wait on before running, or 0. */
	__u32 in_sync;
	/** @out_sync: Input, syncobj to signal on completion, or 0. */
	__u32 out_sync;
	/** @flags: Input, must be zero. */
	__u32 flags;
	/** @job_id: Output, id of the job for DRM_IOCTL_QMX_WAIT (never 0). */
	__u64 job_id;
	/** @reserved: Input, must be zero. */
	__u64 reserved;
	/** @in_sync_point: Input, timeline point of @in_sync, or 0 (binary). */
	__u64 in_sync_point;
	/** @out_sync_point: Input, timeline point of @out_sync, or 0 (binary). */
	__u64 out_sync_point;
};

/* Most entries of one DRM_IOCTL_QMX_SUBMIT_BATCH. */
#define DRM_QMX_BATCH_MAX_ENTRIES	4096
/* drm_qmx_batch_entry.wait_for: no dependency. */
#define DRM_QMX_NO_WAIT			(-1)

/**
 * struct drm_qmx_batch_entry - one GEMM of a batch
 */
struct drm_qmx_batch_entry {
	/** @gemm: Input, the GEMM, checked as for DRM_IOCTL_QMX_SUBMIT. */
	struct drm_qmx_gemm gemm;
	/**
	 * @wait_for: Input, index of an earlier entry of the same batch this
	 * one runs after (its output feeds this one), or DRM_QMX_NO_WAIT.  If
	 * that entry fails, this one is not run and ends HW_ERROR with
	 * hw_error QMX_ERROR_DEP_FAILED.
	 */
	__s32 wait_for;
	/** @flags: Input, must be zero. */
	__u32 flags;
};

/**
 * struct drm_qmx_submit_batch - queue a batch of GEMMs as one job
 *
 * The entries run in index order on the device's command queue, back to
 * back with no host involvement between them (one doorbell for the batch,
 * one interrupt when the queue drains).  The batch is one job: one id for
 * DRM_IOCTL_QMX_WAIT (which also returns each entry's stats through
 * &drm_qmx_wait.entries_ptr) and one fence for @out_sync.  Ownership,
 * pinning, syncobjs and errors are as for DRM_IOCTL_QMX_SUBMIT; an entry
 * that fails the checks fails the whole ioctl with nothing queued (the
 * kernel log names the entry index and the field with drm.debug=0x2).
 *
 * After a device hang (timeout and reset), the entry that hung ends
 * TIMEOUT and every entry behind it on the queue - of this batch and of
 * later batches - ends CANCELED without being run; none is re-run, the
 * caller decides what to resubmit.
 */
struct drm_qmx_submit_batch {
	/** @entries_ptr: Input, user pointer to @count entries. */
	__u64 entries_ptr;
	/** @entry_struct_size: Input, sizeof(struct drm_qmx_batch_entry) as built (the array stride). */
	__u32 entry_struct_size;
	/** @count: Input, entries, 1 .. DRM_QMX_BATCH_MAX_ENTRIES. */
	__u32 count;
	/** @in_sync: Input, syncobj to wait on before running, or 0. */
	__u32 in_sync;
	/** @out_sync: Input, syncobj to signal when every entry ended, or 0. */
	__u32 out_sync;
	/** @in_sync_point: Input, timeline point of @in_sync, or 0 (binary). */
	__u64 in_sync_point;
	/** @out_sync_point: Input, timeline point of @out_sync, or 0 (binary). */
	__u64 out_sync_point;
	/** @flags: Input, must be zero. */
	__u32 flags;
	/** @pad: Input, must be zero. */
	__u32 pad;
	/** @job_id: Output, id of the batch for DRM_IOCTL_QMX_WAIT (never 0). */
	__u64 job_id;
};

/**
 * enum drm_qmx_job_status - how a job ended
 *
 * @DRM_QMX_JOB_PENDING: not finished yet
 * @DRM_QMX_JOB_DONE: finished, results valid
 * @DRM_QMX_JOB_HW_ERROR: the device reported an error, see @hw_error
 * @DRM_QMX_JOB_TIMEOUT: the job exceeded the timeout; the device was reset
 * @DRM_QMX_JOB_CANCELED: not run: a dependency failed, its fd closed, or it
 *	was queued behind a job that hung (the device was reset; not re-run)
 * @DRM_QMX_JOB_DEVICE_LOST: ended because the device went away (unbound,
 *	removed, or stopped answering); fence error -ENODEV.  On unbind every
 *	job of the device ends so before its ioctls start failing with -ENODEV
 */
enum drm_qmx_job_status {
	DRM_QMX_JOB_PENDING = 0,
	DRM_QMX_JOB_DONE = 1,
	DRM_QMX_JOB_HW_ERROR = 2,
	DRM_QMX_JOB_TIMEOUT = 3,
	DRM_QMX_JOB_CANCELED = 4,
	DRM_QMX_JOB_DEVICE_LOST = 5,
};

/**
 * struct drm_qmx_job_stats - what one job cost (Output of DRM_IOCTL_QMX_WAIT)
 *
 * Counters are the device's activity-counter deltas over the job.
 */
struct drm_qmx_job_stats {
	/** @status: Output, enum drm_qmx_job_status. */
	__u32 status;
	/** @hw_error: Output, ERROR register (QMX_ERROR_* of qmx_regs.h). */
	__u32 hw_error;
	/** @error_addr: Output, device address of a failing AXI transfer. */
	__u64 error_addr;
	/** @submit_ns: Output, CLOCK_MONOTONIC ns when submitted. */
	__u64 submit_ns;
	/** @start_ns: Output, CLOCK_MONOTONIC ns when started on the device. */
	__u64 start_ns;
	/** @end_ns: Output, CLOCK_MONOTONIC ns when completion was seen. */
	__u64 end_ns;
	/** @busy_cycles: Output, device cycles with the job in progress. */
	__u64 busy_cycles;
	/** @stall_cycles: Output, busy cycles the array waited. */
	__u64 stall_cycles;
	/** @macs: Output, multiply-accumulates. */
	__u64 macs;
	/** @sram_rd_bytes: Output, on-chip buffer bytes read. */
	__u64 sram_rd_bytes;
	/** @sram_wr_bytes: Output, on-chip buffer bytes written. */
	__u64 sram_wr_bytes;
	/** @ext_rd_bytes: Output, external memory bytes read. */
	__u64 ext_rd_bytes;
	/** @ext_wr_bytes: Output, external memory bytes written. */
	__u64 ext_wr_bytes;
	/** @energy_nj: Output, device energy of the job in nJ. */
	__u64 energy_nj;
	/** @energy_modelled: Output, 1 if @energy_nj is modelled, 0 if measured. */
	__u32 energy_modelled;
	/** @clock_khz: Output, device clock the cycles count. */
	__u32 clock_khz;
};

/* drm_qmx_wait.flags */
/* Wait on @syncobj instead of @job_id (no stats are returned). */
#define DRM_QMX_WAIT_SYNCOBJ	(1u << 0)

/**
 * struct drm_qmx_wait - wait for a job (or a syncobj) and fetch its stats
 *
 * Returns 0 once the job finished (whatever its status: read
 * &drm_qmx_job_stats.status), -ETIME if @timeout_ns elapsed first, -ENOENT
 * for a job id this fd does not know (ids of the last 1024 jobs are kept).
 * @timeout_ns is updated with the time left, so an interrupted wait restarts
 * where it stopped.
 */
struct drm_qmx_wait {
	/** @job_id: Input, id returned by DRM_IOCTL_QMX_SUBMIT. */
	__u64 job_id;
	/** @syncobj: Input, syncobj handle with DRM_QMX_WAIT_SYNCOBJ, else 0. */
	__u32 syncobj;
	/** @flags: Input, DRM_QMX_WAIT_*. */
	__u32 flags;
	/** @timeout_ns: Input/Output, relative timeout in ns (0 = poll). */
	__s64 timeout_ns;
	/** @stats_ptr: Input, user pointer to a struct drm_qmx_job_stats, or 0. */
	__u64 stats_ptr;
	/**
	 * @stats_struct_size: Input, sizeof(struct drm_qmx_job_stats) as built,
	 * at most 4096; bytes past the kernel's struct are zeroed.
	 */
	__u32 stats_struct_size;
	/** @pad: Input, must be zero. */
	__u32 pad;
	/**
	 * @entries_ptr: Input, user pointer to @entries_count struct
	 * drm_qmx_job_stats of stride @stats_struct_size (which must be set),
	 * filled with each entry's stats of a batch (a single SUBMIT is a
	 * batch of one); or 0.  @stats_ptr then gets the whole job: the status
	 * and hw_error of its first entry that did not end DONE, counters and
	 * energy summed.
	 */
	__u64 entries_ptr;
	/** @entries_count: Input, entries at @entries_ptr, at most the job's entries. */
	__u32 entries_count;
	/** @pad2: Input, must be zero. */
	__u32 pad2;
};

#if defined(__cplusplus)
}
#endif

#endif /* __QMX_ACCEL_H__ */
