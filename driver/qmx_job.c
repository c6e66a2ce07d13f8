// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The qmx authors */

#include <linux/dma-fence.h>
#include <linux/dma-fence-chain.h>
#include <linux/ktime.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>

#include "qmx_drv.h"
#include "qmx_extent.h"
#include "qmx_gem.h"
#include "qmx_hw.h"
#include "qmx_job.h"

#define QMX_STATS_STRUCT_SIZE_MAX 4096u

/* Same bound as the runtime's qmx_gemm_params_check(). */
#define QMX_DIM_LIMIT 0x7fffffffull

static const char *qmx_fence_get_driver_name(struct dma_fence *fence)
{
	return "qmx";
}

static const char *qmx_fence_get_timeline_name(struct dma_fence *fence)
{
	return "qmx-gemm";
}

static const struct dma_fence_ops qmx_fence_ops = {
	.get_driver_name = qmx_fence_get_driver_name,
	.get_timeline_name = qmx_fence_get_timeline_name,
};

/* No new work: the device is lost or being unbound. */
static bool qmx_job_refused(struct qmx_device *qdev)
{
	return qmx_hw_lost(qdev) || atomic_read(&qdev->going_away);
}

static inline struct qmx_job *to_qmx_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct qmx_job, base);
}

static void qmx_file_stats_release(struct kref *ref)
{
	kfree(container_of(ref, struct qmx_file_stats, refcount));
}

void qmx_file_stats_put(struct qmx_file_stats *fstats)
{
	kref_put(&fstats->refcount, qmx_file_stats_release);
}

/* The device is done with the job's BOs: unpin them, drop the references. */
static void qmx_job_put_bos(struct qmx_job *job)
{
	unsigned int i;

	for (i = 0; i < job->nr_bos; i++) {
		if (job->pinned[i])
			qmx_gem_unpin(job->qdev, to_qmx_bo(job->bos[i]));
		job->pinned[i] = false;
		drm_gem_object_put(job->bos[i]);
	}
	job->nr_bos = 0;
}

static void qmx_job_release(struct kref *ref)
{
	struct qmx_job *job = container_of(ref, struct qmx_job, refcount);

	qmx_job_put_bos(job);
	if (job->done_fence)
		dma_fence_put(job->done_fence);
	if (job->finished)
		dma_fence_put(job->finished);
	qmx_file_stats_put(job->fstats);
	kvfree(job->bos);
	kvfree(job->handles);
	kvfree(job->pinned);
	kvfree(job->entries);
	kfree(job);
}

static void qmx_job_put(struct qmx_job *job)
{
	kref_put(&job->refcount, qmx_job_release);
}

static int qmx_status_errno(u32 status)
{
	switch (status) {
	case DRM_QMX_JOB_HW_ERROR:
		return -EIO;
	case DRM_QMX_JOB_TIMEOUT:
		return -ETIMEDOUT;
	case DRM_QMX_JOB_CANCELED:
		return -ECANCELED;
	case DRM_QMX_JOB_DEVICE_LOST:
		return -ENODEV;
	}
	return 0;
}

/*
 * Every entry ended: sum the entries into the job's stats (status of the
 * first entry that did not end DONE), account, signal the hardware fence.
 * Called with job_lock held.
 */
void qmx_job_finish(struct qmx_device *qdev, struct qmx_job *job)
{
	struct drm_qmx_job_stats *st = &job->stats;
	const struct drm_qmx_job_stats *e;
	struct dma_fence *finished = &job->base.s_fence->finished;
	u32 status = DRM_QMX_JOB_DONE, i;
	u64 energy_fj = 0;
	int err;

	st->end_ns = ktime_get_ns();
	for (i = 0; i < job->nr_entries; i++) {
		e = &job->entries[i].stats;
		if (status == DRM_QMX_JOB_DONE && e->status != DRM_QMX_JOB_DONE) {
			status = e->status;
			st->hw_error = e->hw_error;
			st->error_addr = e->error_addr;
		}
		st->busy_cycles += e->busy_cycles;
		st->stall_cycles += e->stall_cycles;
		st->macs += e->macs;
		st->sram_rd_bytes += e->sram_rd_bytes;
		st->sram_wr_bytes += e->sram_wr_bytes;
		st->ext_rd_bytes += e->ext_rd_bytes;
		st->ext_wr_bytes += e->ext_wr_bytes;
		energy_fj += job->entries[i].energy_fj;
	}
	/* Rounded once, not per entry: a batch of small GEMMs adds up. */
	st->energy_nj = div_u64(energy_fj, 1000000);
	st->energy_modelled = qmx_hw_energy_modelled(qdev);
	st->clock_khz = qdev->info.clock_khz;
	st->status = status;

	for (i = 0; i < job->nr_bos; i++)
		qmx_gem_sync_for_cpu(qdev, to_qmx_bo(job->bos[i]));

	if (status == DRM_QMX_JOB_DONE)
		qdev->jobs_done++;
	else
		qdev->jobs_failed++;
	atomic64_add(st->end_ns - st->start_ns, &job->fstats->busy_ns);
	atomic64_add(st->busy_cycles, &job->fstats->cycles);
	atomic64_add(job->nr_entries, &job->fstats->jobs);

	err = qmx_status_errno(status);
	if (err) {
		dma_fence_set_error(job->done_fence, err);
		/*
		 * In a timeout the scheduler is stopped and the parent
		 * callbacks are gone: carry the error to the finished fence
		 * before its parent signals.
		 */
		if (qdev->in_recovery && !dma_fence_is_signaled(finished))
			dma_fence_set_error(finished, err);
	}
	if (!list_empty(&job->ring_node))
		list_del_init(&job->ring_node);
	if (qdev->active_job == job)
		qdev->active_job = NULL;
	dma_fence_signal(job->done_fence);
}

/* An entry's counter deltas into its stats. */
void qmx_job_stats_set_counters(struct drm_qmx_job_stats *st,
				const struct qmx_jobprog_counters *d)
{
	st->busy_cycles = d->busy_cycles;
	st->stall_cycles = d->stall_cycles;
	st->macs = d->macs;
	st->sram_rd_bytes = d->sram_rd_bytes;
	st->sram_wr_bytes = d->sram_wr_bytes;
	st->ext_rd_bytes = d->ext_rd_bytes;
	st->ext_wr_bytes = d->ext_wr_bytes;
}

/*
 * Entry @index of @job ended with @status (counters already in its stats).
 * True if this finished the job: its done fence signalled, so free_job (on
 * another thread) may drop the last reference; the caller must not touch
 * @job again.
 */
