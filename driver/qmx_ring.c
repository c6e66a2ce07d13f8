// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The qmx authors */

/*
 * The command queue: a ring of 128-byte descriptors in a kernel-owned BO
 * that the device fetches by DMA, and a ring of completion records it writes
 * back (same slot as the descriptor).  run_job writes a job's descriptors and
 * rings the doorbell (one CQ_TAIL write); the interrupt handler reads and
 * clears ISR, then consumes the records from memory (no other register
 * access per job).  Jobs larger than the free space wait on the host: the
 * handler refills the ring as records are consumed (back-pressure), so a
 * batch may be larger than the ring.
 *
 * Everything here runs under qmx_device.job_lock.
 */

#include <linux/dma-fence.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <drm/drm_print.h>

#include "qmx_drv.h"
#include "qmx_gem.h"
#include "qmx_hw.h"
#include "qmx_job.h"

unsigned int qmx_cq_entries = 256;
module_param_named(cq_entries, qmx_cq_entries, uint, 0444);
MODULE_PARM_DESC(cq_entries,
		 "command-queue ring entries, a power of two in [2, 4096] (default 256); 0: program each job through registers");

static struct qmx_cq_desc *qmx_ring_desc(struct qmx_ring *r, u32 slot)
{
	return (struct qmx_cq_desc *)r->vaddr + slot;
}

static struct qmx_cq_cpl *qmx_ring_cpl(struct qmx_ring *r, u32 slot)
{
	return (struct qmx_cq_cpl *)((struct qmx_cq_desc *)r->vaddr + r->size) +
	       slot;
}

/*
 * One interrupt when the queue drains, or every half ring so that a batch
 * larger than the free space is refilled before the engine runs dry.
 */
static u32 qmx_ring_coalesce(const struct qmx_ring *r)
{
	return clamp_t(u32, r->size / 2, 1, 255);
}

/*
 * (Re)start the queue on an idle device (after probe or SOFT_RESET, which
 * sets HEAD and TAIL to 0): empty rings, bases, size, enable, interrupt.
 */
int qmx_ring_hw_start(struct qmx_device *qdev)
{
	struct qmx_ring *r = &qdev->ring;
	u32 status;

	r->tail = 0;
	r->head = 0;
	r->failed = false;
	r->head_at_timeout = 0;
	memset(r->vaddr, 0, 2 * (size_t)r->size * QMX_CQ_ENTRY_BYTES);
	memset(r->slots, 0, r->size * sizeof(*r->slots));
	qmx_gem_sync_for_device(qdev, r->bo);

	qmx_reg_write(qdev, CQ_CTRL, 0);
	qmx_jobprog_clear_isr(qmx_hw_jobprog_read32, qmx_hw_jobprog_write32,
			      qdev, QMX_ISR_DONE | QMX_ISR_READY | QMX_ISR_CQ);
	status = qmx_jobprog_cq_enable(qmx_hw_jobprog_read32,
				       qmx_hw_jobprog_write32, qdev, r->dev_addr,
				       r->dev_addr + (u64)r->size * QMX_CQ_ENTRY_BYTES,
				       r->size, qmx_ring_coalesce(r), 1);
	if (qmx_hw_lost(qdev))
		return -ENODEV;
	if (status & QMX_CQ_STATUS_BAD_CONFIG) {
		drm_err(&qdev->drm, "command queue refused its configuration (size %u, base 0x%llx; CQ_STATUS 0x%x)\n",
			r->size, r->dev_addr, status);
		return -EIO;
	}
	return 0;
}

/* Descriptor of entry @i of @job into the next slot. */
static void qmx_ring_write_desc(struct qmx_ring *r, struct qmx_job *job, u32 i,
				u32 wait_seq)
{
	u32 slot = r->tail & (r->size - 1);
	struct qmx_cq_desc *d = qmx_ring_desc(r, slot);
	struct qmx_job_entry *e = &job->entries[i];

	if (!++r->seq)
		r->seq = 1;
	e->seq = r->seq;

	/* The one mapping of a GEMM to a descriptor (hw/include), as the
	 * in-process sim backend writes it. */
	qmx_jobprog_cq_desc(&e->gemm, e->seq, wait_seq, d);
	if (unlikely(READ_ONCE(r->inject_bad_desc) == i + 1)) {
		WRITE_ONCE(r->inject_bad_desc, 0);
		d->header |= 0xffu << QMX_CQD_HEADER_OPCODE_SHIFT;
	}

	r->slots[slot].job = job;
	r->slots[slot].entry = i;
	r->tail++;
}

/*
 * Write the descriptors of the active jobs, in order, while slots are free
 * (a slot is free once its completion record was consumed), then ring the
 * doorbell once.  An entry whose dependency already ended is resolved here:
 * failed, it ends DEP_FAILED without a descriptor; done, it needs no wait.
 */
