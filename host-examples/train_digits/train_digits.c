/* SPDX-License-Identifier: MIT */
/*
 * train_digits.c - quantization-aware training of a small MLP on the digits
 * data set, with the forward GEMMs in int8 on a qmx device.
 *
 *   qmx-train-digits [--device URI] [--epochs N] [--batch B] [--lr X]
 *                    [--seed S] [--data PATH] [--mode qat|fp32|both]
 *                    [--out float|int8] [--min-accuracy F] [--check]
 *
 * Model: 64 -> 128 (ReLU) -> 10, softmax cross-entropy, SGD with momentum.
 * QAT: each forward GEMM quantizes its input (per tensor, asymmetric) and
 * weights (per output channel, symmetric) and runs in int8 on the device
 * through a qmx_qgemm plan; the backward pass runs in float on the CPU with
 * the straight-through estimator (the gradient of the quantizer is taken as
 * the identity, so the fake-quantized operands stand in for the float ones).
 * The fp32 baseline is the same loop with float GEMMs on the CPU, from the
 * same initial weights and the same batch order.
 *
 * Data: the 1,797 8x8 images of scikit-learn's digits set (Debian package
 * python3-sklearn), pixels 0..16 scaled to [0, 1].  Split: image i is a test
 * image when i % 5 == 4 (359 test, 1,438 training images).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include <qmx/qmx.h>

#define DIGITS_DEFAULT_PATH \
	"/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
#define N_IN 64
#define N_HID 128
#define N_OUT 10
#define EVAL_CHUNK 128

struct options {
	const char *device;
	const char *data;
	const char *mode;
	char backend[16];
	int epochs;
	int batch;
	double lr;
	double momentum;
	uint64_t seed;
	bool int8_out;
	double min_accuracy;
	bool check;
};

struct dataset {
	float *x;   /* n x 64 */
	int *y;     /* n */
	int n;
};

/* ------------------------------------------------------------------ utilities */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float rng_sym(uint64_t *s)
{
	return (float)((double)(rng_next(s) >> 11) * 0x1.0p-52 - 1.0);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p) {
		fprintf(stderr, "train_digits: out of memory\n");
		exit(1);
	}
	return p;
}

/* C (m x n) = alpha * op(A) op(B) + beta * C, row-major, op = transpose when t*. */
static void sgemm(bool ta, bool tb, int m, int n, int k, float alpha,
		  const float *a, int lda, const float *b, int ldb, float beta,
		  float *c, int ldc)
{
	for (int i = 0; i < m; i++) {
		float *cr = c + (size_t)i * ldc;
		for (int j = 0; j < n; j++)
			cr[j] = beta == 0.0f ? 0.0f : beta * cr[j];
		for (int p = 0; p < k; p++) {
			float av = alpha * (ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]);
			if (av == 0.0f)
				continue;
			if (!tb) {
				const float *br = b + (size_t)p * ldb;
				for (int j = 0; j < n; j++)
					cr[j] += av * br[j];
			} else {
				for (int j = 0; j < n; j++)
					cr[j] += av * b[(size_t)j * ldb + p];
			}
		}
	}
}

/* ------------------------------------------------------------------ data */

