/* SPDX-License-Identifier: MIT */
/*
 * train.c - quantization helpers for training loops and the fake-quant GEMM
 * plan (qmx_qgemm): float in, int8 GEMM on the device, float out, with its
 * device buffers allocated once and reused by every call.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"

/* ------------------------------------------------------------------ checks */

static int check_scheme(const char *who, const char *field, int scheme)
{
	if (scheme != QMX_QSCHEME_ASYMMETRIC && scheme != QMX_QSCHEME_SYMMETRIC)
		return qmx_fail(QMX_EINVAL,
				"%s: %s (%d) is not QMX_QSCHEME_ASYMMETRIC (0) or QMX_QSCHEME_SYMMETRIC (1)",
				who, field, scheme);
	return 0;
}

static int check_qparams(const char *who, const char *field, long long index,
			 qmx_qparams qp)
{
	char name[48];

	if (index >= 0)
		snprintf(name, sizeof(name), "%s[%lld]", field, index);
	else
		snprintf(name, sizeof(name), "%s", field);
	if (!isfinite(qp.scale) || !(qp.scale > 0.0f))
		return qmx_fail(QMX_EINVAL, "%s: %s.scale (%g) must be finite and > 0",
				who, name, (double)qp.scale);
	if (qp.zero_point < -128 || qp.zero_point > 127)
		return qmx_fail(QMX_EINVAL, "%s: %s.zero_point (%d) outside [-128, 127]",
				who, name, qp.zero_point);
	return 0;
}

/* rows x cols with leading dimension ld: positive shape, ld >= cols. */
static int check_matrix(const char *who, const char *name, const void *ptr,
			int64_t rows, int64_t cols, int64_t ld)
{
	if (!ptr)
		return qmx_fail(QMX_EINVAL, "%s: %s is NULL", who, name);
	if (rows <= 0 || cols <= 0)
		return qmx_fail(QMX_EINVAL, "%s: %s shape (%lld x %lld) must be > 0",
				who, name, (long long)rows, (long long)cols);
	if (ld < cols)
		return qmx_fail(QMX_EINVAL, "%s: leading dimension of %s (%lld) < cols (%lld)",
				who, name, (long long)ld, (long long)cols);
	if ((uint64_t)rows > SIZE_MAX / (uint64_t)ld)
		return qmx_fail(QMX_EOVERFLOW, "%s: %s extent (%lld x %lld) overflows size_t",
				who, name, (long long)rows, (long long)ld);
	return 0;
}

static int check_axis(const char *who, int axis)
{
	if (axis != 0 && axis != 1)
		return qmx_fail(QMX_EINVAL, "%s: axis (%d) must be 0 (rows) or 1 (columns)",
				who, axis);
	return 0;
}

/* ------------------------------------------------------------------ parameters */

static int from_minmax(const char *who, float min, float max, int scheme,
		       qmx_qparams *out)
{
	if (!isfinite(min) || !isfinite(max))
		return qmx_fail(QMX_EINVAL, "%s: range [%g, %g] must be finite", who,
				(double)min, (double)max);
	if (min > max)
		return qmx_fail(QMX_EINVAL, "%s: min (%g) > max (%g)", who, (double)min,
				(double)max);
	/* The range must contain 0 so that 0.0 is exactly representable. */
	double lo = min < 0.0f ? min : 0.0;
	double hi = max > 0.0f ? max : 0.0;
	out->zero_point = 0;
	if (lo == hi) {
		out->scale = 1.0f;
		return 0;
	}
	double scale;
	if (scheme == QMX_QSCHEME_SYMMETRIC)
		scale = fmax(-lo, hi) / 127.0;
	else
		scale = (hi - lo) / 255.0;
	float s = (float)scale;
	if (!(s >= FLT_MIN))
		s = FLT_MIN; /* tiny ranges: the smallest normal scale */
	out->scale = s;
	if (scheme == QMX_QSCHEME_ASYMMETRIC) {
		/* The real value lo maps to -128: nudge to an exact integer. */
		double zp = rint(-128.0 - lo / (double)s);
		out->zero_point = (int32_t)fmin(fmax(zp, -128.0), 127.0);
	}
	return 0;
}