bool qmx_job_entry_end(struct qmx_device *qdev, struct qmx_job *job,
		       u32 index, u32 status)
{
	struct qmx_job_entry *e = &job->entries[index];
	struct drm_qmx_job_stats *st = &e->stats;
	struct qmx_jobprog_counters d = {
		.busy_cycles = st->busy_cycles,
		.stall_cycles = st->stall_cycles,
		.macs = st->macs,
		.sram_rd_bytes = st->sram_rd_bytes,
		.sram_wr_bytes = st->sram_wr_bytes,
		.ext_rd_bytes = st->ext_rd_bytes,
		.ext_wr_bytes = st->ext_wr_bytes,
	};

	if (e->done)
		return false;
	st->submit_ns = job->stats.submit_ns;
	st->end_ns = ktime_get_ns();
	if (!st->start_ns)
		st->start_ns = job->stats.start_ns ?: st->end_ns;
	/* A device that stopped answering, not the job, is the cause. */
	if (qmx_hw_lost(qdev) &&
	    (status == DRM_QMX_JOB_DONE || status == DRM_QMX_JOB_TIMEOUT))
		status = DRM_QMX_JOB_DEVICE_LOST;
	st->status = status;
	e->energy_fj = qmx_hw_energy_fj(qdev, &d);
	qdev->energy_fj += e->energy_fj;
	st->energy_nj = div_u64(e->energy_fj, 1000000);
	st->energy_modelled = qmx_hw_energy_modelled(qdev);
	st->clock_khz = qdev->info.clock_khz;
	e->done = true;
	if (++job->nr_done < job->nr_entries)
		return false;
	qmx_job_finish(qdev, job);
	return true;
}

/* End every entry of @job not ended yet with @status. */
static void qmx_job_end_rest(struct qmx_device *qdev, struct qmx_job *job,
			     u32 status)
{
	u32 i, n = job->nr_entries;

	for (i = 0; i < n && job->nr_done < n; i++) {
		if (qmx_job_entry_end(qdev, job, i, status))
			return;
	}
}

/* ------------------------------------------------- register path */

static void qmx_job_reg_start(struct qmx_device *qdev, struct qmx_job *job);

/*
 * Register path (a device without a command queue), with job_lock held:
 * the entry on the device ended; collect ERROR and the counters, then start
 * the next entry unless the device is gone.
 */
static void qmx_job_reg_end(struct qmx_device *qdev, struct qmx_job *job,
			    u32 status)
{
	u32 index = job->nr_written - 1;
	struct drm_qmx_job_stats *st = &job->entries[index].stats;
	struct qmx_jobprog_counters after, d;

	if (status == DRM_QMX_JOB_DONE) {
		st->hw_error = qmx_reg_read(qdev, ERROR);
		if (st->hw_error == U32_MAX && !qmx_hw_check_alive(qdev)) {
			status = DRM_QMX_JOB_DEVICE_LOST;
		} else if (st->hw_error != QMX_ERROR_NONE) {
			status = DRM_QMX_JOB_HW_ERROR;
			st->error_addr = qmx_reg_read(qdev, ERROR_ADDR_LO) |
				(u64)qmx_reg_read(qdev, ERROR_ADDR_HI) << 32;
			drm_dbg(&qdev->drm, "job %u entry %u: device error %s (%s) at 0x%llx\n",
				job->id, index, qmx_jobprog_error_name(st->hw_error),
				qmx_jobprog_error_text(st->hw_error),
				st->error_addr);
		}
		qmx_jobprog_ack(qmx_hw_jobprog_read32, qmx_hw_jobprog_write32, qdev);
		/* AP_DONE is clear-on-read. */
		qmx_reg_read(qdev, CTRL);
	}

	qmx_hw_read_counters(qdev, &after);
	qmx_jobprog_counters_delta(&job->before, &after, &d);
	/*
	 * Free-running counters never go back and a job is not 2^40 cycles
	 * (hours): anything else is a dead device's all-ones, not activity.
	 */
	if (after.busy_cycles < job->before.busy_cycles ||
	    after.macs < job->before.macs || d.busy_cycles >> 40) {
		drm_dbg(&qdev->drm, "job %u: counters unreadable, not accounted\n",
			job->id);
		memset(&d, 0, sizeof(d));
		qdev->counters_valid = false;
	} else {
		qdev->counters = after;
		qdev->counters_valid = !qmx_hw_lost(qdev);
	}
	qmx_job_stats_set_counters(st, &d);
	qdev->active_job = NULL;
	if (qmx_job_entry_end(qdev, job, index, status))
		return;
	if (status == DRM_QMX_JOB_DONE || status == DRM_QMX_JOB_HW_ERROR)
		qmx_job_reg_start(qdev, job);
	else
		qmx_job_end_rest(qdev, job, status == DRM_QMX_JOB_DEVICE_LOST ?
				 status : DRM_QMX_JOB_CANCELED);
}

/* Program and start the next entry (entries whose dependency failed end
 * DEP_FAILED without running). */
static void qmx_job_reg_start(struct qmx_device *qdev, struct qmx_job *job)
{
	struct qmx_job_entry *e;
	u32 i;

	while (job->nr_written < job->nr_entries) {
		i = job->nr_written++;
		e = &job->entries[i];
		if (e->wait_for >= 0 &&
		    job->entries[e->wait_for].stats.status != DRM_QMX_JOB_DONE) {
			e->stats.hw_error = QMX_ERROR_DEP_FAILED;
			if (qmx_job_entry_end(qdev, job, i, DRM_QMX_JOB_HW_ERROR))
				return;
			continue;
		}
		if (!qdev->counters_valid)
			qmx_hw_read_counters(qdev, &qdev->counters);
		job->before = qdev->counters;
		qmx_jobprog_write_gemm(&e->gemm, qmx_hw_jobprog_write32, qdev);
		e->stats.start_ns = ktime_get_ns();
		qdev->active_job = job;
		qmx_jobprog_start(qmx_hw_jobprog_read32, qmx_hw_jobprog_write32,
				  qdev, 1);
		if (qmx_hw_lost(qdev))
			qmx_job_reg_end(qdev, job, DRM_QMX_JOB_DEVICE_LOST);
		return;
	}
}

/*
 * Threaded interrupt handler body, shared by every transport.  With the
 * command queue: read ISR, acknowledge it, consume completion records from
 * memory - two register accesses however many jobs ended.
 */
irqreturn_t qmx_job_irq(struct qmx_device *qdev)
{
	const u32 events = QMX_ISR_DONE | QMX_ISR_READY | QMX_ISR_CQ;
	struct qmx_job *job;
	u32 isr;

	atomic64_inc(&qdev->irq_count);
	mutex_lock(&qdev->job_lock);
	isr = qmx_reg_read(qdev, ISR);
	if (isr == U32_MAX)
		qmx_hw_check_alive(qdev);
	if (qmx_hw_lost(qdev) || !(isr & events)) {
		mutex_unlock(&qdev->job_lock);
		return IRQ_NONE;
	}
	if (qdev->ring.bo) {
		/* Acknowledge first: a record written after the scan raises
		 * the interrupt again. */
		qmx_reg_write(qdev, ISR, isr & events);
		if (qmx_ring_reap(qdev))
			qdev->ring.irqs++;
		mutex_unlock(&qdev->job_lock);
		return IRQ_HANDLED;
	}
	job = qdev->active_job;
	if (job && qmx_jobprog_isr_done(isr)) {
		qmx_job_reg_end(qdev, job, DRM_QMX_JOB_DONE);
	} else {
		/* A stale event (e.g. READY): acknowledge and ignore. */
		qmx_reg_write(qdev, ISR, isr & events);
	}
	mutex_unlock(&qdev->job_lock);
	return IRQ_HANDLED;
}