static int load_digits(const char *path, struct dataset *all)
{
	gzFile f = gzopen(path, "rb");
	if (!f) {
		fprintf(stderr,
			"train_digits: cannot open the digits data set '%s' (%s).\n"
			"  It ships with Debian's python3-sklearn: apt-get install python3-sklearn,\n"
			"  or pass --data PATH / set QMX_DIGITS_CSV.\n",
			path, strerror(errno ? errno : ENOENT));
		return -1;
	}
	size_t cap = 1 << 20, len = 0;
	char *text = xcalloc(cap + 1, 1);
	int r;
	while ((r = gzread(f, text + len, (unsigned)(cap - len))) > 0) {
		len += (size_t)r;
		if (len == cap) {
			cap *= 2;
			text = realloc(text, cap + 1);
			if (!text) {
				fprintf(stderr, "train_digits: out of memory\n");
				exit(1);
			}
		}
	}
	int zerr;
	const char *zmsg = gzerror(f, &zerr);
	gzclose(f);
	if (r < 0 || (zerr != Z_OK && zerr != Z_STREAM_END)) {
		fprintf(stderr, "train_digits: '%s': gzip error: %s\n", path, zmsg);
		free(text);
		return -1;
	}
	text[len] = '\0';

	int rows = 0;
	for (size_t i = 0; i < len; i++)
		rows += text[i] == '\n';
	all->x = xcalloc((size_t)rows * N_IN, sizeof(float));
	all->y = xcalloc((size_t)rows, sizeof(int));
	char *p = text;
	int n = 0;
	while (*p && n < rows) {
		for (int c = 0; c <= N_IN; c++) {
			char *end;
			double v = strtod(p, &end);
			if (end == p || (c < N_IN && *end != ',') ||
			    (c == N_IN && *end != '\n' && *end != '\0' && *end != '\r')) {
				fprintf(stderr,
					"train_digits: '%s' line %d column %d: expected %d comma-separated numbers\n",
					path, n + 1, c + 1, N_IN + 1);
				free(text);
				return -1;
			}
			if (c < N_IN) {
				if (v < 0.0 || v > 16.0) {
					fprintf(stderr,
						"train_digits: '%s' line %d column %d: pixel %g outside [0, 16]\n",
						path, n + 1, c + 1, v);
					free(text);
					return -1;
				}
				all->x[(size_t)n * N_IN + c] = (float)(v / 16.0);
			} else {
				if (v < 0 || v > 9 || v != floor(v)) {
					fprintf(stderr,
						"train_digits: '%s' line %d: label %g is not a digit 0..9\n",
						path, n + 1, v);
					free(text);
					return -1;
				}
				all->y[n] = (int)v;
			}
			p = end + 1;
		}
		while (*p == '\n' || *p == '\r')
			p++;
		n++;
	}
	free(text);
	all->n = n;
	if (n < 100) {
		fprintf(stderr, "train_digits: '%s' has only %d images\n", path, n);
		return -1;
	}
	return 0;
}

/* Fixed split: image i goes to the test set when i % 5 == 4. */
static void split(const struct dataset *all, struct dataset *train, struct dataset *test)
{
	int n_test = 0;
	for (int i = 0; i < all->n; i++)
		n_test += i % 5 == 4;
	train->n = all->n - n_test;
	test->n = n_test;
	train->x = xcalloc((size_t)train->n * N_IN, sizeof(float));
	train->y = xcalloc((size_t)train->n, sizeof(int));
	test->x = xcalloc((size_t)test->n * N_IN, sizeof(float));
	test->y = xcalloc((size_t)test->n, sizeof(int));
	int tr = 0, te = 0;
	for (int i = 0; i < all->n; i++) {
		struct dataset *d = i % 5 == 4 ? test : train;
		int *k = i % 5 == 4 ? &te : &tr;
		memcpy(d->x + (size_t)*k * N_IN, all->x + (size_t)i * N_IN, N_IN * sizeof(float));
		d->y[*k] = all->y[i];
		(*k)++;
	}
}

/* ------------------------------------------------------------------ model */

struct mlp {
	float w1[N_IN * N_HID], b1[N_HID];  /* w1 is 64 x 128 (x * W) */
	float w2[N_HID * N_OUT], b2[N_OUT]; /* w2 is 128 x 10 */
	float v_w1[N_IN * N_HID], v_b1[N_HID], v_w2[N_HID * N_OUT], v_b2[N_OUT];
};

static void mlp_init(struct mlp *m, uint64_t seed)
{
	uint64_t s = seed;
	float r1 = sqrtf(6.0f / N_IN), r2 = sqrtf(6.0f / (N_HID + N_OUT));

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < N_IN * N_HID; i++)
		m->w1[i] = r1 * rng_sym(&s);
	for (int i = 0; i < N_HID * N_OUT; i++)
		m->w2[i] = r2 * rng_sym(&s);
}

/* The forward GEMMs of one run: int8 on a device (QAT) or float on the CPU. */
struct engine {
	bool qat;
	qmx_qgemm *l1, *l2;
	bool int8_out;
	/* Fake-quantized operands of the last forward, for the backward. */
	float *fq_x, *fq_h, fq_w1[N_IN * N_HID], fq_w2[N_HID * N_OUT];
	/* Accounting: the host CPU package (every run) and the device's jobs
	 * (QAT on an accelerator; on a CPU device the jobs' energy is already
	 * in the host figure). */
	qmx_meter *host_meter, *dev_meter;
	uint64_t jobs, device_ns;
};

