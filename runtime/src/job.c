/* SPDX-License-Identifier: MIT */
/*
 * job.c - submitting GEMM jobs, waiting for them, their statistics, and the
 * synchronous qmx_gemm() convenience on host pointers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"
#include "qmx_batch.h"
#include "qmx_extent.h"
#include "qmx_jobprog.h"

/* Check that `r` names `need` bytes inside a buffer of `dev`. */
static int check_ref(const char *who, qmx_device *dev, const char *name, const qmx_ref *r,
		     uint64_t need)
{
	if (!need)
		return 0;
	if (!r->buffer)
		return qmx_fail(QMX_EINVAL, "%s: %s.buffer is NULL", who, name);
	if (r->buffer->dev != dev)
		return qmx_fail(QMX_EINVAL, "%s: %s.buffer belongs to another device", who, name);
	if (r->offset > r->buffer->size || need > r->buffer->size - r->offset)
		return qmx_fail(QMX_EINVAL,
				"%s: %s.offset (%llu) + extent (%llu) > buffer size (%zu)",
				who, name, (unsigned long long)r->offset,
				(unsigned long long)need, r->buffer->size);
	return 0;
}

static bool refs_overlap(const qmx_ref *x, uint64_t nx, const qmx_ref *y, uint64_t ny)
{
	return x->buffer == y->buffer && nx && ny && x->offset < y->offset + ny &&
	       y->offset < x->offset + nx;
}

int qmx_gemm_desc_check(const char *who, qmx_device *dev, const qmx_gemm_desc *d)
{
	struct qmx_gemm_extents e;
	int err = qmx_gemm_params_check(&d->params);
	if (err)
		return err;
	const qmx_gemm_params *p = &d->params;
	struct qmx_extent_bytes x;
	struct qmx_extent_error xe;
	if ((err = qmx_gemm_shape_check(who, p, dev->info.max_dim,
					"device max_dim", QMX_EINVAL, &x)))
		return err;
	/* Buffers start 64-byte aligned, so the offset decides. */
	const qmx_ref *refs[QMX_OPERAND_COUNT] = { &d->a, &d->b, &d->c, &d->bias,
						   &d->multipliers, &d->shifts };
	for (unsigned i = 0; i < QMX_OPERAND_COUNT; i++) {
		char field[32];
		if (!qmx_extent_check_align(&x, i, refs[i]->offset, &xe))
			continue;
		snprintf(field, sizeof(field), "%s.offset", xe.field);
		xe.field = field;
		return qmx_extent_error_fail(who, &xe, "", QMX_EINVAL);
	}
	qmx_gemm_extents(p, &e);
	if ((err = check_ref(who, dev, "a", &d->a, e.a)) ||
	    (err = check_ref(who, dev, "b", &d->b, e.b)) ||
	    (err = check_ref(who, dev, "c", &d->c, e.c)) ||
	    (err = check_ref(who, dev, "bias", &d->bias, e.bias)) ||
	    (err = check_ref(who, dev, "multipliers", &d->multipliers, e.multipliers)) ||
	    (err = check_ref(who, dev, "shifts", &d->shifts, e.shifts)))
		return err;
	const struct {
		const char *name;
		const qmx_ref *r;
		uint64_t n;
	} ins[] = { { "a", &d->a, e.a }, { "b", &d->b, e.b }, { "bias", &d->bias, e.bias },
		    { "multipliers", &d->multipliers, e.multipliers },
		    { "shifts", &d->shifts, e.shifts } };
	for (size_t i = 0; i < sizeof(ins) / sizeof(ins[0]); i++)
		if (refs_overlap(&d->c, e.c, ins[i].r, ins[i].n))
			return qmx_fail(QMX_EINVAL, "%s: c overlaps %s", who, ins[i].name);
	/* Per-channel values are checked where the host can see them. */
	if (e.multipliers && d->multipliers.buffer->host && d->shifts.buffer->host) {
		qmx_gemm_host_operands ops;
		qmx_desc_host_operands(d, &ops);
		return qmx_gemm_host_operands_check(who, p, &ops);
	}
	return 0;
}