static void qmx_ring_fill(struct qmx_device *qdev)
{
	struct qmx_ring *r = &qdev->ring;
	struct qmx_job *job, *next;
	struct qmx_job_entry *e, *dep;
	u32 start = r->tail, i, wait_seq;
	bool idle = r->tail == r->head;

	list_for_each_entry_safe(job, next, &r->active, ring_node) {
		while (job->nr_written < job->nr_entries) {
			if (r->tail - r->head == r->size)
				goto doorbell;
			i = job->nr_written++;
			e = &job->entries[i];
			wait_seq = 0;
			if (e->wait_for >= 0) {
				dep = &job->entries[e->wait_for];
				if (dep->done && dep->stats.status != DRM_QMX_JOB_DONE) {
					e->stats.hw_error = QMX_ERROR_DEP_FAILED;
					/* Finished (and unlinked): it may be freed. */
					if (qmx_job_entry_end(qdev, job, i,
							      DRM_QMX_JOB_HW_ERROR))
						break;
					continue;
				}
				if (!dep->done)
					wait_seq = dep->seq;
			}
			qmx_ring_write_desc(r, job, i, wait_seq);
		}
	}
doorbell:
	if (r->tail == start)
		return;
	/*
	 * The engine fails every wait once it remembers too many failures
	 * (or a descriptor it could not read): with nothing queued, none of
	 * them matters any more (a dependency that already ended is resolved
	 * above), so make it forget before it fetches the new descriptors.
	 */
	if (idle && r->failed) {
		qmx_reg_write(qdev, CQ_CTRL,
			      qmx_jobprog_cq_ctrl(qmx_ring_coalesce(r)));
		r->failed = false;
	}
	qmx_gem_sync_for_device(qdev, r->bo);
	/* Descriptors in memory before the doorbell. */
	wmb();
	qmx_reg_write(qdev, CQ_TAIL, r->tail);
	r->doorbells++;
}

void qmx_ring_push(struct qmx_device *qdev, struct qmx_job *job)
{
	list_add_tail(&job->ring_node, &qdev->ring.active);
	qmx_ring_fill(qdev);
}

/*
 * Consume the completion records written since the last call, end their
 * entries (and the jobs whose last entry this was), clear them for the next
 * lap, and refill the ring.  True if any record was consumed.
 */
bool qmx_ring_reap(struct qmx_device *qdev)
{
	struct qmx_ring *r = &qdev->ring;
	struct qmx_jobprog_counters d;
	struct drm_qmx_job_stats *st;
	struct qmx_job_entry *e;
	struct qmx_cq_cpl *c;
	struct qmx_job *job;
	u32 slot, status, err, index;
	bool progress = false;

	qmx_gem_sync_for_cpu(qdev, r->bo);
	while (r->head != r->tail) {
		slot = r->head & (r->size - 1);
		c = qmx_ring_cpl(r, slot);
		status = READ_ONCE(c->status);
		if (!(status & QMX_CQC_STATUS_VALID))
			break;
		/* The record's body is read after its VALID bit. */
		dma_rmb();
		job = r->slots[slot].job;
		index = r->slots[slot].entry;
		e = &job->entries[index];
		st = &e->stats;
		err = qmx_jobprog_cq_error(c);
		/* A descriptor the engine could not read gets seq 0 and its
		 * fetch error; any other mismatch is the engine's bug. */
		if (c->seq != e->seq && (c->seq || !err)) {
			drm_err(&qdev->drm, "command queue slot %u: record of seq %u, descriptor seq %u; entry %u of job %u failed\n",
				slot, c->seq, e->seq, index, job->id);
			err = err ?: QMX_ERROR_BAD_DESC;
		}
		qmx_jobprog_cq_counters(c, &d);
		st->hw_error = err;
		st->error_addr = err ? c->error_addr : 0;
		qmx_job_stats_set_counters(st, &d);
		if (err)
			drm_dbg(&qdev->drm, "job %u entry %u: device error %s (%s) at 0x%llx\n",
				job->id, index, qmx_jobprog_error_name(err),
				qmx_jobprog_error_text(err), st->error_addr);
		if (err)
			r->failed = true;
		WRITE_ONCE(c->status, 0);
		r->slots[slot].job = NULL;
		r->head++;
		progress = true;
		qmx_job_entry_end(qdev, job, index,
				  err ? DRM_QMX_JOB_HW_ERROR : DRM_QMX_JOB_DONE);
	}
	if (progress) {
		qmx_ring_fill(qdev);
		/* The cleared records go back to the device too. */
		qmx_gem_sync_for_device(qdev, r->bo);
	}
	return progress;
}

/*
 * After SOFT_RESET (the queue is stopped, its records lost): the first
 * entry not ended - the one the engine was on - ends @hung_status, every
 * other entry of every active job @rest_status, none is re-run.  The
 * caller restarts the queue with qmx_ring_hw_start().
 */