QMX_API int qmx_qparams_from_minmax(float min, float max, int scheme,
				    qmx_qparams *out)
{
	static const char who[] = "qmx_qparams_from_minmax";
	int err;

	if (!out)
		return qmx_fail(QMX_EINVAL, "%s: out is NULL", who);
	if ((err = check_scheme(who, "scheme", scheme)) ||
	    (err = from_minmax(who, min, max, scheme, out)))
		return err;
	qmx_clear_error();
	return 0;
}

/* Range of a strided block, rejecting NaN and infinities by position. */
static int range_of(const char *who, const float *x, int64_t rows, int64_t cols,
		    int64_t row_step, int64_t col_step, float *min, float *max)
{
	float lo = INFINITY, hi = -INFINITY;

	*min = 0.0f;
	*max = 0.0f;

	for (int64_t i = 0; i < rows; i++) {
		const float *r = x + i * row_step;
		for (int64_t j = 0; j < cols; j++) {
			float v = r[j * col_step];
			if (!isfinite(v))
				return qmx_fail(QMX_EINVAL,
						"%s: x has a non-finite value (%g) at element %lld",
						who, (double)v,
						(long long)((r + j * col_step) - x));
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
	}
	*min = lo;
	*max = hi;
	return 0;
}

QMX_API int qmx_qparams_choose(const float *x, size_t count, int scheme,
			       qmx_qparams *out)
{
	static const char who[] = "qmx_qparams_choose";
	float lo = 0.0f, hi = 0.0f;
	int err;

	if (!x || !out)
		return qmx_fail(QMX_EINVAL, "%s: %s is NULL", who, !x ? "x" : "out");
	if (!count)
		return qmx_fail(QMX_EINVAL, "%s: count (0) must be > 0", who);
	if ((err = check_scheme(who, "scheme", scheme)) ||
	    (err = range_of(who, x, 1, (int64_t)count, 0, 1, &lo, &hi)) ||
	    (err = from_minmax(who, lo, hi, scheme, out)))
		return err;
	qmx_clear_error();
	return 0;
}

QMX_API int qmx_qparams_choose_per_channel(const float *x, int64_t rows,
					   int64_t cols, int64_t ld, int axis,
					   int scheme, qmx_qparams *out)
{
	static const char who[] = "qmx_qparams_choose_per_channel";
	int err;

	if (!out)
		return qmx_fail(QMX_EINVAL, "%s: out is NULL", who);
	if ((err = check_matrix(who, "x", x, rows, cols, ld)) ||
	    (err = check_axis(who, axis)) || (err = check_scheme(who, "scheme", scheme)))
		return err;
	int64_t channels = axis == 0 ? rows : cols;
	for (int64_t c = 0; c < channels; c++) {
		float lo = 0.0f, hi = 0.0f;
		if (axis == 0)
			err = range_of(who, x + c * ld, 1, cols, 0, 1, &lo, &hi);
		else
			err = range_of(who, x + c, rows, 1, ld, 0, &lo, &hi);
		if (err || (err = from_minmax(who, lo, hi, scheme, &out[c])))
			return err;
	}
	qmx_clear_error();
	return 0;
}

/* ------------------------------------------------------------------ (de)quantize */

static inline int8_t quantize_one(float x, qmx_qparams qp)
{
	/* Division in double, then round half to even (rint under the default
	 * rounding mode), then the zero point and the int8 clamp. */
	double v = rint((double)x / (double)qp.scale) + (double)qp.zero_point;
	if (v < -128.0)
		v = -128.0;
	if (v > 127.0)
		v = 127.0;
	return (int8_t)v;
}

static inline float dequantize_one(int8_t q, qmx_qparams qp)
{
	return qp.scale * (float)((int32_t)q - qp.zero_point);
}

/* x (rows x cols, ld) -> q (ldq) with qp[channel], channel by axis; qp has
 * one entry when per_tensor.  Fails on NaN, naming the element. */
static int quantize_block(const char *who, const float *x, int64_t rows,
			  int64_t cols, int64_t ld, int axis, bool per_tensor,
			  const qmx_qparams *qp, int8_t *q, int64_t ldq)
{
	for (int64_t i = 0; i < rows; i++) {
		const float *xr = x + i * ld;
		int8_t *qr = q + i * ldq;
		for (int64_t j = 0; j < cols; j++) {
			if (isnan(xr[j]))
				return qmx_fail(QMX_EINVAL, "%s: x[%lld] is NaN", who,
						(long long)(i * ld + j));
			qmx_qparams p = per_tensor ? qp[0] : qp[axis == 0 ? i : j];
			qr[j] = quantize_one(xr[j], p);
		}
	}
	return 0;
}

QMX_API int qmx_quantize(const float *x, size_t count, qmx_qparams qp, int8_t *q)
{
	static const char who[] = "qmx_quantize";
	int err;

	if (!x || !q)
		return qmx_fail(QMX_EINVAL, "%s: %s is NULL", who, !x ? "x" : "q");
	if ((err = check_qparams(who, "qp", -1, qp)))
		return err;
	for (size_t i = 0; i < count; i++) {
		if (isnan(x[i]))
			return qmx_fail(QMX_EINVAL, "%s: x[%zu] is NaN", who, i);
		q[i] = quantize_one(x[i], qp);
	}
	qmx_clear_error();
	return 0;
}

QMX_API int qmx_dequantize(const int8_t *q, size_t count, qmx_qparams qp, float *x)
{
	static const char who[] = "qmx_dequantize";
	int err;

	if (!x || !q)
		return qmx_fail(QMX_EINVAL, "%s: %s is NULL", who, !q ? "q" : "x");
	if ((err = check_qparams(who, "qp", -1, qp)))
		return err;
	for (size_t i = 0; i < count; i++)
		x[i] = dequantize_one(q[i], qp);
	qmx_clear_error();
	return 0;
}

QMX_API int qmx_fake_quantize(const float *x, size_t count, qmx_qparams qp, float *y)
{
	static const char who[] = "qmx_fake_quantize";
	int err;

	if (!x || !y)
		return qmx_fail(QMX_EINVAL, "%s: %s is NULL", who, !x ? "x" : "y");
	if ((err = check_qparams(who, "qp", -1, qp)))
		return err;
	for (size_t i = 0; i < count; i++) {
		if (isnan(x[i]))
			return qmx_fail(QMX_EINVAL, "%s: x[%zu] is NaN", who, i);
		y[i] = dequantize_one(quantize_one(x[i], qp), qp);
	}
	qmx_clear_error();
	return 0;
}

static int check_channel_qparams(const char *who, int64_t rows, int64_t cols,
				 int axis, const qmx_qparams *qp)
{
	int err;

	if (!qp)
		return qmx_fail(QMX_EINVAL, "%s: qp is NULL", who);
	int64_t channels = axis == 0 ? rows : cols;
	for (int64_t c = 0; c < channels; c++)
		if ((err = check_qparams(who, "qp", (long long)c, qp[c])))
			return err;
	return 0;
}

QMX_API int qmx_quantize_per_channel(const float *x, int64_t rows, int64_t cols,
				     int64_t ld, int axis, const qmx_qparams *qp,
				     int8_t *q, int64_t ldq)
{
	static const char who[] = "qmx_quantize_per_channel";
	int err;

	if ((err = check_matrix(who, "x", x, rows, cols, ld)) ||
	    (err = check_matrix(who, "q", q, rows, cols, ldq)) ||
	    (err = check_axis(who, axis)) ||
	    (err = check_channel_qparams(who, rows, cols, axis, qp)) ||
	    (err = quantize_block(who, x, rows, cols, ld, axis, false, qp, q, ldq)))
		return err;
	qmx_clear_error();
	return 0;
}

QMX_API int qmx_dequantize_per_channel(const int8_t *q, int64_t rows,
				       int64_t cols, int64_t ldq, int axis,
				       const qmx_qparams *qp, float *x,
				       int64_t ld)
{
	static const char who[] = "qmx_dequantize_per_channel";
	int err;

	if ((err = check_matrix(who, "q", q, rows, cols, ldq)) ||
	    (err = check_matrix(who, "x", x, rows, cols, ld)) ||
	    (err = check_axis(who, axis)) ||
	    (err = check_channel_qparams(who, rows, cols, axis, qp)))
		return err;
	for (int64_t i = 0; i < rows; i++)
		for (int64_t j = 0; j < cols; j++)
			x[i * ld + j] = dequantize_one(q[i * ldq + j],
						       qp[axis == 0 ? i : j]);
	qmx_clear_error();
	return 0;
}

/* ------------------------------------------------------------------ the plan */

struct qmx_qgemm {
	qmx_device *dev;
	int64_t max_m, max_n, max_k;
	uint32_t features;
	/* Device buffers, mapped for the plan's lifetime. */
	qmx_buffer *a, *b, *c, *bias, *mult, *shift;
	int8_t *a_h, *b_h;
	void *c_h;
	int32_t *bias_h, *mult_h, *shift_h;
	/* Parameters of the last submitted call. */
	qmx_qparams a_qp;
	qmx_qparams *b_qp; /* max_n entries */
	size_t b_count;
	/* The job in flight and the call it answers. */
	qmx_job *job;
	qmx_qgemm_args cur;
	qmx_gemm_params params;
	int64_t m, n, k; /* shape of the last submitted call */
	bool b_per_channel;
};

QMX_API void qmx_qgemm_args_init(qmx_qgemm_args *args, int64_t m, int64_t n,
				 int64_t k)
{
	if (!args)
		return;
	memset(args, 0, sizeof(*args));
	args->m = m;
	args->n = n;
	args->k = k;
	args->lda = k;
	args->ldb = n;
	args->ldc = n;
	args->a_scheme = QMX_QSCHEME_ASYMMETRIC;
	args->b_scheme = QMX_QSCHEME_SYMMETRIC;
	args->out = QMX_QGEMM_OUT_FLOAT;
}

static int plan_buffer(qmx_qgemm *q, size_t size, qmx_buffer **buf, void **host)
{
	int err = qmx_buffer_new(q->dev, size, 0, buf);
	if (err)
		return err;
	return qmx_buffer_map(*buf, host);
}

QMX_API void qmx_qgemm_del(qmx_qgemm *q)
{
	if (!q)
		return;
	qmx_job_del(q->job); /* waits when still running */
	qmx_buffer *all[] = { q->a, q->b, q->c, q->bias, q->mult, q->shift };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!all[i])
			continue;
		if (all[i]->map_count)
			(void)qmx_buffer_unmap(all[i]);
		qmx_buffer_del(all[i]);
	}
	free(q->b_qp);
	qmx_device_del(q->dev);
	free(q);
}