static int fail_qmx(const char *what, int err)
{
	fflush(stdout);
	fprintf(stderr, "train_digits: %s: %s (%s)\n", what, qmx_strerror(err),
		qmx_last_error());
	return err;
}

static void account(struct engine *e, const qmx_job_stats *st)
{
	e->jobs++;
	e->device_ns += st->device_ns;
	if (e->dev_meter)
		(void)qmx_meter_add_job(e->dev_meter, st);
	/* The host meter too: for a simulated device it leaves the host's time
	 * simulating the job out and counts the device's time instead, so the
	 * figures are the system's as it would run (docs/energy.md). */
	(void)qmx_meter_add_job(e->host_meter, st);
}

static const char *source_name(int source)
{
	return source == QMX_ENERGY_MEASURED ? "measured"
	       : source == QMX_ENERGY_MODELLED ? "modelled"
					       : "none";
}

/*
 * Forward of `rows` images: h = relu(x W1 + b1), logits = h W2 + b2.  In QAT
 * mode the layer-1 job runs on the device while the host copies the next
 * batch's images (prefetch, may be NULL) - the asynchronous use of a plan.
 */
static int forward(struct engine *e, const struct mlp *m, const float *x, int rows,
		   float *h, float *logits, bool keep_fq, void (*prefetch)(void *),
		   void *prefetch_arg)
{
	int err;

	if (!e->qat) {
		sgemm(false, false, rows, N_HID, N_IN, 1.0f, x, N_IN, m->w1, N_HID, 0.0f,
		      h, N_HID);
		for (int i = 0; i < rows; i++)
			for (int j = 0; j < N_HID; j++) {
				float v = h[i * N_HID + j] + m->b1[j];
				h[i * N_HID + j] = v > 0.0f ? v : 0.0f;
			}
		if (prefetch)
			prefetch(prefetch_arg);
		sgemm(false, false, rows, N_OUT, N_HID, 1.0f, h, N_HID, m->w2, N_OUT,
		      0.0f, logits, N_OUT);
		for (int i = 0; i < rows; i++)
			for (int j = 0; j < N_OUT; j++)
				logits[i * N_OUT + j] += m->b2[j];
		return 0;
	}

	qmx_qgemm_args a1, a2;
	qmx_job_stats st;
	qmx_qgemm_args_init(&a1, rows, N_HID, N_IN);
	a1.a = x;
	a1.b = m->w1;
	a1.bias = m->b1;
	a1.c = h;
	a1.b_per_channel = 1;
	a1.relu = 1;
	if (e->int8_out) {
		/* Hidden activations: ReLU output, observed range [0, 8]. */
		a1.out = QMX_QGEMM_OUT_INT8;
		a1.c_qparams.scale = 8.0f / 255.0f;
		a1.c_qparams.zero_point = -128;
	}
	if ((err = qmx_qgemm_submit(e->l1, &a1)))
		return fail_qmx("layer 1 submit", err);
	if (prefetch)
		prefetch(prefetch_arg); /* overlaps the device job */
	if ((err = qmx_qgemm_wait(e->l1, INT64_C(60) * 1000000000, &st)))
		return fail_qmx("layer 1 wait", err);
	account(e, &st);
	/* The operands as the device saw them, for the STE backward. */
	if (keep_fq && (err = qmx_qgemm_fake_quantized(e->l1, e->fq_x, N_IN, e->fq_w1, N_HID)))
		return fail_qmx("layer 1 operands", err);

	qmx_qgemm_args_init(&a2, rows, N_OUT, N_HID);
	a2.a = h;
	a2.b = m->w2;
	a2.bias = m->b2;
	a2.c = logits;
	a2.b_per_channel = 1;
	if ((err = qmx_qgemm_run(e->l2, &a2, &st)))
		return fail_qmx("layer 2", err);
	account(e, &st);
	if (keep_fq && (err = qmx_qgemm_fake_quantized(e->l2, e->fq_h, N_HID, e->fq_w2, N_OUT)))
		return fail_qmx("layer 2 operands", err);
	return 0;
}