void qmx_job_sync_init(qmx_job *job)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&job->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&job->lock, NULL);
}

bool qmx_job_done(qmx_job *job)
{
	pthread_mutex_lock(&job->lock);
	bool done = job->done;
	pthread_mutex_unlock(&job->lock);
	return done;
}

static void job_free(qmx_job *job)
{
	if (job->dev->ops->job_release)
		job->dev->ops->job_release(job->dev, job);
	pthread_cond_destroy(&job->cond);
	pthread_mutex_destroy(&job->lock);
	qmx_device_del(job->dev);
	free(job);
}

QMX_API int qmx_gemm_submit(qmx_device *dev, const qmx_gemm_desc *desc,
			    qmx_job **out)
{
	if (!out)
		return qmx_fail(QMX_EINVAL, "qmx_gemm_submit: out is NULL");
	*out = NULL;
	if (!dev || !desc)
		return qmx_fail(QMX_EINVAL, "qmx_gemm_submit: %s is NULL", !dev ? "dev" : "desc");
	if (!dev->ops->gemm_submit)
		return qmx_fail(QMX_ENOTSUP, "qmx_gemm_submit: backend '%s' cannot run GEMM jobs",
				dev->ops->name);
	int err = qmx_gemm_desc_check("qmx_gemm_submit", dev, desc);
	if (err)
		return err;

	qmx_job *job = calloc(1, sizeof(*job));
	if (!job)
		return qmx_fail(QMX_ENOMEM, "qmx_gemm_submit: out of memory");
	qmx_job_sync_init(job);
	job->dev = qmx_device_ref(dev);
	job->desc = *desc;
	job->submit_ns = qmx_now_ns();
	qmx_account_job_begin(dev, job);
	err = dev->ops->gemm_submit(dev, job);
	if (err) {
		job_free(job);
		return err;
	}
	*out = job;
	return 0;
}

int qmx_job_device_result(qmx_job *job, const struct qmx_jobprog_counters *d,
			  uint32_t clock_khz, uint32_t hw_error, uint64_t error_addr)
{
	job->stats.cycles = d->busy_cycles;
	job->stats.stall_cycles = d->stall_cycles;
	job->stats.macs = d->macs;
	job->stats.ext_bytes_read = d->ext_rd_bytes;
	job->stats.ext_bytes_written = d->ext_wr_bytes;
	job->stats.sram_bytes_read = d->sram_rd_bytes;
	job->stats.sram_bytes_written = d->sram_wr_bytes;
	if (clock_khz)
		job->stats.device_ns = d->busy_cycles * 1000000ull / clock_khz;
	if (!hw_error)
		return 0;
	/* qmx_job_wait() names the device in front of this. */
	return qmx_fail(QMX_EDEVICE, "hardware error %s (%s), address 0x%llx",
			qmx_jobprog_error_name(hw_error),
			qmx_jobprog_error_text(hw_error), (unsigned long long)error_addr);
}

void qmx_job_complete(qmx_job *job, int status)
{
	if (!job->stats.wall_ns)
		job->stats.wall_ns = qmx_now_ns() - job->submit_ns;
	if (!job->stats.macs && status == 0)
		job->stats.macs = (uint64_t)job->desc.params.m *
				  (uint64_t)job->desc.params.n *
				  (uint64_t)job->desc.params.k;
	if (status == 0)
		qmx_account_job(job->dev, job);
	else
		snprintf(job->status_msg, sizeof(job->status_msg), "%s", qmx_last_error());
	pthread_mutex_lock(&job->lock);
	job->status = status;
	job->done = true;
	pthread_cond_broadcast(&job->cond);
	pthread_mutex_unlock(&job->lock);
}