QMX_API int qmx_qgemm_new(qmx_device *dev, int64_t max_m, int64_t max_n,
			  int64_t max_k, qmx_qgemm **out)
{
	static const char who[] = "qmx_qgemm_new";
	const int64_t limit = INT64_C(1) << 20; /* per dimension, keeps sizes sane */
	int err;

	if (!out)
		return qmx_fail(QMX_EINVAL, "%s: out is NULL", who);
	*out = NULL;
	if (!dev)
		return qmx_fail(QMX_EINVAL, "%s: dev is NULL", who);
	const struct {
		const char *name;
		int64_t v;
	} dims[] = { { "max_m", max_m }, { "max_n", max_n }, { "max_k", max_k } };
	for (size_t i = 0; i < 3; i++) {
		if (dims[i].v <= 0 || dims[i].v > limit)
			return qmx_fail(QMX_EINVAL, "%s: %s (%lld) outside [1, %lld]", who,
					dims[i].name, (long long)dims[i].v,
					(long long)limit);
		if (dev->info.max_dim && (uint64_t)dims[i].v > dev->info.max_dim)
			return qmx_fail(QMX_EINVAL, "%s: %s (%lld) > device max_dim (%llu)",
					who, dims[i].name, (long long)dims[i].v,
					(unsigned long long)dev->info.max_dim);
	}
	if (dev->info.max_k && (uint64_t)max_k > dev->info.max_k)
		return qmx_fail(QMX_EINVAL, "%s: max_k (%lld) > device max_k (%llu)", who,
				(long long)max_k, (unsigned long long)dev->info.max_k);
	if ((uint64_t)max_m * (uint64_t)max_n > (UINT64_C(1) << 31) ||
	    (uint64_t)max_m * (uint64_t)max_k > (UINT64_C(1) << 31) ||
	    (uint64_t)max_k * (uint64_t)max_n > (UINT64_C(1) << 31))
		return qmx_fail(QMX_EOVERFLOW,
				"%s: operands of %lld x %lld x %lld exceed 2^31 elements",
				who, (long long)max_m, (long long)max_n, (long long)max_k);

	qmx_qgemm *q = calloc(1, sizeof(*q));
	if (!q)
		return qmx_fail(QMX_ENOMEM, "%s: out of memory", who);
	q->dev = qmx_device_ref(dev);
	q->max_m = max_m;
	q->max_n = max_n;
	q->max_k = max_k;
	q->features = dev->info.features;
	q->b_qp = calloc((size_t)max_n, sizeof(*q->b_qp));
	if (!q->b_qp) {
		err = qmx_fail(QMX_ENOMEM, "%s: out of memory", who);
		goto err_del;
	}
	size_t n4 = (size_t)max_n * 4;
	if ((err = plan_buffer(q, (size_t)(max_m * max_k), &q->a, (void **)&q->a_h)) ||
	    (err = plan_buffer(q, (size_t)(max_k * max_n), &q->b, (void **)&q->b_h)) ||
	    (err = plan_buffer(q, (size_t)(max_m * max_n) * 4, &q->c, &q->c_h)) ||
	    (err = plan_buffer(q, n4, &q->bias, (void **)&q->bias_h)) ||
	    (err = plan_buffer(q, n4, &q->mult, (void **)&q->mult_h)) ||
	    (err = plan_buffer(q, n4, &q->shift, (void **)&q->shift_h)))
		goto err_del;
	*out = q;
	qmx_clear_error();
	return 0;

err_del:
	qmx_qgemm_del(q);
	return err;
}