static struct dma_fence *qmx_job_run(struct drm_sched_job *sched_job)
{
	struct qmx_job *job = to_qmx_job(sched_job);
	struct qmx_device *qdev = job->qdev;
	struct dma_fence *fence;
	unsigned int i;

	/* Canceled before it ran (a dependency failed, or the file closed). */
	if (sched_job->s_fence->finished.error) {
		job->stats.status = DRM_QMX_JOB_CANCELED;
		return NULL;
	}
	if (qmx_job_refused(qdev)) {
		job->stats.status = DRM_QMX_JOB_DEVICE_LOST;
		return ERR_PTR(-ENODEV);
	}

	fence = kzalloc(sizeof(*fence), GFP_KERNEL);
	if (!fence)
		return ERR_PTR(-ENOMEM);

	mutex_lock(&qdev->job_lock);
	dma_fence_init(fence, &qmx_fence_ops, &qdev->fence_lock,
		       qdev->fence_context, ++qdev->fence_seqno);
	job->done_fence = dma_fence_get(fence);

	for (i = 0; i < job->nr_bos; i++)
		qmx_gem_sync_for_device(qdev, to_qmx_bo(job->bos[i]));

	job->stats.start_ns = ktime_get_ns();
	if (qdev->ring.bo)
		qmx_ring_push(qdev, job);
	else
		qmx_job_reg_start(qdev, job);
	if (qmx_hw_lost(qdev) && job->nr_done < job->nr_entries) {
		if (qdev->ring.bo)
			list_del_init(&job->ring_node);
		qmx_job_end_rest(qdev, job, DRM_QMX_JOB_DEVICE_LOST);
	}
	mutex_unlock(&qdev->job_lock);

	return fence;
}

/*
 * Command queue: @job (the oldest on the device) overran the timeout.  True
 * if the queue is hung: no completion record arrived since the last look.
 * Records in memory whose interrupt has not come yet (coalesced, or lost)
 * are consumed here, and count as progress.
 */
static bool qmx_ring_hung(struct qmx_device *qdev, struct qmx_job *job)
{
	struct qmx_ring *r = &qdev->ring;

	if (list_empty(&job->ring_node))
		return false;
	if (qmx_ring_reap(qdev) || r->head != r->head_at_timeout) {
		drm_dbg(&qdev->drm, "job %u: still running, %u entries done since the last look\n",
			job->id, r->head - r->head_at_timeout);
		r->head_at_timeout = r->head;
		return false;
	}
	return true;
}

/*
 * Not a hang: the job stays on the device.  drm_sched took it off its
 * pending list for the handler; before DRM_GPU_SCHED_STAT_NO_HANG (6.17)
 * the driver puts it back itself, as etnaviv and v3d do, and the scheduler
 * re-arms the timeout.
 */
static enum drm_gpu_sched_stat qmx_job_not_hung(struct drm_sched_job *sched_job)
{
#ifdef QMX_HAVE_SCHED_STAT_NO_HANG
	return DRM_GPU_SCHED_STAT_NO_HANG;
#else
	struct drm_gpu_scheduler *sched = sched_job->sched;

	spin_lock(&sched->job_list_lock);
	list_add(&sched_job->list, &sched->pending_list);
	spin_unlock(&sched->job_list_lock);
	return DRM_GPU_SCHED_STAT_NOMINAL;
#endif
}

/*
 * The job overran the timeout.  Command queue: unless the queue still makes
 * progress, stop the scheduler, SOFT_RESET the device (which stops the
 * queue), end the entry it was on TIMEOUT and every entry behind it - of
 * every job on the ring - CANCELED (none is re-run), restart the queue
 * empty and the scheduler (which then retires every job it had on the
 * device: all ended).  Register path: abort the job with SOFT_RESET, or
 * finish it if only its interrupt got lost.
 */
static enum drm_gpu_sched_stat qmx_job_timedout(struct drm_sched_job *sched_job)
{
	struct qmx_job *job = to_qmx_job(sched_job);
	struct qmx_device *qdev = job->qdev;
	bool hung;
	int ret;

	if (qdev->ring.bo) {
		mutex_lock(&qdev->job_lock);
		hung = qmx_ring_hung(qdev, job);
		mutex_unlock(&qdev->job_lock);
		if (!hung)
			return qmx_job_not_hung(sched_job);
	}

	drm_sched_stop(&qdev->sched, sched_job);