int qmx_job_wait_deadline(qmx_job *job, int64_t deadline)
{
	qmx_device *dev = job->dev;

	if (dev->ops->job_wait && !qmx_job_done(job)) {
		/* A simulated device runs on this thread while it is waited
		 * for: that host time is the simulator's, not the system's
		 * (docs/energy.md, "Simulated devices"). */
		bool sim = (job->stats.flags & QMX_JOB_SIMULATED) != 0;
		uint64_t w0 = sim ? qmx_now_ns() : 0, c0 = sim ? qmx_thread_cpu_ns() : 0;
		int err = dev->ops->job_wait(dev, job, deadline);
		if (sim) {
			pthread_mutex_lock(&job->lock);
			job->stats.sim_wall_ns += qmx_now_ns() - w0;
			job->stats.sim_cpu_ns += qmx_thread_cpu_ns() - c0;
			pthread_mutex_unlock(&job->lock);
		}
		if (err)
			return err;
	}
	pthread_mutex_lock(&job->lock);
	while (!job->done) {
		if (deadline < 0) {
			pthread_cond_wait(&job->cond, &job->lock);
			continue;
		}
		struct timespec ts = { .tv_sec = deadline / 1000000000,
				       .tv_nsec = deadline % 1000000000 };
		if (pthread_cond_timedwait(&job->cond, &job->lock, &ts) == ETIMEDOUT &&
		    !job->done) {
			pthread_mutex_unlock(&job->lock);
			return QMX_ETIMEDOUT;
		}
	}
	pthread_mutex_unlock(&job->lock);
	return 0;
}

QMX_API int qmx_job_wait(qmx_job *job, int64_t timeout_ns)
{
	if (!job)
		return qmx_fail(QMX_EINVAL, "qmx_job_wait: job is NULL");
	int64_t deadline = timeout_ns < 0 ? -1 : (int64_t)qmx_now_ns() + timeout_ns;
	int err = qmx_job_wait_deadline(job, deadline);
	if (err == QMX_ETIMEDOUT)
		return qmx_fail(QMX_ETIMEDOUT, "qmx_job_wait: job still running after %lld ns",
				(long long)timeout_ns);
	if (err)
		return err; /* the backend's wait keeps its detailed message */
	pthread_mutex_lock(&job->lock);
	int status = job->status;
	pthread_mutex_unlock(&job->lock);
	if (status)
		return qmx_fail(status, "qmx_job_wait: job failed on %s: %s", job->dev->info.uri,
				job->status_msg[0] ? job->status_msg : qmx_strerror(status));
	return 0;
}

QMX_API int qmx_job_get_stats(const qmx_job *job, qmx_job_stats *stats)
{
	if (!job || !stats)
		return qmx_fail(QMX_EINVAL, "qmx_job_get_stats: %s is NULL",
				!job ? "job" : "stats");
	qmx_job *j = (qmx_job *)job;
	pthread_mutex_lock(&j->lock);
	bool done = j->done;
	*stats = j->stats;
	pthread_mutex_unlock(&j->lock);
	if (!done)
		return qmx_fail(QMX_EBUSY, "qmx_job_get_stats: job has not finished");
	return 0;
}

QMX_API void qmx_job_del(qmx_job *job)
{
	if (!job)
		return;
	if (!qmx_job_done(job))
		(void)qmx_job_wait(job, -1); /* its status was the caller's to read */
	job_free(job);
}

/* ---------------------------------------------------------------- qmx_gemm() */

struct staged {
	qmx_buffer *buf;
	void *host;
};

static int stage(qmx_device *dev, const void *src, uint64_t len, struct staged *s)
{
	int err;
	s->buf = NULL;
	if (!len)
		return 0;
	if ((err = qmx_buffer_new(dev, len, 0, &s->buf)) ||
	    (err = qmx_buffer_map(s->buf, &s->host)))
		return err;
	if (src) {
		memcpy(s->host, src, len);
		return qmx_buffer_sync(s->buf, QMX_SYNC_TO_DEVICE, 0, len);
	}
	return 0;
}

