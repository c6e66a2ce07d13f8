/* SPDX-License-Identifier: MIT */
/*
 * gemm_hello.c - the smallest complete use of libqmx: open a device, put two
 * int8 matrices in device buffers, submit one GEMM, wait for it, read C and
 * the job's accounting, and check C against the golden reference.
 *
 *   qmx-gemm-hello [DEVICE-URI]     (default: $QMX_DEVICE or the default device)
 */
#include <stdio.h>
#include <string.h>

#include <qmx/qmx.h>

#define M 4
#define N 3
#define K 5

static int die(const char *what, int err)
{
	fprintf(stderr, "gemm_hello: %s: %s (%s)\n", what, qmx_strerror(err),
		qmx_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	qmx_device *dev;
	qmx_device_info info;
	qmx_buffer *a, *b, *c;
	int8_t *ha, *hb;
	int32_t *hc, ref[M * N];
	int err;

	if ((err = qmx_device_open(argc > 1 ? argv[1] : NULL, &dev)))
		return die("qmx_device_open", err);
	qmx_device_query(dev, &info);
	printf("device %s: %s\n", info.uri, info.name);

	/* Buffers belong to the device; map them to fill and read them. */
	if ((err = qmx_buffer_new(dev, M * K, 0, &a)) ||
	    (err = qmx_buffer_new(dev, K * N, 0, &b)) ||
	    (err = qmx_buffer_new(dev, M * N * sizeof(int32_t), 0, &c)) ||
	    (err = qmx_buffer_map(a, (void **)&ha)) ||
	    (err = qmx_buffer_map(b, (void **)&hb)) ||
	    (err = qmx_buffer_map(c, (void **)&hc)))
		return die("buffers", err);
	for (int i = 0; i < M * K; i++)
		ha[i] = (int8_t)(i * 7 % 23 - 11);
	for (int i = 0; i < K * N; i++)
		hb[i] = (int8_t)(i * 5 % 19 - 9);
	qmx_buffer_sync(a, QMX_SYNC_TO_DEVICE, 0, M * K);
	qmx_buffer_sync(b, QMX_SYNC_TO_DEVICE, 0, K * N);

	/* int32 output, A zero point 3: C = sum_k (A - 3) * B. */
	qmx_gemm_desc d;
	memset(&d, 0, sizeof(d));
	qmx_gemm_params_init(&d.params, M, N, K);
	d.params.a_zero_point = 3;
	d.a.buffer = a;
	d.b.buffer = b;
	d.c.buffer = c;
	qmx_job *job;
	if ((err = qmx_gemm_submit(dev, &d, &job)))
		return die("qmx_gemm_submit", err);
	/* ... the host is free here; wait at most 10 s. */
	if ((err = qmx_job_wait(job, 10000000000LL)))
		return die("qmx_job_wait", err);
	qmx_job_stats st;
	qmx_job_get_stats(job, &st);
	qmx_job_del(job);
	qmx_buffer_sync(c, QMX_SYNC_FROM_DEVICE, 0, M * N * sizeof(int32_t));

	qmx_gemm_host_operands ops = { .a = ha, .b = hb, .c = ref };
	if ((err = qmx_gemm_reference(&d.params, &ops)))
		return die("qmx_gemm_reference", err);
	int bad = memcmp(hc, ref, sizeof(ref)) != 0;
	for (int i = 0; i < M; i++) {
		for (int j = 0; j < N; j++)
			printf(" %6d", hc[i * N + j]);
		printf("\n");
	}
	printf("%llu MACs, %llu ns on the device, %.3g J, %s the reference\n",
	       (unsigned long long)st.macs, (unsigned long long)st.device_ns, st.energy_j,
	       bad ? "DIFFERS FROM" : "equal to");

	qmx_buffer_unmap(a);
	qmx_buffer_unmap(b);
	qmx_buffer_unmap(c);
	qmx_buffer_del(a);
	qmx_buffer_del(b);
	qmx_buffer_del(c);
	qmx_device_del(dev);
	return bad;
}
