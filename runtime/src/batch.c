/* SPDX-License-Identifier: MIT */
/*
 * batch.c - batches of GEMMs submitted as one job (qmx_batch_*): validation,
 * the backend's native batch_submit op, or the in-order loop through
 * gemm_submit for backends without one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"
#include "qmx_batch.h"

QMX_API int qmx_batch_create(qmx_device *dev, qmx_batch **out)
{
	if (!out)
		return qmx_fail(QMX_EINVAL, "qmx_batch_create: out is NULL");
	*out = NULL;
	if (!dev)
		return qmx_fail(QMX_EINVAL, "qmx_batch_create: dev is NULL");
	if (!dev->ops->gemm_submit)
		return qmx_fail(QMX_ENOTSUP, "qmx_batch_create: backend '%s' cannot run GEMM jobs",
				dev->ops->name);
	qmx_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return qmx_fail(QMX_ENOMEM, "qmx_batch_create: out of memory");
	b->dev = qmx_device_ref(dev);
	*out = b;
	return 0;
}

/* Forget the last run: release each started entry's backend state and the
 * jobs' locks, so entries can be added or the batch run again. */
static void batch_reset(qmx_batch *b)
{
	if (!b->submitted)
		return;
	for (uint32_t i = 0; i < b->count; i++) {
		struct qmx_batch_entry *e = &b->entries[i];
		if (e->started && b->dev->ops->job_release)
			b->dev->ops->job_release(b->dev, &e->job);
		e->started = false;
		pthread_cond_destroy(&e->job.cond);
		pthread_mutex_destroy(&e->job.lock);
	}
	b->submitted = false;
}

QMX_API int qmx_batch_add_gemm(qmx_batch *b, const qmx_gemm_desc *desc, int32_t wait_for,
			       uint32_t *index)
{
	if (!b || !desc)
		return qmx_fail(QMX_EINVAL, "qmx_batch_add_gemm: %s is NULL", !b ? "batch" : "desc");
	if (b->in_flight)
		return qmx_fail(QMX_EBUSY,
				"qmx_batch_add_gemm: the batch is in flight (wait for it first)");
	if (b->count >= QMX_BATCH_MAX_ENTRIES)
		return qmx_fail(QMX_EINVAL,
				"qmx_batch_add_gemm: the batch holds %u entries, the limit "
				"(QMX_BATCH_MAX_ENTRIES)",
				QMX_BATCH_MAX_ENTRIES);
	if (wait_for < -1 || wait_for >= (int64_t)b->count) {
		if (!b->count)
			return qmx_fail(QMX_EINVAL,
					"qmx_batch_add_gemm: wait_for (%d) must be -1 for the first "
					"entry (no earlier entry)",
					wait_for);
		return qmx_fail(QMX_EINVAL,
				"qmx_batch_add_gemm: wait_for (%d) must name an earlier entry "
				"(0..%u) or be -1",
				wait_for, b->count - 1);
	}
	int err = qmx_gemm_desc_check("qmx_batch_add_gemm", b->dev, desc);
	if (err)
		return err;
	/* The previous run's outcome goes, before its locks could move. */
	batch_reset(b);
	if (b->count == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 16;
		if (cap > QMX_BATCH_MAX_ENTRIES)
			cap = QMX_BATCH_MAX_ENTRIES;
		struct qmx_batch_entry *n = realloc(b->entries, cap * sizeof(*n));
		if (!n)
			return qmx_fail(QMX_ENOMEM, "qmx_batch_add_gemm: out of memory");
		b->entries = n;
		b->cap = cap;
	}
	struct qmx_batch_entry *e = &b->entries[b->count];
	memset(e, 0, sizeof(*e));
	e->job.desc = *desc;
	e->wait_for = wait_for;
	if (index)
		*index = b->count;
	b->count++;
	return 0;
}

QMX_API uint32_t qmx_batch_size(const qmx_batch *b)
{
	return b ? b->count : 0;
}