static int check_args(const qmx_qgemm *q, const qmx_qgemm_args *a)
{
	static const char who[] = "qmx_qgemm_submit";
	int err;

	const struct {
		const char *name, *max_name;
		int64_t v, max;
	} dims[] = { { "m", "max_m", a->m, q->max_m },
		     { "n", "max_n", a->n, q->max_n },
		     { "k", "max_k", a->k, q->max_k } };
	for (size_t i = 0; i < 3; i++) {
		if (dims[i].v <= 0)
			return qmx_fail(QMX_EINVAL, "%s: %s (%lld) must be > 0", who,
					dims[i].name, (long long)dims[i].v);
		if (dims[i].v > dims[i].max)
			return qmx_fail(QMX_EINVAL, "%s: %s (%lld) > plan %s (%lld)", who,
					dims[i].name, (long long)dims[i].v,
					dims[i].max_name, (long long)dims[i].max);
	}
	if ((err = check_matrix(who, "a", a->a, a->m, a->k, a->lda)) ||
	    (err = check_matrix(who, "b", a->b, a->k, a->n, a->ldb)) ||
	    (err = check_matrix(who, "c", a->c, a->m, a->n, a->ldc)) ||
	    (err = check_scheme(who, "a_scheme", a->a_scheme)) ||
	    (err = check_scheme(who, "b_scheme", a->b_scheme)))
		return err;
	if (a->b_per_channel != 0 && a->b_per_channel != 1)
		return qmx_fail(QMX_EINVAL, "%s: b_per_channel (%d) must be 0 or 1", who,
				a->b_per_channel);
	if (a->b_per_channel && a->b_scheme != QMX_QSCHEME_SYMMETRIC)
		return qmx_fail(QMX_EINVAL,
				"%s: b_per_channel needs b_scheme QMX_QSCHEME_SYMMETRIC (the GEMM has one B zero point)",
				who);
	if (a->b_per_channel && a->b_qparams.scale != 0.0f)
		return qmx_fail(QMX_EINVAL,
				"%s: b_qparams must be unset (scale 0) with b_per_channel", who);
	if (a->relu != 0 && a->relu != 1)
		return qmx_fail(QMX_EINVAL, "%s: relu (%d) must be 0 or 1", who, a->relu);
	if (a->out != QMX_QGEMM_OUT_FLOAT && a->out != QMX_QGEMM_OUT_INT8)
		return qmx_fail(QMX_EINVAL,
				"%s: out (%d) is not QMX_QGEMM_OUT_FLOAT (0) or QMX_QGEMM_OUT_INT8 (1)",
				who, a->out);
	if (a->a_qparams.scale != 0.0f &&
	    (err = check_qparams(who, "a_qparams", -1, a->a_qparams)))
		return err;
	if (a->b_qparams.scale != 0.0f &&
	    (err = check_qparams(who, "b_qparams", -1, a->b_qparams)))
		return err;
	if (a->a_scheme == QMX_QSCHEME_SYMMETRIC && a->a_qparams.scale != 0.0f &&
	    a->a_qparams.zero_point != 0)
		return qmx_fail(QMX_EINVAL,
				"%s: a_qparams.zero_point (%d) must be 0 with a symmetric a_scheme",
				who, a->a_qparams.zero_point);
	if (a->b_scheme == QMX_QSCHEME_SYMMETRIC && a->b_qparams.scale != 0.0f &&
	    a->b_qparams.zero_point != 0)
		return qmx_fail(QMX_EINVAL,
				"%s: b_qparams.zero_point (%d) must be 0 with a symmetric b_scheme",
				who, a->b_qparams.zero_point);
	if (a->out == QMX_QGEMM_OUT_INT8) {
		if ((err = check_qparams(who, "c_qparams", -1, a->c_qparams)))
			return err;
		if (!(q->features & QMX_FEATURE_INT8_OUT))
			return qmx_fail(QMX_ENOTSUP, "%s: device %s has no int8 output",
					who, q->dev->info.uri);
		if (a->b_per_channel && !(q->features & QMX_FEATURE_PER_CHANNEL))
			return qmx_fail(QMX_ENOTSUP,
					"%s: device %s has no per-channel requantization",
					who, q->dev->info.uri);
		if (a->bias && !(q->features & QMX_FEATURE_BIAS))
			return qmx_fail(QMX_ENOTSUP, "%s: device %s has no bias", who,
					q->dev->info.uri);
	} else if (!(q->features & QMX_FEATURE_INT32_OUT)) {
		return qmx_fail(QMX_ENOTSUP, "%s: device %s has no int32 output", who,
				q->dev->info.uri);
	}
	if (a->bias)
		for (int64_t j = 0; j < a->n; j++)
			if (!isfinite(a->bias[j]))
				return qmx_fail(QMX_EINVAL, "%s: bias[%lld] (%g) is not finite",
						who, (long long)j, (double)a->bias[j]);
	return 0;
}

