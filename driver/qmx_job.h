/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The qmx authors */

#ifndef __QMX_JOB_H__
#define __QMX_JOB_H__

#include <linux/interrupt.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <drm/gpu_scheduler.h>

#include "qmx_accel.h"
#include "qmx_jobprog.h"

struct qmx_device;
struct qmx_file_priv;

/* A, B, C, bias, multipliers, shifts. */
#define QMX_JOB_MAX_BOS 6
/* Finished jobs whose stats a file can still fetch with WAIT. */
#define QMX_JOB_RECORDS_MAX 1024

/**
 * struct qmx_file_stats - per-file accounting for fdinfo; jobs keep a
 * reference so a job finishing after close() still has somewhere to count.
 */
struct qmx_file_stats {
	struct kref refcount;
	atomic64_t busy_ns;
	atomic64_t cycles;
	atomic64_t jobs;
	/* BO bytes pinned for this file's unfinished jobs */
	atomic64_t pinned_bytes;
	/* bytes of the live BOs this file created */
	atomic64_t bo_bytes;
};

void qmx_file_stats_put(struct qmx_file_stats *fstats);

/**
 * struct qmx_job_entry - one GEMM of a job (a SUBMIT is a job of one)
 */
struct qmx_job_entry {
	struct qmx_jobprog_gemm gemm;
	/** @wait_for: index of an earlier entry it runs after, or -1 */
	s32 wait_for;
	/** @seq: descriptor seq on the ring (0 until written) */
	u32 seq;
	/** @done: the entry ended (@stats.status is final) */
	bool done;
	/** @energy_fj: modelled energy, femtojoules (@stats has it in nJ) */
	u64 energy_fj;
	/** @stats: status, hw_error, error_addr, counters of the entry */
	struct drm_qmx_job_stats stats;
};

/* Job and entry a ring slot holds. */
struct qmx_ring_slot {
	struct qmx_job *job;
	u32 entry;
};

/**
 * struct qmx_job - a batch of GEMMs on its way through the scheduler
 */
struct qmx_job {
	struct drm_sched_job base;
	struct kref refcount;
	struct qmx_device *qdev;
	struct qmx_file_stats *fstats;
	u32 id;

	/*
	 * References on every BO the job touches (each once), dropped in
	 * free_job; the BOs of @pinned stay pinned and mapped for the device
	 * until then.  @handles: the handle each was looked up by.
	 */
	struct drm_gem_object **bos;
	u32 *handles;
	bool *pinned;
	unsigned int nr_bos;

	struct qmx_job_entry *entries;
	u32 nr_entries;
	/** @nr_written: entries handed to the device (ring or registers) */
	u32 nr_written;
	/** @nr_done: entries ended */
	u32 nr_done;
	/** @ring_node: in qmx_ring.active while entries are outstanding */
	struct list_head ring_node;
	/** @before: register path: counters when the current entry started */
	struct qmx_jobprog_counters before;

	/** @done_fence: signalled by the IRQ thread (or the timeout) */
	struct dma_fence *done_fence;
	/** @finished: the scheduler's finished fence, what WAIT waits on */
	struct dma_fence *finished;
	/** @stats: the whole job, written at completion, read once @finished signalled */
	struct drm_qmx_job_stats stats;
};

bool qmx_job_entry_end(struct qmx_device *qdev, struct qmx_job *job,
		       u32 index, u32 status);
void qmx_job_finish(struct qmx_device *qdev, struct qmx_job *job);
void qmx_job_stats_set_counters(struct drm_qmx_job_stats *st,
				const struct qmx_jobprog_counters *d);

/* The command queue (qmx_ring.c); all under qmx_device.job_lock. */
int qmx_ring_init(struct qmx_device *qdev);
void qmx_ring_fini(struct qmx_device *qdev);
int qmx_ring_hw_start(struct qmx_device *qdev);
void qmx_ring_push(struct qmx_device *qdev, struct qmx_job *job);
bool qmx_ring_reap(struct qmx_device *qdev);
void qmx_ring_fail_all(struct qmx_device *qdev, u32 hung_status,
		       u32 rest_status);

int qmx_job_init(struct qmx_device *qdev);
void qmx_job_fini(struct qmx_device *qdev);
int qmx_job_open(struct qmx_file_priv *fpriv);
void qmx_job_close(struct qmx_file_priv *fpriv);
irqreturn_t qmx_job_irq(struct qmx_device *qdev);

int qmx_ioctl_submit(struct drm_device *dev, void *data,
		     struct drm_file *file);
int qmx_ioctl_wait(struct drm_device *dev, void *data, struct drm_file *file);
int qmx_ioctl_submit_batch(struct drm_device *dev, void *data,
			   struct drm_file *file);

#endif /* __QMX_JOB_H__ */