void qmx_batch_entry_skip(qmx_batch *b, uint32_t i)
{
	struct qmx_batch_entry *e = &b->entries[i];
	const qmx_job *w = &b->entries[e->wait_for].job;

	qmx_fail(QMX_EDEPENDENCY, "not run: entry %d it waits for failed (%s)", e->wait_for,
		 qmx_error_name(w->status));
	qmx_job_complete(&e->job, QMX_EDEPENDENCY);
}

/* Accounting start of an entry (entries are started in index order).  Where
 * it read no host meter for entry 0 (a device, not a CPU: it only set the
 * flags, which depend on the device alone) the later entries copy it: the
 * lookup behind it is not free, and a batch is about host time per GEMM. */
static void entry_account_begin(qmx_batch *b, qmx_job *job)
{
	const qmx_job *first = &b->entries[0].job;

	if (job == first || first->energy_begin.valid) {
		qmx_account_job_begin(b->dev, job);
		return;
	}
	job->stats.flags = first->stats.flags;
	job->energy_begin = first->energy_begin;
}

/* Loop default: hand entry `e` to gemm_submit; a refusal is its status. */
static void loop_start(qmx_batch *b, struct qmx_batch_entry *e)
{
	e->job.submit_ns = qmx_now_ns();
	entry_account_begin(b, &e->job);
	e->started = true;
	int err = b->dev->ops->gemm_submit(b->dev, &e->job);
	if (err)
		qmx_job_complete(&e->job, err);
}

/* Host-memory backends with a synchronous host path (cpu): the loop runs
 * each entry on this thread, no worker thread per job.  The entry is then
 * complete (its accounting done by gemm_host). */
static bool loop_on_host(const qmx_device *dev)
{
	return dev->ops->gemm_host && !dev->ops->buffer_alloc;
}

static void host_run(qmx_batch *b, struct qmx_batch_entry *e)
{
	qmx_gemm_host_operands ops;
	qmx_job_stats st;
	qmx_job *job = &e->job;

	memset(&st, 0, sizeof(st));
	qmx_desc_host_operands(&job->desc, &ops);
	int err = b->dev->ops->gemm_host(b->dev, &job->desc.params, &ops, &st);
	if (err) {
		qmx_job_complete(job, err);
		return;
	}
	if (!st.macs)
		st.macs = (uint64_t)job->desc.params.m * (uint64_t)job->desc.params.n *
			  (uint64_t)job->desc.params.k;
	pthread_mutex_lock(&job->lock);
	job->stats = st;
	job->done = true;
	pthread_mutex_unlock(&job->lock);
}

/* Loop default: start entries in order.  An entry whose wait_for entry has
 * not finished stops the loop, or (may_wait) is waited for until deadline.
 * 0 when every entry was started, else QMX_ETIMEDOUT or the backend's wait
 * error. */
static int loop_advance(qmx_batch *b, bool may_wait, int64_t deadline)
{
	if (loop_on_host(b->dev))
		may_wait = true; /* every entry before is done already */
	while (b->next < b->count) {
		struct qmx_batch_entry *e = &b->entries[b->next];
		if (e->wait_for >= 0) {
			qmx_job *dep = &b->entries[e->wait_for].job;
			if (!qmx_job_done(dep)) {
				if (!may_wait)
					return 0;
				int err = qmx_job_wait_deadline(dep, deadline);
				if (!qmx_job_done(dep))
					return err ? err : QMX_ETIMEDOUT;
			}
			if (dep->status) {
				qmx_batch_entry_skip(b, b->next++);
				continue;
			}
		}
		if (loop_on_host(b->dev))
			host_run(b, e);
		else
			loop_start(b, e);
		b->next++;
	}
	return 0;
}

