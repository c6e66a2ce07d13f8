/* SPDX-License-Identifier: MIT */
/*
 * group.c - device groups: one qmx_device made of several member devices.
 *
 * Each GEMM is cut into one part per member, by rows of A (and C) when
 * M >= N, else by columns of B (and C, bias, per-channel arrays), in
 * proportion to the members' throughputs; the parts run at once, one thread
 * per member, through qmx_gemm() on the member.  Every output element is
 * computed whole by one member, every member is bit-exact, so the group is
 * bit-identical to one device.  Buffers are host memory (the core's default);
 * each member stages its part as it needs.  The URI grammar and the
 * weights are documented in qmx.h ("device groups") and docs/distributed.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"
#include "qmx_group.h"

/* Every backend scheme, built here or not, so that "sim,kmod" is a group
 * whose second member reports "not built" rather than a sim option. */
static const char *const schemes[] = { "cpu", "cpu-ref", "sim", "kmod", "xrt",
				       "opencl", "onednn", "group" };

#define GROUP_PREFIX "group:"
/* The calibration GEMM that weighs a member without an array (a CPU). */
#define CAL_M 64
#define CAL_N 256
#define CAL_K 256
#define CAL_RUNS 3

struct member {
	qmx_device *dev;
	double weight;       /* share, sums to 1 over the group */
	double macs_per_s;
	char weight_source[96];
	uint64_t jobs;
	qmx_job_stats total, last;
};

struct group {
	size_t n;
	struct member m[QMX_GROUP_MAX_MEMBERS];
	pthread_mutex_t lock; /* the members' running totals */
};

/* Does the comma-separated item at s (len bytes) start a new member? */
static bool starts_member(const char *s, size_t len)
{
	size_t scheme = strcspn(s, ":,");
	if (!len)
		return true; /* an empty member, refused when opened */
	if (scheme > len)
		scheme = len;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i]) == scheme && !memcmp(s, schemes[i], scheme))
			return true;
	return false;
}

/* Call fn(item, len, ctx) for each member's text in list; stops at an error. */
static int for_each_member(const char *list, int (*fn)(const char *, size_t, void *),
			   void *ctx)
{
	const char *start = list, *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		if (comma && !starts_member(comma + 1, strcspn(comma + 1, ","))) {
			p = comma + 1; /* an option of the current member */
			continue;
		}
		int err = fn(start, (size_t)(end - start), ctx);
		if (err || !comma)
			return err;
		start = p = comma + 1;
	}
}

static int count_one(const char *s, size_t len, void *ctx)
{
	(void)s, (void)len;
	++*(size_t *)ctx;
	return 0;
}

const char *qmx_group_uri(const char *uri)
{
	size_t n = 0;
	if (!strncmp(uri, GROUP_PREFIX, strlen(GROUP_PREFIX)))
		return uri + strlen(GROUP_PREFIX);
	if (!strchr(uri, ','))
		return NULL;
	for_each_member(uri, count_one, &n);
	return n >= 2 ? uri : NULL;
}

void qmx_group_split(const double *weights, size_t n, int64_t total, int64_t *start,
		     int64_t *count)
{
	double sum = 0, rem[QMX_GROUP_MAX_MEMBERS];
	int64_t given = 0;
	for (size_t i = 0; i < n; i++)
		sum += weights[i];
	for (size_t i = 0; i < n; i++) {
		double exact = (double)total * weights[i] / sum;
		count[i] = (int64_t)exact;
		rem[i] = exact - (double)count[i];
		given += count[i];
	}
	/* The rows rounding left over go to the largest remainders (ties: the
	 * first member), one each. */
	while (given < total) {
		size_t best = 0;
		for (size_t i = 1; i < n; i++)
			if (rem[i] > rem[best])
				best = i;
		count[best]++;
		rem[best] = -1;
		given++;
	}
	for (size_t i = 0, at = 0; i < n; at += (size_t)count[i], i++)
		start[i] = (int64_t)at;
}

/* ---------------------------------------------------------------- open */

struct open_ctx {
	struct group *g;
	const char *uri;
	size_t given; /* members with weight= */
	double given_w[QMX_GROUP_MAX_MEMBERS];
};

/* Open one member from its text: drop its ",weight=W" option, open the
 * rest as a device URI. */