/* Softmax cross-entropy: returns the summed loss, writes dlogits / rows. */
static double softmax_xent(const float *logits, const int *y, int rows, float *grad)
{
	double loss = 0.0;
	for (int i = 0; i < rows; i++) {
		const float *l = logits + i * N_OUT;
		float mx = l[0];
		for (int j = 1; j < N_OUT; j++)
			mx = l[j] > mx ? l[j] : mx;
		double sum = 0.0;
		for (int j = 0; j < N_OUT; j++)
			sum += exp((double)(l[j] - mx));
		loss += log(sum) - (double)(l[y[i]] - mx);
		if (grad)
			for (int j = 0; j < N_OUT; j++)
				grad[i * N_OUT + j] =
					(float)((exp((double)(l[j] - mx)) / sum -
						 (j == y[i] ? 1.0 : 0.0)) / rows);
	}
	return loss;
}

static void sgd(float *w, float *v, const float *g, int n, float lr, float mom)
{
	for (int i = 0; i < n; i++) {
		v[i] = mom * v[i] + g[i];
		w[i] -= lr * v[i];
	}
}

struct batch_src {
	const struct dataset *d;
	const int *order;
	int start, rows;
	float *x;
	int *y;
};

static void gather(void *arg)
{
	struct batch_src *b = arg;
	for (int i = 0; i < b->rows; i++) {
		int idx = b->order[b->start + i];
		memcpy(b->x + (size_t)i * N_IN, b->d->x + (size_t)idx * N_IN,
		       N_IN * sizeof(float));
		b->y[i] = b->d->y[idx];
	}
}

static int evaluate(struct engine *e, const struct mlp *m, const struct dataset *d,
		    double *accuracy)
{
	static float h[EVAL_CHUNK * N_HID], logits[EVAL_CHUNK * N_OUT];
	int correct = 0, err;

	for (int s = 0; s < d->n; s += EVAL_CHUNK) {
		int rows = d->n - s < EVAL_CHUNK ? d->n - s : EVAL_CHUNK;
		if ((err = forward(e, m, d->x + (size_t)s * N_IN, rows, h, logits, false,
				   NULL, NULL)))
			return err;
		for (int i = 0; i < rows; i++) {
			int best = 0;
			for (int j = 1; j < N_OUT; j++)
				if (logits[i * N_OUT + j] > logits[i * N_OUT + best])
					best = j;
			correct += best == d->y[s + i];
		}
	}
	*accuracy = (double)correct / d->n;
	return 0;
}

struct result {
	double first_loss, last_loss, accuracy, seconds;
	double sim_seconds; /* host wall time spent simulating the device: not counted */
	double host_j, device_j, carbon_g;
	bool has_device; /* an accelerator meter (not a CPU device) */
	char host_method[32];
};

static int run(const struct options *o, bool qat, qmx_device *dev,
	       const struct dataset *train, const struct dataset *test,
	       struct result *res)
{
	struct mlp *m = xcalloc(1, sizeof(*m));
	struct engine e;
	int B = o->batch, err = 0;
	float *xb[2], *h, *logits, *dlog, *dh, *g_w1, *g_b1, *g_w2, *g_b2;
	int *yb[2];
	int *order = xcalloc((size_t)train->n, sizeof(int));
	uint64_t shuffle = o->seed ^ UINT64_C(0x5eed);

	memset(&e, 0, sizeof(e));
	memset(res, 0, sizeof(*res));
	e.qat = qat;
	e.int8_out = o->int8_out;
	mlp_init(m, o->seed);
	for (int i = 0; i < 2; i++) {
		xb[i] = xcalloc((size_t)B * N_IN, sizeof(float));
		yb[i] = xcalloc((size_t)B, sizeof(int));
	}
	h = xcalloc((size_t)B * N_HID, sizeof(float));
	dh = xcalloc((size_t)B * N_HID, sizeof(float));
	logits = xcalloc((size_t)B * N_OUT, sizeof(float));
	dlog = xcalloc((size_t)B * N_OUT, sizeof(float));
	e.fq_x = xcalloc((size_t)B * N_IN, sizeof(float));
	e.fq_h = xcalloc((size_t)B * N_HID, sizeof(float));
	g_w1 = xcalloc(N_IN * N_HID, sizeof(float));
	g_b1 = xcalloc(N_HID, sizeof(float));
	g_w2 = xcalloc(N_HID * N_OUT, sizeof(float));
	g_b2 = xcalloc(N_OUT, sizeof(float));
	int max_m = B > EVAL_CHUNK ? B : EVAL_CHUNK;
	if (qat && ((err = qmx_qgemm_new(dev, max_m, N_HID, N_IN, &e.l1)) ||
		    (err = qmx_qgemm_new(dev, max_m, N_OUT, N_HID, &e.l2)))) {
		fail_qmx("qmx_qgemm_new", err);
		goto out;
	}
	if ((err = qmx_meter_new("cpu", &e.host_meter))) {
		fail_qmx("qmx_meter_new(cpu)", err);
		goto out;
	}
	if (qat && strncmp(o->backend, "cpu", 3) != 0 &&
	    (err = qmx_meter_new(o->device, &e.dev_meter))) {
		fail_qmx("qmx_meter_new(device)", err);
		goto out;
	}
	for (int i = 0; i < train->n; i++)
		order[i] = i;