QMX_API int qmx_batch_submit(qmx_batch *b)
{
	if (!b)
		return qmx_fail(QMX_EINVAL, "qmx_batch_submit: batch is NULL");
	if (b->in_flight)
		return qmx_fail(QMX_EBUSY,
				"qmx_batch_submit: the batch is in flight (wait for it first)");
	if (!b->count)
		return qmx_fail(QMX_EINVAL, "qmx_batch_submit: the batch is empty");
	/* Host-visible per-channel values may have changed since they were
	 * added (a new training step): checked again, before anything runs. */
	for (uint32_t i = 0; i < b->count; i++) {
		const qmx_gemm_desc *d = &b->entries[i].job.desc;
		const qmx_gemm_params *p = &d->params;
		if (p->out_type != QMX_OUT_INT8 || p->quant_mode != QMX_QUANT_PER_CHANNEL ||
		    !d->multipliers.buffer->host || !d->shifts.buffer->host)
			continue;
		char who[48];
		qmx_gemm_host_operands ops;
		snprintf(who, sizeof(who), "qmx_batch_submit: entry %u", i);
		qmx_desc_host_operands(d, &ops);
		int err = qmx_gemm_host_operands_check(who, p, &ops);
		if (err)
			return err;
	}
	batch_reset(b);
	qmx_device *dev = b->dev;
	b->submit_ns = qmx_now_ns();
	for (uint32_t i = 0; i < b->count; i++) {
		qmx_job *job = &b->entries[i].job;
		qmx_gemm_desc desc = job->desc;
		memset(job, 0, sizeof(*job));
		job->desc = desc;
		job->dev = dev;
		job->submit_ns = b->submit_ns;
		qmx_job_sync_init(job);
	}
	b->submitted = true;
	b->next = 0;
	if (dev->ops->batch_submit) {
		for (uint32_t i = 0; i < b->count; i++)
			entry_account_begin(b, &b->entries[i].job);
		int err = dev->ops->batch_submit(dev, b);
		if (err) {
			batch_reset(b);
			return err;
		}
	} else {
		(void)loop_advance(b, false, -1);
	}
	b->in_flight = true;
	return 0;
}

static int wait_timed_out(int64_t timeout_ms)
{
	return qmx_fail(QMX_ETIMEDOUT, "qmx_batch_wait: the batch still runs after %lld ms",
			(long long)timeout_ms);
}

/* A native batch driven on this thread: on a simulated device that host
 * time is the simulator's, not the system's (docs/energy.md), and is added
 * to the last entry's sim_wall_ns and sim_cpu_ns. */
static int native_wait(qmx_batch *b, int64_t deadline)
{
	qmx_device *dev = b->dev;
	bool sim = (dev->info.features & QMX_FEATURE_SIMULATED) != 0;
	uint64_t w0 = sim ? qmx_now_ns() : 0, c0 = sim ? qmx_thread_cpu_ns() : 0;
	int err = dev->ops->batch_wait(dev, b, deadline);
	if (sim) {
		qmx_job *last = &b->entries[b->count - 1].job;
		pthread_mutex_lock(&last->lock);
		last->stats.sim_wall_ns += qmx_now_ns() - w0;
		last->stats.sim_cpu_ns += qmx_thread_cpu_ns() - c0;
		pthread_mutex_unlock(&last->lock);
	}
	return err;
}

/* The backend's wait failed (not a timeout): before qmx_batch_wait()
 * returns, nothing of the batch may still run, since the caller may then
 * free its buffers (qmx.h).  Entries the loop never started end with the
 * error; started ones are waited for until the deadline.  0 when the batch
 * is settled (the entries' statuses then tell), QMX_ETIMEDOUT when one
 * still runs at the deadline (the batch stays in flight). */
static int settle_after_error(qmx_batch *b, int err, int64_t deadline)
{
	char why[256];

	snprintf(why, sizeof(why), "%s", qmx_last_error());
	for (uint32_t i = 0; i < b->count; i++) {
		qmx_job *job = &b->entries[i].job;
		if (qmx_job_done(job))
			continue;
		if (!b->dev->ops->batch_submit && i >= b->next) {
			qmx_fail(err, "not run: the batch's wait failed first (%s)", why);
			qmx_job_complete(job, err);
			continue;
		}
		qmx_job_wait_deadline(job, deadline);
		if (!qmx_job_done(job))
			return qmx_fail(QMX_ETIMEDOUT,
					"qmx_batch_wait: entry %u still runs after the wait failed (%s)",
					i, why);
	}
	if (!b->dev->ops->batch_submit)
		b->next = b->count;
	return 0;
}