/* Requantization of the int8-output path: scales and bias folded into
 * multiplier/shift (per tensor or per channel) and int32 bias. */
static int plan_int8_out(qmx_qgemm *q, const qmx_qgemm_args *a, qmx_gemm_params *p)
{
	static const char who[] = "qmx_qgemm_submit";
	int err;

	p->out_type = QMX_OUT_INT8;
	p->c_zero_point = a->c_qparams.zero_point;
	p->qmin = a->relu ? a->c_qparams.zero_point : -128;
	p->qmax = 127;
	p->quant_mode = a->b_per_channel ? QMX_QUANT_PER_CHANNEL : QMX_QUANT_PER_TENSOR;
	for (int64_t j = 0; j < (a->b_per_channel ? a->n : 1); j++) {
		double acc_scale = (double)q->a_qp.scale * (double)q->b_qp[j].scale;
		int32_t mult, shift;
		double real = acc_scale / (double)a->c_qparams.scale;
		if ((err = qmx_quantize_multiplier(real, &mult, &shift)))
			return qmx_fail(err,
					"%s: output multiplier of column %lld (%g = scale_a * scale_b / c_qparams.scale) is not representable",
					who, (long long)j, real);
		if (a->b_per_channel) {
			q->mult_h[j] = mult;
			q->shift_h[j] = shift;
		} else {
			p->multiplier = mult;
			p->shift = shift;
		}
	}
	if (a->bias) {
		p->has_bias = 1;
		for (int64_t j = 0; j < a->n; j++) {
			double acc_scale = (double)q->a_qp.scale *
					   (double)q->b_qp[a->b_per_channel ? j : 0].scale;
			double v = rint((double)a->bias[j] / acc_scale);
			if (v > INT32_MAX || v < INT32_MIN)
				return qmx_fail(QMX_EOVERFLOW,
						"%s: bias[%lld] (%g) / accumulator scale (%g) overflows int32",
						who, (long long)j, (double)a->bias[j], acc_scale);
			q->bias_h[j] = (int32_t)v;
		}
	}
	return 0;
}

