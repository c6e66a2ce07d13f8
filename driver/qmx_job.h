/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The qmx authors */

#ifndef __QMX_JOB_H__
#define __QMX_JOB_H__

#include <linux/interrupt.h>
#include <linux/kref.h>
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
 * struct qmx_job - one GEMM on its way through the scheduler
 */
struct qmx_job {
	struct drm_sched_job base;
	struct kref refcount;
	struct qmx_device *qdev;
	struct qmx_file_stats *fstats;
	u32 id;

	/*
	 * References on every BO the job touches, dropped in free_job; the
	 * BOs of @pinned stay pinned and mapped for the device until then.
	 */
	struct drm_gem_object *bos[QMX_JOB_MAX_BOS];
	bool pinned[QMX_JOB_MAX_BOS];
	unsigned int nr_bos;

	struct qmx_jobprog_gemm gemm;
	struct qmx_jobprog_counters before;

	/** @done_fence: signalled by the IRQ thread (or the timeout) */
	struct dma_fence *done_fence;
	/** @finished: the scheduler's finished fence, what WAIT waits on */
	struct dma_fence *finished;
	/** @stats: written at completion, read once @finished signalled */
	struct drm_qmx_job_stats stats;
};

int qmx_job_init(struct qmx_device *qdev);
void qmx_job_fini(struct qmx_device *qdev);
int qmx_job_open(struct qmx_file_priv *fpriv);
void qmx_job_close(struct qmx_file_priv *fpriv);
irqreturn_t qmx_job_irq(struct qmx_device *qdev);

int qmx_ioctl_submit(struct drm_device *dev, void *data,
		     struct drm_file *file);
int qmx_ioctl_wait(struct drm_device *dev, void *data, struct drm_file *file);

#endif /* __QMX_JOB_H__ */