static int open_member(const char *s, size_t len, void *ctx)
{
	struct open_ctx *o = ctx;
	size_t idx = o->g->n + 1;
	char uri[sizeof(((qmx_device_info *)0)->uri)], item[sizeof(uri)];
	size_t used = 0;
	double w = 0;

	if (idx > QMX_GROUP_MAX_MEMBERS)
		return qmx_fail(QMX_EINVAL,
				"device group '%s': more than QMX_GROUP_MAX_MEMBERS (%d) members",
				o->uri, QMX_GROUP_MAX_MEMBERS);
	if (!len)
		return qmx_fail(QMX_EINVAL, "device group '%s': member %zu is empty", o->uri, idx);
	if (len >= sizeof(uri))
		return qmx_fail(QMX_EINVAL, "device group '%s': member %zu is longer than %zu bytes",
				o->uri, idx, sizeof(uri) - 1);
	if (!strncmp(s, "group", 5) && (len == 5 || s[5] == ':' || s[5] == ','))
		return qmx_fail(QMX_EINVAL,
				"device group '%s': member %zu is a group; groups do not nest",
				o->uri, idx);
	uri[0] = '\0';
	for (size_t at = 0; at < len;) {
		size_t l = strcspn(s + at, ",");
		if (l > len - at)
			l = len - at;
		memcpy(item, s + at, l);
		item[l] = '\0';
		at += l + 1;
		if (!strncmp(item, "weight=", 7)) {
			char *end;
			w = strtod(item + 7, &end);
			if (end == item + 7 || *end || !(w > 0) || w > 1e18)
				return qmx_fail(QMX_EINVAL,
						"device group '%s': member %zu weight '%s' must be a number in (0, 1e18]",
						o->uri, idx, item + 7);
			continue;
		}
		used += (size_t)snprintf(uri + used, sizeof(uri) - used, "%s%s",
					 used ? "," : "", item);
	}
	qmx_device *dev;
	int err = qmx_device_open(uri, &dev);
	if (err) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s", qmx_last_error());
		return qmx_fail(err, "device group '%s': member %zu (%s): %s", o->uri, idx, uri,
				msg);
	}
	struct member *m = &o->g->m[o->g->n++];
	memset(m, 0, sizeof(*m));
	m->dev = dev;
	if (w > 0) {
		o->given_w[o->given++] = w;
		m->weight = w;
		snprintf(m->weight_source, sizeof(m->weight_source), "given: weight=%g", w);
	}
	return 0;
}

/* Throughput of a member without a given weight, MAC/s. */
static int member_throughput(struct member *m)
{
	const qmx_device_info *in = &m->dev->info;
	if (in->array_rows && in->array_cols && in->clock_mhz) {
		m->macs_per_s = (double)in->array_rows * in->array_cols * in->clock_mhz * 1e6;
		snprintf(m->weight_source, sizeof(m->weight_source),
			 "modelled: %ux%u MACs x %u MHz", in->array_rows, in->array_cols,
			 in->clock_mhz);
		return 0;
	}
	/* No array to count: time a small GEMM on the device itself. */
	static int8_t a[CAL_M * CAL_K], b[CAL_K * CAL_N];
	int32_t *c = malloc(sizeof(int32_t) * CAL_M * CAL_N);
	qmx_gemm_params p;
	uint64_t best = UINT64_MAX;
	if (!c)
		return qmx_fail(QMX_ENOMEM, "device group: out of memory");
	qmx_gemm_params_init(&p, CAL_M, CAL_N, CAL_K);
	qmx_gemm_host_operands ops = { .a = a, .b = b, .c = c };
	for (int r = 0; r < CAL_RUNS; r++) {
		uint64_t t0 = qmx_now_ns();
		int err = qmx_gemm(m->dev, &p, &ops, NULL);
		if (err) {
			free(c);
			return err;
		}
		uint64_t t = qmx_now_ns() - t0;
		best = t < best ? t : best;
	}
	free(c);
	m->macs_per_s = (double)CAL_M * CAL_N * CAL_K / ((double)(best ? best : 1) * 1e-9);
	snprintf(m->weight_source, sizeof(m->weight_source),
		 "calibrated: best of %d GEMMs %dx%dx%d, %.3g MAC/s", CAL_RUNS, CAL_M, CAL_N,
		 CAL_K, m->macs_per_s);
	return 0;
}

static void group_close(qmx_device *dev)
{
	struct group *g = dev->priv;
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		qmx_device_del(g->m[i].dev);
	pthread_mutex_destroy(&g->lock);
	free(g);
	dev->priv = NULL;
}