QMX_API int qmx_batch_wait(qmx_batch *b, int64_t timeout_ms)
{
	if (!b)
		return qmx_fail(QMX_EINVAL, "qmx_batch_wait: batch is NULL");
	if (!b->submitted)
		return qmx_fail(QMX_EINVAL, "qmx_batch_wait: the batch was not submitted");
	qmx_device *dev = b->dev;
	int64_t deadline = timeout_ms < 0 ? -1 : (int64_t)(qmx_now_ns() + timeout_ms * 1000000ull);
	int err = 0;

	if (b->in_flight) {
		if (!dev->ops->batch_submit)
			err = loop_advance(b, true, deadline);
		else if (dev->ops->batch_wait)
			err = native_wait(b, deadline);
		for (uint32_t i = 0; i < b->count && !err; i++) {
			qmx_job *job = &b->entries[i].job;
			err = qmx_job_wait_deadline(job, deadline);
			if (qmx_job_done(job))
				err = 0;
		}
		if (err && err != QMX_ETIMEDOUT && (err = settle_after_error(b, err, deadline)))
			return err;
		if (err == QMX_ETIMEDOUT)
			return wait_timed_out(timeout_ms);
		b->in_flight = false;
	}

	uint32_t failed = 0, not_run = 0, first = b->count;
	for (uint32_t i = 0; i < b->count; i++) {
		int st = b->entries[i].job.status;
		if (!st)
			continue;
		if (first == b->count)
			first = i;
		if (st == QMX_EDEPENDENCY)
			not_run++;
		else
			failed++;
	}
	if (first == b->count)
		return 0;
	const qmx_job *j = &b->entries[first].job;
	return qmx_fail(j->status,
			"qmx_batch_wait: entry %u of %u failed on %s: %s (%u failed, %u not run)",
			first, b->count, dev->info.uri,
			j->status_msg[0] ? j->status_msg : qmx_strerror(j->status), failed, not_run);
}

static int entry_check(const char *who, const qmx_batch *b, uint32_t index)
{
	if (!b)
		return qmx_fail(QMX_EINVAL, "%s: batch is NULL", who);
	if (index >= b->count)
		return qmx_fail(QMX_EINVAL, "%s: index (%u) >= entries in the batch (%u)", who,
				index, b->count);
	if (!b->submitted)
		return qmx_fail(QMX_EBUSY, "%s: the batch was not submitted", who);
	if (!qmx_job_done(&b->entries[index].job))
		return qmx_fail(QMX_EBUSY, "%s: entry %u has not finished", who, index);
	return 0;
}

QMX_API int qmx_batch_entry_status(const qmx_batch *b, uint32_t index, int *status,
				   qmx_job_stats *stats)
{
	if (!status)
		return qmx_fail(QMX_EINVAL, "qmx_batch_entry_status: status is NULL");
	int err = entry_check("qmx_batch_entry_status", b, index);
	if (err)
		return err;
	const qmx_job *job = &b->entries[index].job;
	*status = job->status;
	if (stats)
		*stats = job->stats;
	return 0;
}

QMX_API const char *qmx_batch_entry_message(const qmx_batch *b, uint32_t index)
{
	if (entry_check("qmx_batch_entry_message", b, index))
		return "";
	return b->entries[index].job.status_msg;
}

QMX_API void qmx_batch_destroy(qmx_batch *b)
{
	if (!b)
		return;
	if (b->in_flight)
		(void)qmx_batch_wait(b, -1); /* its outcome was the caller's to read */
	batch_reset(b);
	free(b->entries);
	qmx_device_del(b->dev);
	free(b);
}