QMX_API int qmx_qgemm_submit(qmx_qgemm *q, const qmx_qgemm_args *a)
{
	static const char who[] = "qmx_qgemm_submit";
	static const char who_a[] = "qmx_qgemm_submit (operand a)";
	static const char who_b[] = "qmx_qgemm_submit (operand b)";
	int err;

	if (!q || !a)
		return qmx_fail(QMX_EINVAL, "%s: %s is NULL", who, !q ? "plan" : "args");
	if (q->job)
		return qmx_fail(QMX_EBUSY,
				"%s: the plan has a job in flight (call qmx_qgemm_wait first)",
				who);
	if ((err = check_args(q, a)))
		return err;

	/* A: per tensor, packed with ld = k. */
	q->a_qp = a->a_qparams;
	if (q->a_qp.scale == 0.0f) {
		float lo = 0.0f, hi = 0.0f;
		if ((err = range_of(who_a, a->a, a->m, a->k, a->lda, 1, &lo, &hi)) ||
		    (err = from_minmax(who_a, lo, hi, a->a_scheme, &q->a_qp)))
			return err;
	}
	if ((err = quantize_block(who, a->a, a->m, a->k, a->lda, 0, true, &q->a_qp,
				  q->a_h, a->k)))
		return err;

	/* B: per tensor or per output column, packed with ld = n. */
	if (a->b_per_channel) {
		for (int64_t j = 0; j < a->n; j++) {
			float lo = 0.0f, hi = 0.0f;
			if ((err = range_of(who_b, a->b + j, a->k, 1, a->ldb, 0, &lo, &hi)) ||
			    (err = from_minmax(who_b, lo, hi, a->b_scheme, &q->b_qp[j])))
				return err;
		}
		q->b_count = (size_t)a->n;
	} else {
		q->b_qp[0] = a->b_qparams;
		if (q->b_qp[0].scale == 0.0f) {
			float lo = 0.0f, hi = 0.0f;
			if ((err = range_of(who_b, a->b, a->k, a->n, a->ldb, 1, &lo, &hi)) ||
			    (err = from_minmax(who_b, lo, hi, a->b_scheme, &q->b_qp[0])))
				return err;
		}
		q->b_count = 1;
	}
	if ((err = quantize_block(who, a->b, a->k, a->n, a->ldb, 1, !a->b_per_channel,
				  q->b_qp, q->b_h, a->n)))
		return err;

	qmx_gemm_params p;
	qmx_gemm_params_init(&p, a->m, a->n, a->k);
	p.a_zero_point = q->a_qp.zero_point;
	p.b_zero_point = q->b_qp[0].zero_point; /* 0 when per channel */
	if (a->out == QMX_QGEMM_OUT_INT8 && (err = plan_int8_out(q, a, &p)))
		return err;

	size_t n4 = (size_t)a->n * 4;
	if ((err = qmx_buffer_sync(q->a, QMX_SYNC_TO_DEVICE, 0, (size_t)(a->m * a->k))) ||
	    (err = qmx_buffer_sync(q->b, QMX_SYNC_TO_DEVICE, 0, (size_t)(a->k * a->n))) ||
	    (p.has_bias && (err = qmx_buffer_sync(q->bias, QMX_SYNC_TO_DEVICE, 0, n4))) ||
	    (p.quant_mode == QMX_QUANT_PER_CHANNEL && p.out_type == QMX_OUT_INT8 &&
	     ((err = qmx_buffer_sync(q->mult, QMX_SYNC_TO_DEVICE, 0, n4)) ||
	      (err = qmx_buffer_sync(q->shift, QMX_SYNC_TO_DEVICE, 0, n4)))))
		return err;

	qmx_gemm_desc d;
	memset(&d, 0, sizeof(d));
	d.params = p;
	d.a.buffer = q->a;
	d.b.buffer = q->b;
	d.c.buffer = q->c;
	d.bias.buffer = q->bias;
	d.multipliers.buffer = q->mult;
	d.shifts.buffer = q->shift;
	if ((err = qmx_gemm_submit(q->dev, &d, &q->job)))
		return err;
	q->cur = *a;
	q->params = p;
	q->m = a->m;
	q->n = a->n;
	q->k = a->k;
	q->b_per_channel = a->b_per_channel;
	qmx_clear_error();
	return 0;
}