static void group_fill_info(qmx_device *dev, struct group *g)
{
	qmx_device_info *in = &dev->info;
	const uint32_t common = QMX_FEATURE_INT32_OUT | QMX_FEATURE_INT8_OUT |
				QMX_FEATURE_PER_CHANNEL | QMX_FEATURE_BIAS | QMX_FEATURE_COUNTERS;
	size_t used = 0, dused = 0;

	in->features = common;
	in->max_dim = in->max_k = UINT64_MAX;
	used = (size_t)snprintf(in->name, sizeof(in->name), "group of %zu:", g->n);
	dused = (size_t)snprintf(in->detail, sizeof(in->detail), "shares");
	for (size_t i = 0; i < g->n; i++) {
		const qmx_device_info *mi = &g->m[i].dev->info;
		in->features &= mi->features | ~common;
		in->features |= mi->features & QMX_FEATURE_SIMULATED;
		in->max_dim = mi->max_dim < in->max_dim ? mi->max_dim : in->max_dim;
		in->max_k = mi->max_k < in->max_k ? mi->max_k : in->max_k;
		in->compute_units += mi->compute_units;
		if (used < sizeof(in->name))
			used += (size_t)snprintf(in->name + used, sizeof(in->name) - used, "%s %s",
						 i ? " +" : "", mi->uri);
		if (dused < sizeof(in->detail))
			dused += (size_t)snprintf(in->detail + dused, sizeof(in->detail) - dused,
						  " %s %.3f", mi->uri, g->m[i].weight);
	}
	in->features &= ~QMX_FEATURE_DEVICE_MEMORY; /* host buffers */
}

static int group_open(qmx_device *dev, const char *arg)
{
	struct group *g = calloc(1, sizeof(*g));
	struct open_ctx o = { .g = g, .uri = dev->info.uri };
	int err;

	if (!g)
		return qmx_fail(QMX_ENOMEM, "device group: out of memory");
	pthread_mutex_init(&g->lock, NULL);
	dev->priv = g;
	if ((err = for_each_member(arg, open_member, &o)))
		goto fail;
	if (o.given && o.given != g->n) {
		err = qmx_fail(QMX_EINVAL,
			       "device group '%s': weight= given for %zu of %zu members; give it for all or none",
			       o.uri, o.given, g->n);
		goto fail;
	}
	double sum = 0;
	for (size_t i = 0; i < g->n; i++) {
		if (!o.given && (err = member_throughput(&g->m[i])))
			goto fail;
		sum += o.given ? g->m[i].weight : g->m[i].macs_per_s;
	}
	for (size_t i = 0; i < g->n; i++)
		g->m[i].weight = (o.given ? g->m[i].weight : g->m[i].macs_per_s) / sum;
	group_fill_info(dev, g);
	return 0;
fail:
	group_close(dev);
	return err;
}

/* ---------------------------------------------------------------- GEMM */

struct part {
	qmx_device *dev;
	qmx_gemm_params p;
	qmx_gemm_host_operands ops;
	qmx_job_stats st;
	int err;
	char msg[256];
};

static void *part_run(void *arg)
{
	struct part *pt = arg;
	memset(&pt->st, 0, sizeof(pt->st));
	pt->err = qmx_gemm(pt->dev, &pt->p, &pt->ops, &pt->st);
	if (pt->err)
		snprintf(pt->msg, sizeof(pt->msg), "%s", qmx_last_error());
	return NULL;
}

/* Add the part `s` into the group's `t`: counts summed as qmx_job_stats_add()
 * does, but the parts ran side by side: their threads add up, the wall time
 * is the caller's, and device time and simulation wall time are the longest
 * part's (summed they would exceed the wall time the host spent). */
static void stats_add(qmx_job_stats *t, const qmx_job_stats *s, bool first)
{
	uint64_t wall = t->wall_ns, device = t->device_ns, sim_wall = t->sim_wall_ns;
	uint32_t threads = t->threads + s->threads;
	qmx_job_stats_add(t, s, first);
	t->wall_ns = wall;
	t->device_ns = device > s->device_ns ? device : s->device_ns;
	t->sim_wall_ns = sim_wall > s->sim_wall_ns ? sim_wall : s->sim_wall_ns;
	t->threads = threads;
}

