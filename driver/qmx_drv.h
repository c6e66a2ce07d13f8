/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The qmx authors */

#ifndef __QMX_DRV_H__
#define __QMX_DRV_H__

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include <drm/drm_device.h>
#include <drm/gpu_scheduler.h>

#include "qmx_hw.h"

struct qmx_gem_object;
struct qmx_file_stats;
struct qmx_job;
struct qmx_ring_slot;
struct qmx_transport_ops;

/**
 * struct qmx_ring - the device's command queue (qmx_ring.c)
 *
 * One kernel-owned BO, pinned and mapped for the device: @size descriptors
 * of 128 bytes, then @size completion records.  Everything is under
 * qmx_device.job_lock.
 */
struct qmx_ring {
	/** @bo: the ring's BO, or NULL without a command queue (register path) */
	struct qmx_gem_object *bo;
	/** @fstats: what the ring's pinned pages are charged to */
	struct qmx_file_stats *fstats;
	/** @vaddr: kernel mapping of @bo */
	void *vaddr;
	/** @dev_addr: device address of @bo */
	u64 dev_addr;
	/** @size: entries, a power of two */
	u32 size;
	/** @tail: free-running count of descriptors written (CQ_TAIL) */
	u32 tail;
	/** @head: free-running count of completion records consumed */
	u32 head;
	/** @seq: last descriptor seq handed out (never 0) */
	u32 seq;
	/** @head_at_timeout: @head when the last timeout looked (progress) */
	u32 head_at_timeout;
	/** @slots: job and entry of each slot written and not yet consumed */
	struct qmx_ring_slot *slots;
	/**
	 * @failed: a record with an error was consumed since the engine last
	 * forgot its failed seqs; the next fill of the idle ring rewrites
	 * CQ_CTRL so that the engine's full failure table (or a fetch error)
	 * does not fail every later wait DEP_FAILED
	 */
	bool failed;
	/** @active: jobs with entries not yet completed, in submission order */
	struct list_head active;
	/**
	 * @inject_bad_desc: fault injection (debugfs cq_inject_bad_desc): N > 0
	 * makes the next descriptor written for entry N - 1 of a job invalid
	 * (opcode 0xff), once, so tests see the device's BAD_DESC path
	 */
	u32 inject_bad_desc;
	/** @doorbells: CQ_TAIL writes, @irqs: interrupts that consumed records */
	u64 doorbells;
	u64 irqs;
};

/**
 * struct qmx_device - one qmx accelerator, whatever the transport
 */
struct qmx_device {
	struct drm_device drm;

	/** @ops: how registers, DMA mappings and resets reach this device */
	const struct qmx_transport_ops *ops;
	/** @transport: the transport's private state */
	void *transport;
	/** @transport_id: enum drm_qmx_transport */
	u32 transport_id;

	/** @info: identity and capabilities read at probe */
	struct qmx_hw_info info;
	/** @hw_lost: set when a register access failed; jobs are refused */
	atomic_t hw_lost;
	/** @going_away: unbind has begun; jobs are refused, the device still answers */
	atomic_t going_away;
	/** @jobs_inflight: jobs pushed to the scheduler and not yet freed */
	atomic_t jobs_inflight;
	/** @jobs_idle: woken when @jobs_inflight drops to 0 */
	wait_queue_head_t jobs_idle;

	/**
	 * @pinned_bytes: memory of BOs pinned for unfinished jobs; bounded by
	 * @pin_limit, and per file by @file_pin_limit (qmx_gem_pin())
	 */
	atomic64_t pinned_bytes;
	u64 pin_limit;
	u64 file_pin_limit;
	/** @file_bo_limit: bytes of live BOs one file may have created */
	u64 file_bo_limit;

	/* Job engine: one job on the device at a time. */
	struct drm_gpu_scheduler sched;
	/** @submit_lock: serialises drm_sched_job_arm() and push */
	struct mutex submit_lock;
	/** @job_lock: owns @active_job, taken by IRQ thread and timeout */
	struct mutex job_lock;
	/** @active_job: register path only: the job on the device, or NULL */
	struct qmx_job *active_job;
	/** @ring: the command queue (jobs run through it when ring.bo is set) */
	struct qmx_ring ring;
	/** @in_recovery: a timeout handler runs, the scheduler is stopped */
	bool in_recovery;
	/** @fence_lock: lock of the hardware fences */
	spinlock_t fence_lock;
	/** @fence_context: dma_fence context of the hardware fences */
	u64 fence_context;
	/** @fence_seqno: last hardware fence seqno (under @job_lock) */
	u64 fence_seqno;

	/**
	 * @counters: activity counters at the end of the last job; they only
	 * move while a job runs, so they are the next job's starting point
	 * and save a round of counter reads per job (under @job_lock)
	 */
	struct qmx_jobprog_counters counters;
	/** @counters_valid: @counters may be used */
	bool counters_valid;

	/* Statistics (under @job_lock). */
	u64 jobs_submitted;
	u64 jobs_done;
	u64 jobs_failed;
	u64 jobs_timedout;
	u64 resets;
	u64 missed_irqs;
	/** @energy_fj: modelled device energy since bind, femtojoules */
	u64 energy_fj;
	/** @irq_count: device interrupts handled */
	atomic64_t irq_count;

	struct device *hwmon;
};

/**
 * struct qmx_file_priv - per open file
 */
struct qmx_file_priv {
	struct qmx_device *qdev;
	struct drm_sched_entity entity;
	/** @jobs: job id -> struct qmx_job (a reference), the last few */
	struct xarray jobs;
	/** @next_job_id: cursor of the cyclic id allocator */
	u32 next_job_id;
	/** @nr_jobs: entries in @jobs */
	u32 nr_jobs;
	/** @jobs_lock: protects @jobs and @nr_jobs */
	struct mutex jobs_lock;
	/** @client_id: drm-client-id of fdinfo */
	u64 client_id;
	/** @fstats: accounting for fdinfo, updated at completion */
	struct qmx_file_stats *fstats;
	/**
	 * @last_finished: finished fence of the newest job pushed to @entity
	 * (jobs_lock); close waits for it before @entity may be freed
	 */
	struct dma_fence *last_finished;
};

static inline struct qmx_device *to_qmx_device(struct drm_device *drm)
{
	return container_of(drm, struct qmx_device, drm);
}

struct qmx_device *qmx_device_create(struct device *parent,
				     const struct qmx_transport_ops *ops,
				     void *transport, u32 transport_id);
int qmx_device_register(struct qmx_device *qdev);
void qmx_device_unregister(struct qmx_device *qdev);

extern unsigned int qmx_job_timeout_ms;
extern unsigned int qmx_cq_entries;

#endif /* __QMX_DRV_H__ */