/* Host side of the output: rescale int32 or dequantize int8 into float C. */
static void plan_output(const qmx_qgemm *q)
{
	const qmx_qgemm_args *a = &q->cur;

	for (int64_t i = 0; i < a->m; i++) {
		float *cr = a->c + i * a->ldc;
		for (int64_t j = 0; j < a->n; j++) {
			float v;
			if (a->out == QMX_QGEMM_OUT_INT8) {
				int8_t r = ((const int8_t *)q->c_h)[i * a->n + j];
				v = a->c_qparams.scale *
				    (float)((int32_t)r - a->c_qparams.zero_point);
			} else {
				int32_t acc = ((const int32_t *)q->c_h)[i * a->n + j];
				double s = (double)q->a_qp.scale *
					   (double)q->b_qp[a->b_per_channel ? j : 0].scale;
				v = (float)(s * (double)acc);
				if (a->bias)
					v += a->bias[j];
				if (a->relu && v < 0.0f)
					v = 0.0f;
			}
			cr[j] = v;
		}
	}
}

QMX_API int qmx_qgemm_wait(qmx_qgemm *q, int64_t timeout_ns, qmx_job_stats *stats)
{
	static const char who[] = "qmx_qgemm_wait";
	int err;

	if (!q)
		return qmx_fail(QMX_EINVAL, "%s: plan is NULL", who);
	if (!q->job)
		return qmx_fail(QMX_EINVAL, "%s: no job in flight (call qmx_qgemm_submit first)",
				who);
	err = qmx_job_wait(q->job, timeout_ns);
	if (err == QMX_ETIMEDOUT)
		return err; /* still in flight; the caller may wait again */
	if (!err && stats)
		err = qmx_job_get_stats(q->job, stats);
	qmx_job_del(q->job);
	q->job = NULL;
	if (err)
		return err;
	size_t elem = q->params.out_type == QMX_OUT_INT8 ? 1 : 4;
	if ((err = qmx_buffer_sync(q->c, QMX_SYNC_FROM_DEVICE, 0,
				   (size_t)(q->cur.m * q->cur.n) * elem)))
		return err;
	plan_output(q);
	qmx_clear_error();
	return 0;
}