static int group_gemm_host(qmx_device *dev, const qmx_gemm_params *p,
			   const qmx_gemm_host_operands *ops, qmx_job_stats *stats)
{
	struct group *g = dev->priv;
	struct part parts[QMX_GROUP_MAX_MEMBERS];
	pthread_t tid[QMX_GROUP_MAX_MEMBERS];
	bool started[QMX_GROUP_MAX_MEMBERS] = { false };
	double w[QMX_GROUP_MAX_MEMBERS];
	int64_t start[QMX_GROUP_MAX_MEMBERS], count[QMX_GROUP_MAX_MEMBERS];
	bool by_rows = p->m >= p->n;
	size_t elem = p->out_type == QMX_OUT_INT8 ? 1 : 4;
	bool pc = p->out_type == QMX_OUT_INT8 && p->quant_mode == QMX_QUANT_PER_CHANNEL;
	uint64_t t0 = qmx_now_ns();

	for (size_t i = 0; i < g->n; i++)
		w[i] = g->m[i].weight;
	qmx_group_split(w, g->n, by_rows ? p->m : p->n, start, count);
	for (size_t i = 0; i < g->n; i++) {
		struct part *pt = &parts[i];
		int64_t s = start[i];
		memset(pt, 0, sizeof(*pt));
		pt->dev = g->m[i].dev;
		pt->p = *p;
		pt->ops = *ops;
		if (!count[i])
			continue;
		if (by_rows) {
			pt->p.m = count[i];
			pt->ops.a = ops->a + s * p->lda;
			pt->ops.c = (char *)ops->c + (size_t)(s * p->ldc) * elem;
		} else {
			pt->p.n = count[i];
			pt->ops.b = ops->b + s;
			pt->ops.c = (char *)ops->c + (size_t)s * elem;
			if (p->has_bias)
				pt->ops.bias = ops->bias + s;
			if (pc) {
				pt->ops.multipliers = ops->multipliers + s;
				pt->ops.shifts = ops->shifts + s;
			}
		}
	}
	/* One thread per member with a part; a lone part runs right here. */
	size_t busy = 0;
	for (size_t i = 0; i < g->n; i++)
		busy += count[i] != 0;
	for (size_t i = 0; i < g->n; i++) {
		if (!count[i])
			continue;
		if (busy > 1 && !pthread_create(&tid[i], NULL, part_run, &parts[i]))
			started[i] = true;
		else
			part_run(&parts[i]);
	}
	for (size_t i = 0; i < g->n; i++)
		if (started[i])
			pthread_join(tid[i], NULL);

	qmx_job_stats sum;
	bool first = true;
	memset(&sum, 0, sizeof(sum));
	for (size_t i = 0; i < g->n; i++) {
		if (!count[i])
			continue;
		if (parts[i].err)
			return qmx_fail(parts[i].err, "device group member %zu (%s): %s", i + 1,
					g->m[i].dev->info.uri, parts[i].msg);
		stats_add(&sum, &parts[i].st, first);
		first = false;
	}
	sum.wall_ns = qmx_now_ns() - t0;
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < g->n; i++) {
		struct member *m = &g->m[i];
		if (!count[i]) {
			memset(&m->last, 0, sizeof(m->last));
			continue;
		}
		qmx_job_stats_add(&m->total, &parts[i].st, m->jobs == 0);
		m->jobs++;
		m->last = parts[i].st;
	}
	pthread_mutex_unlock(&g->lock);
	*stats = sum;
	return 0;
}

/* Queued jobs run the split on a worker thread, which completes them. */
static void *submit_worker(void *arg)
{
	qmx_job *job = arg;
	qmx_gemm_host_operands ops;
	qmx_job_stats st;

	qmx_desc_host_operands(&job->desc, &ops);
	int err = group_gemm_host(job->dev, &job->desc.params, &ops, &st);
	if (!err) {
		job->stats = st;
		job->stats.wall_ns = 0; /* submit to completion, set by the core */
	}
	qmx_job_complete(job, err);
	return NULL;
}

static int group_gemm_submit(qmx_device *dev, qmx_job *job)
{
	pthread_t tid;
	if (pthread_create(&tid, NULL, submit_worker, job))
		return qmx_fail(QMX_ENOMEM, "device group %s: cannot start a worker thread",
				dev->info.uri);
	pthread_detach(tid);
	return 0;
}

const struct qmx_backend_ops qmx_backend_group_ops = {
	.name = "group",
	.open = group_open,
	.close = group_close,
	.gemm_host = group_gemm_host,
	.gemm_submit = group_gemm_submit,
};

QMX_API int qmx_device_group_stats(qmx_device *dev, qmx_group_member_stats *members,
				   size_t cap, size_t *count)
{
	if (!dev || !count)
		return qmx_fail(QMX_EINVAL, "qmx_device_group_stats: %s is NULL",
				!dev ? "dev" : "count");
	if (dev->ops != &qmx_backend_group_ops)
		return qmx_fail(QMX_EINVAL, "qmx_device_group_stats: %s is not a device group",
				dev->info.uri);
	if (cap && !members)
		return qmx_fail(QMX_EINVAL,
				"qmx_device_group_stats: members is NULL with cap (%zu) > 0", cap);
	struct group *g = dev->priv;
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < g->n && i < cap; i++) {
		const struct member *m = &g->m[i];
		qmx_group_member_stats *o = &members[i];
		memset(o, 0, sizeof(*o));
		o->info = m->dev->info;
		o->weight = m->weight;
		o->macs_per_s = m->macs_per_s;
		snprintf(o->weight_source, sizeof(o->weight_source), "%s", m->weight_source);
		o->jobs = m->jobs;
		o->total = m->total;
		o->last = m->last;
	}
	pthread_mutex_unlock(&g->lock);
	*count = g->n;
	return 0;
}