void qmx_ring_fail_all(struct qmx_device *qdev, u32 hung_status,
		       u32 rest_status)
{
	struct qmx_ring *r = &qdev->ring;
	struct qmx_job *job, *next;
	bool hung = true;
	u32 i, n, status;

	list_for_each_entry_safe(job, next, &r->active, ring_node) {
		n = job->nr_entries;
		for (i = 0; i < n; i++) {
			if (job->entries[i].done)
				continue;
			if (hung && rest_status == DRM_QMX_JOB_CANCELED)
				drm_warn(&qdev->drm, "job %u: entry %u hung; canceling (not re-run) every entry behind it\n",
					 job->id, i);
			status = hung ? hung_status : rest_status;
			hung = false;
			/* The last entry ended unlinks the job, may free it. */
			if (qmx_job_entry_end(qdev, job, i, status))
				break;
		}
	}
	memset(r->slots, 0, r->size * sizeof(*r->slots));
}

int qmx_ring_init(struct qmx_device *qdev)
{
	struct qmx_ring *r = &qdev->ring;
	struct drm_gem_shmem_object *shmem;
	struct qmx_gem_object *bo;
	size_t size;
	int ret;

	INIT_LIST_HEAD(&r->active);
	if (!qmx_cq_entries) {
		drm_info(&qdev->drm, "cq_entries=0: jobs go through registers\n");
		return 0;
	}
	if (!(qdev->info.features & QMX_FEATURES_CMD_QUEUE)) {
		drm_info(&qdev->drm, "no command queue (FEATURES 0x%x): jobs go through registers\n",
			 qdev->info.features);
		return 0;
	}
	if (!is_power_of_2(qmx_cq_entries) || qmx_cq_entries < QMX_CQ_SIZE_MIN ||
	    qmx_cq_entries > QMX_CQ_SIZE_MAX) {
		drm_err(&qdev->drm, "cq_entries %u: not a power of two in [%u, %u]\n",
			qmx_cq_entries, QMX_CQ_SIZE_MIN, QMX_CQ_SIZE_MAX);
		return -EINVAL;
	}

	r->size = qmx_cq_entries;
	r->slots = kvcalloc(r->size, sizeof(*r->slots), GFP_KERNEL);
	r->fstats = kzalloc(sizeof(*r->fstats), GFP_KERNEL);
	if (!r->slots || !r->fstats) {
		ret = -ENOMEM;
		goto err_free;
	}
	kref_init(&r->fstats->refcount);

	size = PAGE_ALIGN(2 * (size_t)r->size * QMX_CQ_ENTRY_BYTES);
	shmem = drm_gem_shmem_create(&qdev->drm, size);
	if (IS_ERR(shmem)) {
		ret = PTR_ERR(shmem);
		goto err_free;
	}
	bo = to_qmx_bo(&shmem->base);
	ret = qmx_gem_pin(qdev, bo, r->fstats, &r->dev_addr);
	if (ret)
		goto err_put_bo;
	r->vaddr = vmap(bo->base.pages, size >> PAGE_SHIFT, VM_MAP,
			PAGE_KERNEL);
	if (!r->vaddr) {
		ret = -ENOMEM;
		goto err_unpin;
	}
	r->bo = bo;

	mutex_lock(&qdev->job_lock);
	ret = qmx_ring_hw_start(qdev);
	mutex_unlock(&qdev->job_lock);
	if (ret)
		goto err_vunmap;
	drm_info(&qdev->drm, "command queue: %u entries at device address 0x%llx\n",
		 r->size, r->dev_addr);
	return 0;

err_vunmap:
	r->bo = NULL;
	vunmap(r->vaddr);
	r->vaddr = NULL;
err_unpin:
	qmx_gem_unpin(qdev, bo);
err_put_bo:
	drm_gem_object_put(&shmem->base);
err_free:
	if (r->fstats)
		qmx_file_stats_put(r->fstats);
	r->fstats = NULL;
	kvfree(r->slots);
	r->slots = NULL;
	/*
	 * E.g. a PCI card without an IOMMU, where the ring's pages are not
	 * one range in the device's address space: the device still works,
	 * one register-programmed job at a time.
	 */
	drm_warn(&qdev->drm, "command queue unavailable (%d): jobs go through registers\n",
		 ret);
	if (!qmx_hw_lost(qdev))
		qmx_hw_reset(qdev);
	return qmx_hw_lost(qdev) ? -ENODEV : 0;
}

/* The device no longer runs anything (qmx_job_fini()): free the ring. */
void qmx_ring_fini(struct qmx_device *qdev)
{
	struct qmx_ring *r = &qdev->ring;
	struct qmx_gem_object *bo;

	mutex_lock(&qdev->job_lock);
	bo = r->bo;
	r->bo = NULL;
	mutex_unlock(&qdev->job_lock);
	if (!bo)
		return;
	vunmap(r->vaddr);
	r->vaddr = NULL;
	qmx_gem_unpin(qdev, bo);
	drm_gem_object_put(&bo->base.base);
	qmx_file_stats_put(r->fstats);
	r->fstats = NULL;
	kvfree(r->slots);
	r->slots = NULL;
}
