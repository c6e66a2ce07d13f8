/* SPDX-License-Identifier: MIT */
/*
 * qmx_batch.h - the batch object (qmx_batch_*) as the core and the backends
 * that run a batch natively (the batch_submit op: sim, kmod) see it.
 *
 * Each entry carries a whole qmx_job: the core fills job.desc (validated),
 * job.dev (the batch's device, no reference of its own) and resets the rest
 * before every submit; the backend completes every entry exactly once with
 * qmx_job_complete(&e->job, status) (stats, status and message as for a
 * single job), and an entry it does not run because the entry it waits for
 * failed with qmx_batch_entry_skip().  qmx_batch_wait() then waits on the
 * entries' jobs (through the batch_wait op when the backend has one).
 *
 * Before batch_submit the core samples each entry's accounting
 * (qmx_account_job_begin: stats.flags); the host time a batch_wait op spends
 * on a simulated device is added to the last entry's sim_wall_ns and
 * sim_cpu_ns (the simulator's time, not the system's).
 *
 * The default (NULL batch_submit) starts entries in index order through
 * gemm_submit: qmx_batch_submit() starts them up to the first whose
 * wait_for entry has not finished, qmx_batch_wait() waits for that one and
 * goes on, so the timeout bounds the whole run.
 */
#ifndef QMX_BATCH_H
#define QMX_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"

struct qmx_batch_entry {
	qmx_job job;      /* desc, stats, status, status_msg, priv (backend's) */
	int32_t wait_for; /* index of an earlier entry, or -1 */
	bool started;     /* handed to the backend (loop default: gemm_submit) */
};

struct qmx_batch {
	qmx_device *dev;  /* holds a reference */
	struct qmx_batch_entry *entries;
	uint32_t count;   /* entries added */
	uint32_t cap;     /* entries allocated */
	bool in_flight;   /* submitted and not yet waited to the end */
	bool submitted;   /* entries hold a run's outcome (statuses readable) */
	uint32_t next;    /* loop default: first entry not started yet */
	uint64_t submit_ns; /* CLOCK_MONOTONIC at qmx_batch_submit() */
	void *priv;       /* backend's state for a native batch in flight */
};

/* Complete entry `i` without running it: its wait_for entry failed.  Status
 * QMX_EDEPENDENCY, message "not run: entry W it waits for failed (...)". */
void qmx_batch_entry_skip(qmx_batch *b, uint32_t i);

/* Wait for one job (not only a batch entry) until deadline_ns (CLOCK_MONOTONIC,
 * < 0: none), driving it through the job_wait op where the backend has one.
 * 0 once it is done (its status is job->status), QMX_ETIMEDOUT, or an error
 * of the backend's wait (message on this thread). */
int qmx_job_wait_deadline(qmx_job *job, int64_t deadline_ns);

/* Core helpers shared by jobs and batches (runtime/src/job.c). */
/* qmx_gemm_submit()'s checks of `d` against `dev`; `who` prefixes the message. */
int qmx_gemm_desc_check(const char *who, qmx_device *dev, const qmx_gemm_desc *d);
/* Initialise job->lock and job->cond (CLOCK_MONOTONIC). */
void qmx_job_sync_init(qmx_job *job);
bool qmx_job_done(qmx_job *job);

#endif /* QMX_BATCH_H */