	const char *name = qat ? "int8-QAT" : "fp32";
	printf("%s: %s, batch %d, lr %g, momentum %g, seed %llu\n", name,
	       qat ? "forward GEMMs int8 on the device, backward fp32 on the CPU (STE)"
		   : "fp32 on the CPU",
	       B, o->lr, o->momentum, (unsigned long long)o->seed);
	for (int ep = 1; ep <= o->epochs; ep++) {
		double loss = 0.0;
		uint64_t busy0 = e.device_ns;
		qmx_energy_reading hr, dr;
		memset(&dr, 0, sizeof(dr));
		if ((err = qmx_meter_start(e.host_meter)) ||
		    (e.dev_meter && (err = qmx_meter_start(e.dev_meter)))) {
			fail_qmx("qmx_meter_start", err);
			goto out;
		}
		for (int i = train->n - 1; i > 0; i--) {
			int j = (int)(rng_next(&shuffle) % (uint64_t)(i + 1));
			int t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		int steps = (train->n + B - 1) / B, cur = 0;
		struct batch_src src = { train, order, 0, train->n < B ? train->n : B,
					 xb[0], yb[0] };
		gather(&src);
		for (int s = 0; s < steps; s++) {
			int rows = src.rows;
			const float *x = xb[cur];
			const int *y = yb[cur];
			struct batch_src next = { train, order, (s + 1) * B, 0, xb[!cur],
						  yb[!cur] };
			if (s + 1 < steps)
				next.rows = train->n - next.start < B ? train->n - next.start : B;
			if ((err = forward(&e, m, x, rows, h, logits, true,
					   next.rows ? gather : NULL, &next)))
				goto out;
			loss += softmax_xent(logits, y, rows, dlog);
			/* Backward in float; with QAT the fake-quantized operands
			 * (STE: d fq(v) / dv = 1). */
			const float *xin = qat ? e.fq_x : x, *hin = qat ? e.fq_h : h;
			const float *w2 = qat ? e.fq_w2 : m->w2;
			sgemm(true, false, N_HID, N_OUT, rows, 1.0f, hin, N_HID, dlog, N_OUT,
			      0.0f, g_w2, N_OUT);
			memset(g_b2, 0, sizeof(float) * N_OUT);
			for (int i = 0; i < rows; i++)
				for (int j = 0; j < N_OUT; j++)
					g_b2[j] += dlog[i * N_OUT + j];
			sgemm(false, true, rows, N_HID, N_OUT, 1.0f, dlog, N_OUT, w2, N_OUT,
			      0.0f, dh, N_HID);
			for (int i = 0; i < rows * N_HID; i++)
				if (h[i] <= 0.0f)
					dh[i] = 0.0f; /* ReLU */
			sgemm(true, false, N_IN, N_HID, rows, 1.0f, xin, N_IN, dh, N_HID, 0.0f,
			      g_w1, N_HID);
			memset(g_b1, 0, sizeof(float) * N_HID);
			for (int i = 0; i < rows; i++)
				for (int j = 0; j < N_HID; j++)
					g_b1[j] += dh[i * N_HID + j];
			float lr = (float)o->lr, mom = (float)o->momentum;
			sgd(m->w1, m->v_w1, g_w1, N_IN * N_HID, lr, mom);
			sgd(m->b1, m->v_b1, g_b1, N_HID, lr, mom);
			sgd(m->w2, m->v_w2, g_w2, N_HID * N_OUT, lr, mom);
			sgd(m->b2, m->v_b2, g_b2, N_OUT, lr, mom);
			src = next;
			cur = !cur;
		}
		loss /= train->n;
		double acc;
		if ((err = evaluate(&e, m, test, &acc)))
			goto out;
		if ((err = qmx_meter_stop(e.host_meter, &hr)) ||
		    (e.dev_meter && (err = qmx_meter_stop(e.dev_meter, &dr)))) {
			fail_qmx("qmx_meter_stop", err);
			goto out;
		}
		/* The system's time: host wall time less the simulator's, plus
		 * the device's time at its clock. */
		double dt = hr.seconds;
		res->seconds += dt;
		res->sim_seconds += hr.sim_seconds;
		double carbon = hr.carbon_operational_g + hr.carbon_embodied_g +
				dr.carbon_operational_g + dr.carbon_embodied_g;
		res->host_j += hr.joules;
		res->device_j += dr.joules;
		res->carbon_g += carbon;
		snprintf(res->host_method, sizeof(res->host_method), "%s", hr.method);
		if (ep == 1)
			res->first_loss = loss;
		res->last_loss = loss;
		res->accuracy = acc;
		printf("%s epoch %2d: loss %.4f  test accuracy %.2f %%  time %.3f s", name, ep, loss,
		       100.0 * acc, dt);
		if (hr.sim_seconds > 0)
			printf(" (+ %.3f s simulating, not counted)", hr.sim_seconds);
		printf("  host %.3f J (%s %s)", hr.joules, source_name(hr.source), hr.method);
		if (e.dev_meter)
			printf("  device %.3g J (%s), busy %.1f ms", dr.joules,
			       source_name(dr.source), (double)(e.device_ns - busy0) * 1e-6);
		printf("  %.3g gCO2e\n", carbon);
		fflush(stdout);
	}
	res->has_device = e.dev_meter != NULL;

out:
	qmx_meter_del(e.host_meter);
	qmx_meter_del(e.dev_meter);
	qmx_qgemm_del(e.l1);
	qmx_qgemm_del(e.l2);
	for (int i = 0; i < 2; i++) {
		free(xb[i]);
		free(yb[i]);
	}
	free(h);
	free(dh);
	free(logits);
	free(dlog);
	free(e.fq_x);
	free(e.fq_h);
	free(g_w1);
	free(g_b1);
	free(g_w2);
	free(g_b2);
	free(order);
	free(m);
	return err;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qmx-train-digits [--device URI] [--epochs N] [--batch B] [--lr X]\n"
		"                        [--momentum X] [--seed S] [--data PATH]\n"
		"                        [--mode qat|fp32|both] [--out float|int8]\n"
		"                        [--min-accuracy F] [--check]\n"
		"  --check: exit 1 unless every run's loss decreased from the first epoch\n"
		"           to the last and its test accuracy is >= --min-accuracy (default 0.95)\n");
}