	mutex_lock(&qdev->job_lock);
	qdev->in_recovery = true;
	if (qdev->ring.bo) {
		drm_warn(&qdev->drm, "job %u: no completion for %u ms, resetting the device\n",
			 job->id, qmx_job_timeout_ms);
		qdev->jobs_timedout++;
		qdev->resets++;
		ret = qmx_hw_reset(qdev);
		/* Records written before the reset still count. */
		qmx_ring_reap(qdev);
		/* A device that stopped answering, not the job, is the cause. */
		if (qmx_hw_lost(qdev))
			qmx_ring_fail_all(qdev, DRM_QMX_JOB_DEVICE_LOST,
					  DRM_QMX_JOB_DEVICE_LOST);
		else
			qmx_ring_fail_all(qdev, DRM_QMX_JOB_TIMEOUT,
					  DRM_QMX_JOB_CANCELED);
		if (!ret)
			ret = qmx_ring_hw_start(qdev);
		if (ret)
			drm_err(&qdev->drm, "device reset failed: %d\n", ret);
	} else if (qdev->active_job == job) {
		if (qmx_jobprog_isr_done(qmx_reg_read(qdev, ISR)) &&
		    !qmx_hw_lost(qdev)) {
			drm_warn(&qdev->drm, "job %u: done, but its interrupt was lost\n",
				 job->id);
			qdev->missed_irqs++;
			qmx_job_reg_end(qdev, job, DRM_QMX_JOB_DONE);
		} else {
			drm_warn(&qdev->drm, "job %u: timed out after %u ms, resetting the device\n",
				 job->id, qmx_job_timeout_ms);
			qdev->jobs_timedout++;
			qdev->resets++;
			ret = qmx_hw_reset(qdev);
			if (ret)
				drm_err(&qdev->drm, "device reset failed: %d\n", ret);
			qmx_job_reg_end(qdev, job, DRM_QMX_JOB_TIMEOUT);
		}
	}
	qdev->in_recovery = false;
	mutex_unlock(&qdev->job_lock);

#ifdef QMX_HAVE_SCHED_START_ERRNO
	drm_sched_start(&qdev->sched, 0);
#else
	drm_sched_start(&qdev->sched, true);
#endif
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

static void qmx_job_free(struct drm_sched_job *sched_job)
{
	struct qmx_job *job = to_qmx_job(sched_job);

	struct qmx_device *qdev = job->qdev;

	drm_sched_job_cleanup(sched_job);
	/* Drop the BOs now; the job record itself may live on for WAIT. */
	qmx_job_put_bos(job);
	qmx_job_put(job);
	if (atomic_dec_and_test(&qdev->jobs_inflight))
		wake_up_all(&qdev->jobs_idle);
}

static const struct drm_sched_backend_ops qmx_sched_ops = {
	.run_job = qmx_job_run,
	.timedout_job = qmx_job_timedout,
	.free_job = qmx_job_free,
};

static void qmx_job_sched_fini(struct drm_device *drm, void *data)
{
	struct qmx_device *qdev = data;

	drm_sched_fini(&qdev->sched);
}

/*
 * Jobs (batches) the scheduler hands to the device at once: one through
 * registers; with the command queue enough that the ring does not run dry
 * between them (entries past its free space wait on the host).
 */
#define QMX_RING_JOBS_INFLIGHT 16

int qmx_job_init(struct qmx_device *qdev)
{
	long timeout = msecs_to_jiffies(qmx_job_timeout_ms);
	u32 limit;
	int ret;

	spin_lock_init(&qdev->fence_lock);
	mutex_init(&qdev->job_lock);
	mutex_init(&qdev->submit_lock);
	init_waitqueue_head(&qdev->jobs_idle);
	qmx_gem_pin_limits_init(qdev);
	qdev->fence_context = dma_fence_context_alloc(1);

	ret = qmx_ring_init(qdev);
	if (ret)
		return ret;
	limit = qdev->ring.bo ? QMX_RING_JOBS_INFLIGHT : 1;

	{
#ifdef QMX_HAVE_SCHED_INIT_ARGS
		const struct drm_sched_init_args args = {
			.ops = &qmx_sched_ops,
			.credit_limit = limit,
			.hang_limit = 0,
			.timeout = timeout,
			.name = "qmx",
			.dev = qdev->drm.dev,
		};

		ret = drm_sched_init(&qdev->sched, &args);
#else
		ret = drm_sched_init(&qdev->sched, &qmx_sched_ops, limit, 0,
				     timeout, NULL, NULL, "qmx", qdev->drm.dev);
#endif
	}
	if (ret) {
		drm_err(&qdev->drm, "scheduler init failed: %d\n", ret);
		qmx_ring_fini(qdev);
		return ret;
	}
	/* Open files keep entities on it after unbind: fini at release. */
	return drmm_add_action_or_reset(&qdev->drm, qmx_job_sched_fini, qdev);
}

/*
 * The device is going away (unbind), and its ioctls will fail with -ENODEV
 * once it is unplugged: end every job first, so that waiters (WAIT, syncobjs,
 * sync_files) learn how their jobs ended.  The jobs on the device are stopped
 * with SOFT_RESET (no DMA into their BOs after they are released) and end as
 * DEVICE_LOST; queued jobs then fail the same way in qmx_job_run().  Jobs
 * still waiting on another device's fence end when it signals.  Called
 * before drm_dev_unplug(); the scheduler lives until the last file closes.
 */
void qmx_job_fini(struct qmx_device *qdev)
{
	long timeout = msecs_to_jiffies(qmx_job_timeout_ms + 1000);
	struct qmx_job *job;

	atomic_set(&qdev->going_away, 1);
	mutex_lock(&qdev->job_lock);
	if (qdev->ring.bo) {
		if (!qmx_hw_lost(qdev))
			qmx_hw_reset(qdev);
		qmx_ring_fail_all(qdev, DRM_QMX_JOB_DEVICE_LOST,
				  DRM_QMX_JOB_DEVICE_LOST);
	} else {
		job = qdev->active_job;
		if (job) {
			if (!qmx_hw_lost(qdev))
				qmx_hw_reset(qdev);
			qdev->active_job = NULL;
			qmx_job_end_rest(qdev, job, DRM_QMX_JOB_DEVICE_LOST);
		}
	}
	mutex_unlock(&qdev->job_lock);

	if (!wait_event_timeout(qdev->jobs_idle,
				!atomic_read(&qdev->jobs_inflight), timeout))
		drm_info(&qdev->drm, "unbind: %d job(s) still wait for other fences; they end with -ENODEV\n",
			 atomic_read(&qdev->jobs_inflight));
	atomic_set(&qdev->hw_lost, 1);
	/* Jobs that run from now on are refused: the ring is free to go. */
	qmx_ring_fini(qdev);
}

int qmx_job_open(struct qmx_file_priv *fpriv)
{
	struct drm_gpu_scheduler *sched = &fpriv->qdev->sched;
	int ret;

	fpriv->fstats = kzalloc(sizeof(*fpriv->fstats), GFP_KERNEL);
	if (!fpriv->fstats)
		return -ENOMEM;
	kref_init(&fpriv->fstats->refcount);
	xa_init_flags(&fpriv->jobs, XA_FLAGS_ALLOC1);
	mutex_init(&fpriv->jobs_lock);

	ret = drm_sched_entity_init(&fpriv->entity, DRM_SCHED_PRIORITY_NORMAL,
				    &sched, 1, NULL);
	if (ret)
		goto err_free_stats;
	return 0;

err_free_stats:
	kfree(fpriv->fstats);
	return ret;
}

void qmx_job_close(struct qmx_file_priv *fpriv)
{
	struct qmx_job *job;
	unsigned long id;

	/* Kills queued jobs of a dying process; running ones finish or time out. */
	drm_sched_entity_destroy(&fpriv->entity);

	/*
	 * The entity lives in @fpriv, freed when this returns, so the scheduler
	 * must be done with it first.  The scheduler thread touches the entity
	 * until just after run_job returns (it completes entity->entity_idle);
	 * the job's finished fence is signalled only after that.  Kernels 6.2+
	 * wait for entity_idle in drm_sched_entity_fini() on their own, but
	 * 6.1 does so only while the entity's queue is non-empty: when the
	 * scheduler has already popped the file's last job and is inside
	 * qmx_job_run, destroy returns at once.  Waiting for the finished
	 * fence of the newest job pushed covers every kernel: a popped job
	 * signals it after entity_idle, a killed one after the popped job
	 * before it.  Not entity_idle itself: on 6.1 it counts completions,
	 * and a second wait after fini's would never return.  The wait is
	 * bounded by the job timeout: a hung job is reset and completed by
	 * qmx_job_timedout(), a lost device's by qmx_job_fini().
	 */
	if (fpriv->last_finished) {
		dma_fence_wait(fpriv->last_finished, false);
		dma_fence_put(fpriv->last_finished);
		fpriv->last_finished = NULL;
	}

	xa_for_each(&fpriv->jobs, id, job)
		qmx_job_put(job);
	xa_destroy(&fpriv->jobs);
	mutex_destroy(&fpriv->jobs_lock);
	qmx_file_stats_put(fpriv->fstats);
}

/* ------------------------------------------------------------- SUBMIT */

static int qmx_check_range(struct qmx_device *qdev, const char *name, s64 v,
			   s64 lo, s64 hi)
{
	if (v < lo || v > hi) {
		drm_dbg(&qdev->drm, "submit: %s (%lld) not in [%lld, %lld]\n",
			name, v, lo, hi);
		return -EINVAL;
	}
	return 0;
}

/* A job must not ask for what the bitstream does not have. */
static int qmx_gemm_check_features(struct qmx_device *qdev,
				   const struct drm_qmx_gemm *g)
{
	u32 f = qdev->info.features;
	const char *field = NULL;

	if (g->out_type == DRM_QMX_OUT_INT32 && !(f & QMX_FEATURES_INT32_OUT))
		field = "out_type INT32";
	else if (g->out_type == DRM_QMX_OUT_INT8 && !(f & QMX_FEATURES_INT8_OUT))
		field = "out_type INT8";
	else if (g->out_type == DRM_QMX_OUT_INT8 &&
		 g->quant_mode == DRM_QMX_QUANT_PER_CHANNEL &&
		 !(f & QMX_FEATURES_PER_CHANNEL))
		field = "quant_mode PER_CHANNEL";
	else if (g->has_bias && !(f & QMX_FEATURES_BIAS))
		field = "has_bias";
	if (field) {
		drm_dbg(&qdev->drm, "submit: %s not supported by this device (FEATURES 0x%x)\n",
			field, f);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Mirrors qmx_gemm_params_check() of the runtime, plus the device limit. */
static int qmx_gemm_check(struct qmx_device *qdev, const struct drm_qmx_gemm *g)
{
	u64 limit = min_t(u64, QMX_DIM_LIMIT, qdev->info.max_dim);
	const struct {
		const char *name;
		u64 v, min;
		const char *min_name;
	} dims[] = {
		{ "m", g->m, 1, "1" },
		{ "n", g->n, 1, "1" },
		{ "k", g->k, 1, "1" },
		{ "lda", g->lda, g->k, "k" },
		{ "ldb", g->ldb, g->n, "n" },
		{ "ldc", g->ldc, g->n, "n" },
	};
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(dims); i++) {
		if (dims[i].v < dims[i].min) {
			drm_dbg(&qdev->drm, "submit: %s (%llu) < %s (%llu)\n",
				dims[i].name, dims[i].v, dims[i].min_name,
				dims[i].min);
			return -EINVAL;
		}
		if (dims[i].v > limit) {
			drm_dbg(&qdev->drm, "submit: %s (%llu) > max_dim (%llu)\n",
				dims[i].name, dims[i].v, limit);
			return -EINVAL;
		}
	}

	ret = qmx_check_range(qdev, "a_zero_point", g->a_zero_point, -128, 127);
	if (!ret)
		ret = qmx_check_range(qdev, "b_zero_point", g->b_zero_point,
				      -128, 127);
	if (ret)
		return ret;
	if (g->out_type != DRM_QMX_OUT_INT32 && g->out_type != DRM_QMX_OUT_INT8) {
		drm_dbg(&qdev->drm, "submit: out_type (%u) is not INT32 (0) or INT8 (1)\n",
			g->out_type);
		return -EINVAL;
	}
	if (g->has_bias > 1) {
		drm_dbg(&qdev->drm, "submit: has_bias (%u) must be 0 or 1\n",
			g->has_bias);
		return -EINVAL;
	}
	if (g->out_type != DRM_QMX_OUT_INT8)
		return 0;

	if (g->quant_mode != DRM_QMX_QUANT_PER_TENSOR &&
	    g->quant_mode != DRM_QMX_QUANT_PER_CHANNEL) {
		drm_dbg(&qdev->drm, "submit: quant_mode (%u) is not PER_TENSOR (0) or PER_CHANNEL (1)\n",
			g->quant_mode);
		return -EINVAL;
	}
	ret = qmx_check_range(qdev, "c_zero_point", g->c_zero_point, -128, 127);
	if (!ret)
		ret = qmx_check_range(qdev, "qmin", g->qmin, -128, 127);
	if (!ret)
		ret = qmx_check_range(qdev, "qmax", g->qmax, -128, 127);
	if (ret)
		return ret;
	if (g->qmin > g->qmax) {
		drm_dbg(&qdev->drm, "submit: qmin (%d) > qmax (%d)\n",
			g->qmin, g->qmax);
		return -EINVAL;
	}
	if (g->quant_mode == DRM_QMX_QUANT_PER_TENSOR) {
		ret = qmx_check_range(qdev, "multiplier", g->multiplier, 0,
				      S32_MAX);
		if (!ret)
			ret = qmx_check_range(qdev, "shift", g->shift, -31, 30);
	}
	return ret;
}

/*
 * Look an operand's BO up, prove [offset, offset + extent) lies inside it,
 * map it for the device and return the operand's device address.
 */
static int qmx_job_add_operand(struct qmx_job *job, struct drm_file *file,
			       const char *name,
			       const struct drm_qmx_operand *op, u64 extent,
			       u64 *dev_addr)
{
	struct qmx_device *qdev = job->qdev;
	struct drm_gem_object *obj = NULL;
	unsigned int i;
	u64 end, base;
	int ret;

	if (op->pad) {
		drm_dbg(&qdev->drm, "submit: %s.pad must be 0\n", name);
		return -EINVAL;
	}
	/* A BO several entries (or operands) name is looked up and pinned once. */
	for (i = 0; i < job->nr_bos; i++) {
		if (job->handles[i] == op->handle) {
			obj = job->bos[i];
			break;
		}
	}
	if (!obj) {
		obj = drm_gem_object_lookup(file, op->handle);
		if (!obj) {
			drm_dbg(&qdev->drm, "submit: %s.handle %u not found\n",
				name, op->handle);
			return -ENOENT;
		}
		/* The job owns the reference from here on, even on error. */
		i = job->nr_bos++;
		job->bos[i] = obj;
		job->handles[i] = op->handle;
	}

	if (check_add_overflow(op->offset, extent, &end) || end > obj->size) {
		drm_dbg(&qdev->drm, "submit: %s: offset %llu + extent %llu exceeds BO size %zu\n",
			name, op->offset, extent, obj->size);
		return -EINVAL;
	}
	if (!job->pinned[i]) {
		ret = qmx_gem_pin(qdev, to_qmx_bo(obj), job->fstats, &base);
		if (ret) {
			drm_dbg(&qdev->drm, "submit: %s: pinning and mapping the BO for the device failed: %d\n",
				name, ret);
			return ret;
		}
		job->pinned[i] = true;
	}
	/* Pinned by this job: the address is stable until it ends. */
	*dev_addr = to_qmx_bo(obj)->dev_addr + op->offset;
	return 0;
}

static int qmx_job_unused_operand(struct qmx_device *qdev, const char *name,
				  const struct drm_qmx_operand *op)
{
	if (op->handle || op->pad || op->offset) {
		drm_dbg(&qdev->drm, "submit: %s is not used by this job and must be all zero\n",
			name);
		return -EINVAL;
	}
	return 0;
}

static int qmx_job_prepare(struct qmx_job *job, struct drm_file *file,
			   const struct drm_qmx_gemm *g, struct qmx_jobprog_gemm *p)
{
	struct qmx_device *qdev = job->qdev;
	bool int8 = g->out_type == DRM_QMX_OUT_INT8;
	bool per_channel = int8 && g->quant_mode == DRM_QMX_QUANT_PER_CHANNEL;
	struct qmx_extent_gemm shape;
	struct qmx_extent_bytes ext;
	struct qmx_extent_error xerr;
	u64 ext_a, ext_b, ext_c;
	int ret;

	ret = qmx_gemm_check(qdev, g);
	if (!ret)
		ret = qmx_gemm_check_features(qdev, g);
	if (ret)
		return ret;
	/* Dimensions were checked above; the shared helper (hw/include)
	 * computes the extents in checked 64-bit arithmetic. */
	shape.m = g->m;
	shape.n = g->n;
	shape.k = g->k;
	shape.lda = g->lda;
	shape.ldb = g->ldb;
	shape.ldc = g->ldc;
	shape.out_int8 = int8;
	shape.has_bias = g->has_bias;
	shape.per_channel = per_channel;
	if (qmx_extent_gemm_check(&shape, U64_MAX, U64_MAX, &ext, &xerr)) {
		drm_dbg(&qdev->drm, "submit: %s: extent overflows 64 bits\n",
			xerr.field);
		return -EINVAL;
	}
	ext_a = ext.bytes[QMX_OPERAND_A];
	ext_b = ext.bytes[QMX_OPERAND_B];
	ext_c = ext.bytes[QMX_OPERAND_C];

	ret = qmx_job_add_operand(job, file, "a", &g->a, ext_a, &p->a_addr);
	if (ret)
		return ret;
	ret = qmx_job_add_operand(job, file, "b", &g->b, ext_b, &p->b_addr);
	if (ret)
		return ret;
	ret = qmx_job_add_operand(job, file, "c", &g->c, ext_c, &p->c_addr);
	if (ret)
		return ret;
	if (g->has_bias)
		ret = qmx_job_add_operand(job, file, "bias", &g->bias,
					  ext.bytes[QMX_OPERAND_BIAS],
					  &p->bias_addr);
	else
		ret = qmx_job_unused_operand(qdev, "bias", &g->bias);
	if (ret)
		return ret;
	if (per_channel) {
		ret = qmx_job_add_operand(job, file, "multipliers",
					  &g->multipliers,
					  ext.bytes[QMX_OPERAND_MULTIPLIERS],
					  &p->mult_addr);
		if (!ret)
			ret = qmx_job_add_operand(job, file, "shifts",
						  &g->shifts,
						  ext.bytes[QMX_OPERAND_SHIFTS],
						  &p->shift_addr);
	} else {
		ret = qmx_job_unused_operand(qdev, "multipliers",
					     &g->multipliers);
		if (!ret)
			ret = qmx_job_unused_operand(qdev, "shifts",
						     &g->shifts);
	}
	if (ret)
		return ret;

	/* Checked against max_dim (<= 2^31 - 1) above, so they fit. */
	p->m = g->m;
	p->n = g->n;
	p->k = g->k;
	p->lda = g->lda;
	p->ldb = g->ldb;
	p->ldc = g->ldc;
	p->a_zero_point = g->a_zero_point;
	p->b_zero_point = g->b_zero_point;
	p->out_int8 = int8;
	p->per_channel = per_channel;
	p->has_bias = g->has_bias;
	/* Defaults the device validates even when it does not use them. */
	p->c_zero_point = int8 ? g->c_zero_point : 0;
	p->qmin = int8 ? g->qmin : -128;
	p->qmax = int8 ? g->qmax : 127;
	p->multiplier = int8 && !per_channel ? g->multiplier : 0;
	p->shift = int8 && !per_channel ? g->shift : 0;
	return 0;
}

/* Forget the oldest finished job once a file keeps too many records. */
static int qmx_job_make_room(struct qmx_file_priv *fpriv)
{
	struct qmx_job *job;
	unsigned long id;

	if (fpriv->nr_jobs < QMX_JOB_RECORDS_MAX)
		return 0;
	xa_for_each(&fpriv->jobs, id, job) {
		if (job->finished && dma_fence_is_signaled(job->finished)) {
			xa_erase(&fpriv->jobs, id);
			fpriv->nr_jobs--;
			qmx_job_put(job);
			return 0;
		}
	}
	return -EBUSY;
}

/* What both SUBMIT ioctls queue: entries come from @next, one per call. */
struct qmx_submit_args {
	u32 count;
	u32 in_sync, out_sync;
	u64 in_sync_point, out_sync_point;
	/* Copy entry @i from userspace (validated by the caller after). */
	int (*next)(struct drm_device *dev, const void *data, u32 i,
		    struct drm_qmx_batch_entry *entry);
	const void *data;
};

static struct qmx_job *qmx_job_alloc(struct qmx_device *qdev,
				     struct qmx_file_priv *fpriv, u32 count)
{
	struct qmx_job *job;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return NULL;
	kref_init(&job->refcount);
	INIT_LIST_HEAD(&job->ring_node);
	job->qdev = qdev;
	job->fstats = fpriv->fstats;
	kref_get(&job->fstats->refcount);
	job->stats.submit_ns = ktime_get_ns();
	job->bos = kvcalloc(count * QMX_JOB_MAX_BOS, sizeof(*job->bos),
			    GFP_KERNEL);
	job->handles = kvcalloc(count * QMX_JOB_MAX_BOS, sizeof(*job->handles),
				GFP_KERNEL);
	job->pinned = kvcalloc(count * QMX_JOB_MAX_BOS, sizeof(*job->pinned),
			       GFP_KERNEL);
	job->entries = kvcalloc(count, sizeof(*job->entries), GFP_KERNEL);
	if (!job->bos || !job->handles || !job->pinned || !job->entries) {
		qmx_job_put(job);
		return NULL;
	}
	job->nr_entries = count;
	return job;
}

static int qmx_job_queue(struct drm_device *dev, struct drm_file *file,
			 const struct qmx_submit_args *args, u64 *job_id)
{
	struct qmx_device *qdev = to_qmx_device(dev);
	struct qmx_file_priv *fpriv = file->driver_priv;
	struct drm_syncobj *out_sync = NULL;
	struct dma_fence_chain *out_chain = NULL;
	struct drm_qmx_batch_entry entry;
	struct dma_fence *in_fence;
	struct qmx_job *job;
	u32 id, i;
	int ret;

	if (qmx_job_refused(qdev))
		return -ENODEV;
	job = qmx_job_alloc(qdev, fpriv, args->count);
	if (!job)
		return -ENOMEM;

	for (i = 0; i < args->count; i++) {
		ret = args->next(dev, args->data, i, &entry);
		if (!ret && entry.flags) {
			drm_dbg(dev, "submit: flags 0x%x must be 0\n", entry.flags);
			ret = -EINVAL;
		}
		if (!ret && entry.wait_for != DRM_QMX_NO_WAIT &&
		    (entry.wait_for < 0 || (u32)entry.wait_for >= i)) {
			drm_dbg(dev, "submit: wait_for (%d) is not -1 or an earlier entry's index in [0, %u)\n",
				entry.wait_for, i);
			ret = -EINVAL;
		}
		if (!ret)
			ret = qmx_job_prepare(job, file, &entry.gemm,
					      &job->entries[i].gemm);
		if (ret) {
			if (args->count > 1)
				drm_dbg(dev, "submit_batch: the error above is entry %u of %u\n",
					i, args->count);
			goto err_put_job;
		}
		job->entries[i].wait_for = entry.wait_for;
	}

	if ((args->in_sync_point && !args->in_sync) ||
	    (args->out_sync_point && !args->out_sync)) {
		drm_dbg(dev, "submit: a sync point needs its syncobj handle\n");
		ret = -EINVAL;
		goto err_put_job;
	}
	if (args->out_sync) {
		out_sync = drm_syncobj_find(file, args->out_sync);
		if (!out_sync) {
			drm_dbg(dev, "submit: out_sync %u not found\n",
				args->out_sync);
			ret = -ENOENT;
			goto err_put_job;
		}
	}

#ifdef QMX_HAVE_SCHED_JOB_CREDITS
	ret = drm_sched_job_init(&job->base, &fpriv->entity, 1, fpriv);
#else
	ret = drm_sched_job_init(&job->base, &fpriv->entity, fpriv);
#endif
	if (ret)
		goto err_put_syncobj;

	if (args->out_sync_point) {
		out_chain = dma_fence_chain_alloc();
		if (!out_chain) {
			ret = -ENOMEM;
			goto err_cleanup_job;
		}
	}
	if (args->in_sync) {
		ret = drm_syncobj_find_fence(file, args->in_sync,
					     args->in_sync_point, 0, &in_fence);
		if (ret) {
			drm_dbg(dev, "submit: in_sync %u point %llu: no such syncobj or no fence\n",
				args->in_sync, args->in_sync_point);
			goto err_cleanup_job;
		}
		ret = drm_sched_job_add_dependency(&job->base, in_fence);
		if (ret)
			goto err_cleanup_job;
	}

	mutex_lock(&fpriv->jobs_lock);
	ret = qmx_job_make_room(fpriv);
	if (ret) {
		drm_dbg(dev, "submit: %u jobs unfinished on this file\n",
			QMX_JOB_RECORDS_MAX);
		goto err_unlock_jobs;
	}
	/* Reserve the id; the entry becomes visible once the job is armed. */
	ret = xa_alloc_cyclic(&fpriv->jobs, &id, NULL, xa_limit_32b,
			      &fpriv->next_job_id, GFP_KERNEL);
	if (ret < 0)
		goto err_unlock_jobs;
	job->id = id;
	fpriv->nr_jobs++;

	mutex_lock(&qdev->submit_lock);
	drm_sched_job_arm(&job->base);
	job->finished = dma_fence_get(&job->base.s_fence->finished);
	kref_get(&job->refcount);
	xa_store(&fpriv->jobs, id, job, GFP_KERNEL);
	if (out_chain) {
		drm_syncobj_add_point(out_sync, out_chain, job->finished,
				      args->out_sync_point);
		out_chain = NULL;
	} else if (out_sync) {
		drm_syncobj_replace_fence(out_sync, job->finished);
	}
	qdev->jobs_submitted++;
	/* The scheduler's reference; dropped in free_job. */
	kref_get(&job->refcount);
	atomic_inc(&qdev->jobs_inflight);
	drm_sched_entity_push_job(&job->base);
	mutex_unlock(&qdev->submit_lock);
	dma_fence_put(fpriv->last_finished);
	fpriv->last_finished = dma_fence_get(job->finished);
	mutex_unlock(&fpriv->jobs_lock);

	*job_id = id;
	if (out_sync)
		drm_syncobj_put(out_sync);
	qmx_job_put(job);
	return 0;

err_unlock_jobs:
	mutex_unlock(&fpriv->jobs_lock);
err_cleanup_job:
	dma_fence_chain_free(out_chain);
	drm_sched_job_cleanup(&job->base);
err_put_syncobj:
	if (out_sync)
		drm_syncobj_put(out_sync);
err_put_job:
	qmx_job_put(job);
	return ret;
}

/* Copy a user struct of @size bytes (an older, shorter one zero-extended). */
static int qmx_copy_in(struct drm_device *dev, const char *what, void *dst,
		       size_t dst_size, u64 uptr, u32 size)
{
	int ret;

	if (size < dst_size) {
		drm_dbg(dev, "submit: %s_struct_size %u < %zu\n", what, size,
			dst_size);
		return -EINVAL;
	}
	ret = copy_struct_from_user(dst, dst_size, u64_to_user_ptr(uptr), size);
	if (ret == -E2BIG) {
		drm_dbg(dev, "submit: %s has non-zero bytes past the known %zu\n",
			what, dst_size);
		return -EINVAL;
	}
	return ret;
}

static int qmx_submit_next(struct drm_device *dev, const void *data, u32 i,
			   struct drm_qmx_batch_entry *entry)
{
	const struct drm_qmx_submit *args = data;

	memset(entry, 0, sizeof(*entry));
	entry->wait_for = DRM_QMX_NO_WAIT;
	return qmx_copy_in(dev, "gemm", &entry->gemm, sizeof(entry->gemm),
			   args->gemm_ptr, args->gemm_struct_size);
}

int qmx_ioctl_submit(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct drm_qmx_submit *args = data;
	struct qmx_submit_args q = {
		.count = 1,
		.in_sync = args->in_sync,
		.out_sync = args->out_sync,
		.in_sync_point = args->in_sync_point,
		.out_sync_point = args->out_sync_point,
		.next = qmx_submit_next,
		.data = args,
	};

	if (args->flags || args->reserved) {
		drm_dbg(dev, "submit: flags and reserved must be 0\n");
		return -EINVAL;
	}
	return qmx_job_queue(dev, file, &q, &args->job_id);
}

static int qmx_batch_next(struct drm_device *dev, const void *data, u32 i,
			  struct drm_qmx_batch_entry *entry)
{
	const struct drm_qmx_submit_batch *args = data;

	return qmx_copy_in(dev, "entry", entry, sizeof(*entry),
			   args->entries_ptr + (u64)i * args->entry_struct_size,
			   args->entry_struct_size);
}

int qmx_ioctl_submit_batch(struct drm_device *dev, void *data,
			   struct drm_file *file)
{
	struct drm_qmx_submit_batch *args = data;
	struct qmx_submit_args q = {
		.count = args->count,
		.in_sync = args->in_sync,
		.out_sync = args->out_sync,
		.in_sync_point = args->in_sync_point,
		.out_sync_point = args->out_sync_point,
		.next = qmx_batch_next,
		.data = args,
	};

	if (args->flags || args->pad) {
		drm_dbg(dev, "submit_batch: flags and pad must be 0\n");
		return -EINVAL;
	}
	if (!args->count || args->count > DRM_QMX_BATCH_MAX_ENTRIES) {
		drm_dbg(dev, "submit_batch: count (%u) not in [1, %u]\n",
			args->count, DRM_QMX_BATCH_MAX_ENTRIES);
		return -EINVAL;
	}
	if (args->entry_struct_size > PAGE_SIZE) {
		drm_dbg(dev, "submit_batch: entry_struct_size %u > %lu\n",
			args->entry_struct_size, PAGE_SIZE);
		return -EINVAL;
	}
	return qmx_job_queue(dev, file, &q, &args->job_id);
}

/* ------------------------------------------------------------- WAIT */

static int qmx_wait_fence(struct dma_fence *fence, struct drm_qmx_wait *args)
{
	ktime_t start = ktime_get();
	long timeout, ret;
	s64 left;

	if (!args->timeout_ns) {
		ret = dma_fence_is_signaled(fence) ? 1 : 0;
	} else {
		timeout = min_t(u64, nsecs_to_jiffies64(args->timeout_ns),
				MAX_SCHEDULE_TIMEOUT - 1);
		ret = dma_fence_wait_timeout(fence, true, timeout ?: 1);
	}
	left = args->timeout_ns - ktime_to_ns(ktime_sub(ktime_get(), start));
	args->timeout_ns = max_t(s64, left, 0);

	if (ret == 0) {
		args->timeout_ns = 0;
		return -ETIME;
	}
	return ret < 0 ? ret : 0;
}

static int qmx_copy_stats(void __user *uptr, u32 size,
			  const struct drm_qmx_job_stats *st)
{
	size_t n = min_t(size_t, size, sizeof(*st));

	if (copy_to_user(uptr, st, n))
		return -EFAULT;
	if (size > n && clear_user(uptr + n, size - n))
		return -EFAULT;
	return 0;
}

/* Stats as WAIT reports them: final once the job finished, else PENDING. */
static void qmx_stats_view(const struct qmx_job *job,
			   const struct drm_qmx_job_stats *src, bool done,
			   struct drm_qmx_job_stats *out)
{
	if (done) {
		*out = *src;
		if (out->status == DRM_QMX_JOB_PENDING)
			out->status = DRM_QMX_JOB_CANCELED;
	} else {
		memset(out, 0, sizeof(*out));
		out->submit_ns = job->stats.submit_ns;
		out->status = DRM_QMX_JOB_PENDING;
	}
}

int qmx_ioctl_wait(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct qmx_file_priv *fpriv = file->driver_priv;
	struct drm_qmx_wait *args = data;
	struct drm_qmx_job_stats stats;
	struct dma_fence *fence;
	struct qmx_job *job;
	bool done;
	u32 i;
	int ret, cret;

	if (args->pad || args->pad2 || (args->flags & ~DRM_QMX_WAIT_SYNCOBJ)) {
		drm_dbg(dev, "wait: pad and pad2 must be 0, flags 0x%x unknown\n",
			args->flags);
		return -EINVAL;
	}
	if (!args->entries_ptr != !args->entries_count) {
		drm_dbg(dev, "wait: entries_ptr and entries_count go together\n");
		return -EINVAL;
	}
	if (args->timeout_ns < 0) {
		drm_dbg(dev, "wait: timeout_ns (%lld) < 0\n", args->timeout_ns);
		return -EINVAL;
	}
	if (!(args->stats_ptr || args->entries_ptr) != !args->stats_struct_size) {
		drm_dbg(dev, "wait: stats_struct_size goes with stats_ptr or entries_ptr\n");
		return -EINVAL;
	}
	/* Growth room for the struct, not a licence to clear user memory. */
	if (args->stats_struct_size > QMX_STATS_STRUCT_SIZE_MAX) {
		drm_dbg(dev, "wait: stats_struct_size %u > %u\n",
			args->stats_struct_size, QMX_STATS_STRUCT_SIZE_MAX);
		return -EINVAL;
	}

	if (args->flags & DRM_QMX_WAIT_SYNCOBJ) {
		if (args->job_id || args->stats_ptr || args->entries_ptr) {
			drm_dbg(dev, "wait: syncobj waits take no job_id or stats\n");
			return -EINVAL;
		}
		ret = drm_syncobj_find_fence(file, args->syncobj, 0, 0, &fence);
		if (ret) {
			drm_dbg(dev, "wait: syncobj %u: not found or no fence\n",
				args->syncobj);
			return ret;
		}
		ret = qmx_wait_fence(fence, args);
		dma_fence_put(fence);
		return ret;
	}

	if (args->syncobj) {
		drm_dbg(dev, "wait: syncobj needs DRM_QMX_WAIT_SYNCOBJ\n");
		return -EINVAL;
	}
	if (!args->job_id || args->job_id > U32_MAX) {
		drm_dbg(dev, "wait: job_id %llu unknown\n", args->job_id);
		return -ENOENT;
	}
	mutex_lock(&fpriv->jobs_lock);
	job = xa_load(&fpriv->jobs, args->job_id);
	if (job)
		kref_get(&job->refcount);
	mutex_unlock(&fpriv->jobs_lock);
	if (!job) {
		drm_dbg(dev, "wait: job_id %llu unknown (or forgotten)\n",
			args->job_id);
		return -ENOENT;
	}

	if (args->entries_count > job->nr_entries) {
		drm_dbg(dev, "wait: entries_count %u > the job's %u entries\n",
			args->entries_count, job->nr_entries);
		qmx_job_put(job);
		return -EINVAL;
	}
	ret = qmx_wait_fence(job->finished, args);
	done = dma_fence_is_signaled(job->finished);
	if (args->stats_ptr) {
		qmx_stats_view(job, &job->stats, done, &stats);
		cret = qmx_copy_stats(u64_to_user_ptr(args->stats_ptr),
				      args->stats_struct_size, &stats);
		if (cret && (!ret || ret == -ETIME))
			ret = cret;
	}
	for (i = 0; i < args->entries_count; i++) {
		qmx_stats_view(job, &job->entries[i].stats, done, &stats);
		cret = qmx_copy_stats(u64_to_user_ptr(args->entries_ptr) +
				      (u64)i * args->stats_struct_size,
				      args->stats_struct_size, &stats);
		if (cret) {
			if (!ret || ret == -ETIME)
				ret = cret;
			break;
		}
	}
	qmx_job_put(job);
	return ret;
}