QMX_API int qmx_gemm(qmx_device *dev, const qmx_gemm_params *p,
		     const qmx_gemm_host_operands *ops, qmx_job_stats *stats)
{
	struct qmx_gemm_extents e;
	int err;

	if (!dev)
		return qmx_fail(QMX_EINVAL, "qmx_gemm: dev is NULL");
	if ((err = qmx_gemm_params_check(p)) ||
	    (err = qmx_gemm_host_operands_check("qmx_gemm", p, ops)))
		return err;
	if (dev->ops->gemm_host) {
		qmx_job_stats local;
		memset(&local, 0, sizeof(local));
		err = dev->ops->gemm_host(dev, p, ops, &local);
		if (!err && stats)
			*stats = local;
		return err;
	}

	/* Stage through device buffers, one per operand. */
	qmx_gemm_extents(p, &e);
	struct staged a, b, c, bias, mult, shift;
	memset(&a, 0, sizeof(a));
	b = c = bias = mult = shift = a;
	qmx_job *job = NULL;
	if ((err = stage(dev, ops->a, e.a, &a)) || (err = stage(dev, ops->b, e.b, &b)) ||
	    (err = stage(dev, NULL, e.c, &c)) ||
	    (err = stage(dev, ops->bias, e.bias, &bias)) ||
	    (err = stage(dev, ops->multipliers, e.multipliers, &mult)) ||
	    (err = stage(dev, ops->shifts, e.shifts, &shift)))
		goto out;
	qmx_gemm_desc d = {
		.params = *p,
		.a = { a.buf, 0 }, .b = { b.buf, 0 }, .c = { c.buf, 0 },
		.bias = { bias.buf, 0 }, .multipliers = { mult.buf, 0 },
		.shifts = { shift.buf, 0 },
	};
	if ((err = qmx_gemm_submit(dev, &d, &job)) || (err = qmx_job_wait(job, -1)))
		goto out;
	if ((err = qmx_buffer_sync(c.buf, QMX_SYNC_FROM_DEVICE, 0, e.c)))
		goto out;
	/* Copy back only the elements of C, leaving the gaps of ldc untouched. */
	size_t elem = p->out_type == QMX_OUT_INT8 ? 1 : 4;
	for (int64_t i = 0; i < p->m; i++)
		memcpy((char *)ops->c + (size_t)(i * p->ldc) * elem,
		       (char *)c.host + (size_t)(i * p->ldc) * elem, (size_t)p->n * elem);
	if (stats)
		err = qmx_job_get_stats(job, stats);
out:
	qmx_job_del(job);
	struct staged *all[] = { &a, &b, &c, &bias, &mult, &shift };
	for (size_t i = 0; i < 6; i++)
		qmx_buffer_del(all[i]->buf);
	return err;
}

/* ---------------------------------------------------------------- host backends */

int qmx_host_gemm_sync(qmx_device *dev, const qmx_gemm_params *p,
		       const qmx_gemm_host_operands *ops, qmx_host_run_fn run,
		       const void *arg, qmx_job_stats *stats)
{
	qmx_job job;
	memset(&job, 0, sizeof(job));
	job.dev = dev;
	job.desc.params = *p;
	qmx_account_job_begin(dev, &job);
	int err = run(dev, p, ops, arg, &job.stats);
	if (err)
		return err;
	job.stats.wall_ns = job.stats.device_ns;
	qmx_account_job(dev, &job);
	*stats = job.stats;
	return 0;
}

struct host_work {
	qmx_job *job;
	qmx_host_run_fn run;
};

static void *host_worker(void *arg)
{
	struct host_work w = *(struct host_work *)arg;
	qmx_gemm_host_operands ops;

	free(arg);
	qmx_desc_host_operands(&w.job->desc, &ops);
	int err = w.run(w.job->dev, &w.job->desc.params, &ops, NULL, &w.job->stats);
	qmx_job_complete(w.job, err);
	return NULL;
}

int qmx_host_gemm_submit(qmx_device *dev, qmx_job *job, qmx_host_run_fn run)
{
	struct host_work *w = malloc(sizeof(*w));
	pthread_t tid;

	if (!w)
		return qmx_fail(QMX_ENOMEM, "%s device: out of memory", dev->ops->name);
	w->job = job;
	w->run = run;
	if (pthread_create(&tid, NULL, host_worker, w)) {
		free(w);
		return qmx_fail(QMX_ENOMEM, "%s device: cannot start a worker thread",
				dev->ops->name);
	}
	pthread_detach(tid);
	return 0;
}