static int parse_num(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double d = v ? strtod(v, &end) : 0.0;
	if (!v || end == v || *end || errno || !(d >= lo && d <= hi)) {
		fprintf(stderr, "train_digits: %s '%s' must be a number in [%g, %g]\n", opt,
			v ? v : "(missing)", lo, hi);
		return -1;
	}
	*out = d;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.device = "cpu", .data = getenv("QMX_DIGITS_CSV"), .mode = "both",
		.epochs = 20, .batch = 32, .lr = 0.05, .momentum = 0.9, .seed = 42,
		.min_accuracy = 0.95,
	};
	if (!o.data || !*o.data)
		o.data = DIGITS_DEFAULT_PATH;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double d;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--check")) {
			o.check = true;
			continue;
		}
		if (!strcmp(a, "--device") && v) {
			o.device = v;
		} else if (!strcmp(a, "--data") && v) {
			o.data = v;
		} else if (!strcmp(a, "--mode") && v) {
			if (strcmp(v, "qat") && strcmp(v, "fp32") && strcmp(v, "both")) {
				fprintf(stderr, "train_digits: --mode '%s' must be qat, fp32 or both\n", v);
				return 2;
			}
			o.mode = v;
		} else if (!strcmp(a, "--out") && v) {
			if (strcmp(v, "float") && strcmp(v, "int8")) {
				fprintf(stderr, "train_digits: --out '%s' must be float or int8\n", v);
				return 2;
			}
			o.int8_out = !strcmp(v, "int8");
		} else if (!strcmp(a, "--epochs") && v) {
			if (parse_num(a, v, 1, 1000, &d))
				return 2;
			o.epochs = (int)d;
		} else if (!strcmp(a, "--batch") && v) {
			if (parse_num(a, v, 1, 1024, &d))
				return 2;
			o.batch = (int)d;
		} else if (!strcmp(a, "--lr") && v) {
			if (parse_num(a, v, 1e-6, 10, &o.lr))
				return 2;
		} else if (!strcmp(a, "--momentum") && v) {
			if (parse_num(a, v, 0, 0.999, &o.momentum))
				return 2;
		} else if (!strcmp(a, "--seed") && v) {
			if (parse_num(a, v, 0, 9007199254740992.0, &d))
				return 2;
			o.seed = (uint64_t)d;
		} else if (!strcmp(a, "--min-accuracy") && v) {
			if (parse_num(a, v, 0, 1, &o.min_accuracy))
				return 2;
		} else {
			fprintf(stderr, "train_digits: unknown or incomplete option '%s'\n", a);
			usage(stderr);
			return 2;
		}
		i++;
	}

	struct dataset all, train, test;
	if (load_digits(o.data, &all))
		return 1;
	split(&all, &train, &test);
	printf("digits: %d images from %s; split i %% 5 == 4 -> test: %d train, %d test\n",
	       all.n, o.data, train.n, test.n);

	bool do_qat = strcmp(o.mode, "fp32") != 0, do_fp32 = strcmp(o.mode, "qat") != 0;
	qmx_device *dev = NULL;
	int err;
	if (do_qat) {
		qmx_device_info info;
		if ((err = qmx_device_open(o.device, &dev)) ||
		    (err = qmx_device_query(dev, &info))) {
			fail_qmx("opening the device", err);
			return 1;
		}
		printf("device: %s (%s), %s\n", info.uri, info.name, info.detail);
		snprintf(o.backend, sizeof(o.backend), "%s", info.backend);
	}

	struct result rq = { 0 }, rf = { 0 };
	int rc = 0;
	if (do_qat && run(&o, true, dev, &train, &test, &rq))
		rc = 1;
	if (!rc && do_fp32 && run(&o, false, NULL, &train, &test, &rf))
		rc = 1;
	qmx_device_del(dev);
	free(all.x);
	free(all.y);
	free(train.x);
	free(train.y);
	free(test.x);
	free(test.y);
	if (rc)
		return rc;

	printf("\nsummary (%d epochs):\n", o.epochs);
	if (do_qat)
		printf("  int8-QAT on %-8s test accuracy %.2f %%  loss %.4f -> %.4f  time %.2f s  host %.3f J (%s)  device %s%.3g J  %.3g gCO2e\n",
		       o.device, 100.0 * rq.accuracy, rq.first_loss, rq.last_loss, rq.seconds,
		       rq.host_j, rq.host_method,
		       rq.has_device ? "" : "(in host figure) ", rq.device_j, rq.carbon_g);
	if (do_qat && rq.sim_seconds > 0)
		printf("  %-18s simulation wall time %.2f s: the simulator's, not counted\n", "",
		       rq.sim_seconds);
	if (do_fp32)
		printf("  fp32 on the CPU    test accuracy %.2f %%  loss %.4f -> %.4f  time %.2f s  host %.3f J (%s)  %.3g gCO2e\n",
		       100.0 * rf.accuracy, rf.first_loss, rf.last_loss, rf.seconds, rf.host_j,
		       rf.host_method, rf.carbon_g);
	if (do_qat && do_fp32)
		printf("  accuracy gap (fp32 - int8-QAT): %+.2f points\n",
		       100.0 * (rf.accuracy - rq.accuracy));

	if (o.check) {
		const struct {
			bool on;
			const char *name;
			const struct result *r;
		} runs[] = { { do_qat, "int8-QAT", &rq }, { do_fp32, "fp32", &rf } };
		for (size_t i = 0; i < 2; i++) {
			if (!runs[i].on)
				continue;
			if (!(runs[i].r->last_loss < runs[i].r->first_loss)) {
				printf("CHECK FAILED: %s loss did not decrease (%.4f -> %.4f)\n",
				       runs[i].name, runs[i].r->first_loss, runs[i].r->last_loss);
				rc = 1;
			}
			if (!(runs[i].r->accuracy >= o.min_accuracy)) {
				printf("CHECK FAILED: %s test accuracy %.2f %% < floor %.2f %%\n",
				       runs[i].name, 100.0 * runs[i].r->accuracy,
				       100.0 * o.min_accuracy);
				rc = 1;
			}
		}
		if (!rc)
			printf("check passed: loss decreased, accuracy >= %.2f %%\n",
			       100.0 * o.min_accuracy);
	}
	return rc;
}
