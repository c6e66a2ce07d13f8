/* SPDX-License-Identifier: MIT */
/*
 * test_fpga_sync.c - device-memory backends need their syncs, and the
 * emulation used in CI notices when they are missing (as a card would):
 *
 *   1. operands written through the mapping but not synced to the device
 *      give a result that differs from the reference;
 *   2. with the sync, the result is bit-exact, but not visible in the
 *      mapping until it is synced back from the device.
 *
 *   test_fpga_sync --device URI
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmx_util.h"

#define WAIT_NS (INT64_C(120) * 1000000000)

static int run(qmx_device *dev, qmx_problem *pb, bool sync_in, bool sync_out)
{
	const qmx_gemm_params *p = &pb->p;
	size_t la = (size_t)(p->m * p->k), lb = (size_t)(p->k * p->n);
	qmx_buffer *a = NULL, *b = NULL, *c = NULL;
	void *ha, *hb, *hc;
	qmx_job *job = NULL;
	int err;

	if ((err = qmx_buffer_new(dev, la, 0, &a)) || (err = qmx_buffer_new(dev, lb, 0, &b)) ||
	    (err = qmx_buffer_new(dev, pb->c_bytes, 0, &c)) || (err = qmx_buffer_map(a, &ha)) ||
	    (err = qmx_buffer_map(b, &hb)) || (err = qmx_buffer_map(c, &hc)))
		goto out;
	memcpy(ha, pb->a, la);
	memcpy(hb, pb->b, lb);
	if (sync_in && ((err = qmx_buffer_sync(a, QMX_SYNC_TO_DEVICE, 0, la)) ||
			(err = qmx_buffer_sync(b, QMX_SYNC_TO_DEVICE, 0, lb))))
		goto out;
	qmx_gemm_desc d = { .params = *p, .a = { a, 0 }, .b = { b, 0 }, .c = { c, 0 } };
	if ((err = qmx_gemm_submit(dev, &d, &job)) || (err = qmx_job_wait(job, WAIT_NS)))
		goto out;
	if (sync_out && (err = qmx_buffer_sync(c, QMX_SYNC_FROM_DEVICE, 0, pb->c_bytes)))
		goto out;
	memcpy(pb->c, hc, pb->c_bytes);
out:
	if (err)
		fprintf(stderr, "FAIL: %s: %s\n", qmx_error_name(err), qmx_last_error());
	qmx_job_del(job);
	qmx_buffer_del(a);
	qmx_buffer_del(b);
	qmx_buffer_del(c);
	return err;
}

int main(int argc, char **argv)
{
	uint64_t seed = qmx_util_seed(7);
	qmx_rng rng = { seed };
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_device *dev;
	char msg[200];
	int failures = 0;

	if (argc != 3 || strcmp(argv[1], "--device")) {
		fprintf(stderr, "usage: %s --device URI\n", argv[0]);
		return 2;
	}
	printf("test_fpga_sync: device %s, seed %llu\n", argv[2], (unsigned long long)seed);
	if (qmx_device_open(argv[2], &dev)) {
		fprintf(stderr, "FAIL open %s: %s\n", argv[2], qmx_last_error());
		return 1;
	}
	qmx_gemm_params_init(&p, 9, 11, 13);
	p.a_zero_point = 3; /* no zero-point pair makes an all-zero A, B give the answer */
	if (qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM) || qmx_problem_compute_reference(&pb)) {
		fprintf(stderr, "FAIL: problem setup\n");
		return 1;
	}
	static const struct {
		bool in, out, match;
		const char *what;
	} cases[] = {
		{ false, true, false, "operands not synced to the device" },
		{ true, false, false, "result not synced back from the device" },
		{ true, true, true, "both synced" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (run(dev, &pb, cases[i].in, cases[i].out)) {
			failures++;
			continue;
		}
		bool match = qmx_problem_matches(&pb, msg, sizeof(msg));
		printf("%s: %s (%s)\n", match == cases[i].match ? "ok" : "FAIL", cases[i].what,
		       match ? "bit-exact" : msg);
		failures += match != cases[i].match;
	}
	qmx_problem_free(&pb);
	qmx_device_del(dev);
	return failures ? 1 : 0;
}