QMX_API int qmx_qgemm_run(qmx_qgemm *q, const qmx_qgemm_args *args,
			  qmx_job_stats *stats)
{
	int err = qmx_qgemm_submit(q, args);
	if (err)
		return err;
	return qmx_qgemm_wait(q, -1, stats);
}

QMX_API int qmx_qgemm_last_qparams(const qmx_qgemm *q, qmx_qparams *a,
				   qmx_qparams *b, size_t b_cap, size_t *b_count)
{
	static const char who[] = "qmx_qgemm_last_qparams";

	if (!q)
		return qmx_fail(QMX_EINVAL, "%s: plan is NULL", who);
	if (!q->b_count)
		return qmx_fail(QMX_EINVAL, "%s: nothing submitted yet", who);
	if (b && b_cap < q->b_count)
		return qmx_fail(QMX_EINVAL, "%s: b_cap (%zu) < number of B parameters (%zu)",
				who, b_cap, q->b_count);
	if (a)
		*a = q->a_qp;
	if (b)
		memcpy(b, q->b_qp, q->b_count * sizeof(*b));
	if (b_count)
		*b_count = q->b_count;
	qmx_clear_error();
	return 0;
}

QMX_API int qmx_qgemm_fake_quantized(const qmx_qgemm *q, float *fq_a, int64_t ld_a,
				     float *fq_b, int64_t ld_b)
{
	static const char who[] = "qmx_qgemm_fake_quantized";
	int err;

	if (!q)
		return qmx_fail(QMX_EINVAL, "%s: plan is NULL", who);
	if (!q->b_count)
		return qmx_fail(QMX_EINVAL, "%s: nothing submitted yet", who);
	if ((fq_a && (err = check_matrix(who, "fq_a", fq_a, q->m, q->k, ld_a))) ||
	    (fq_b && (err = check_matrix(who, "fq_b", fq_b, q->k, q->n, ld_b))))
		return err;
	if (fq_a)
		for (int64_t i = 0; i < q->m; i++)
			for (int64_t j = 0; j < q->k; j++)
				fq_a[i * ld_a + j] = dequantize_one(q->a_h[i * q->k + j], q->a_qp);
	if (fq_b)
		for (int64_t i = 0; i < q->k; i++)
			for (int64_t j = 0; j < q->n; j++)
				fq_b[i * ld_b + j] = dequantize_one(
					q->b_h[i * q->n + j], q->b_qp[q->b_per_channel ? j : 0]);
	qmx_clear_error();
	return 0;
}
