/* SPDX-License-Identifier: MIT */
/*
 * test_sim_backend.c - the "sim" backend of libqmx: URI arguments (and the
 * errors for bad ones), device info from the registers, bit-exact jobs with
 * their counters, job_wait timeouts and queued jobs, hardware-detected errors
 * (injected AXI error -> QMX_EDEVICE naming it), the hang watchdog, and
 * recovery: the job after a fault is bit-exact.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qmx/qmx.h"
#include "qmx_regs.h" /* QMX_CQ_ENTRY_BYTES */
#include "qmx_util.h"

static uint64_t seed;

static void expect_open_error(const char *uri, int err, const char *needle)
{
	qmx_device *dev = (qmx_device *)1;
	int got = qmx_device_open(uri, &dev);
	if (got != err || !strstr(qmx_last_error(), needle))
		fail_msg("open '%s': got %s '%s', want %s containing '%s'", uri,
			 qmx_error_name(got), qmx_last_error(), qmx_error_name(err), needle);
	assert_null(dev);
}

static void test_bad_uris(void **state)
{
	(void)state;
	expect_open_error("sim:3x3", QMX_ENODEV, "3x3 not built");
	expect_open_error("sim:3x3", QMX_ENODEV, "8x8");
	expect_open_error("sim:8y8", QMX_EINVAL, "not an array size");
	expect_open_error("sim:8x8x", QMX_EINVAL, "not an array size");
	expect_open_error("sim:8x8,lat=abc", QMX_EINVAL, "lat");
	expect_open_error("sim:lat=100001", QMX_EINVAL, "[0, 100000]");
	expect_open_error("sim:8x8,bw=-1", QMX_EINVAL, "bw");
	expect_open_error("sim:bw=4097", QMX_EINVAL, "bw");
	expect_open_error("sim:foo=1", QMX_EINVAL, "unknown argument 'foo'");
	expect_open_error("sim:8x8,lat", QMX_EINVAL, "not key=value");
	expect_open_error("sim:fault=smoke", QMX_EINVAL, "'axi' or 'hang'");
	expect_open_error("sim:maxcycles=0", QMX_EINVAL, "maxcycles");
	expect_open_error("sim:trace=", QMX_EINVAL, "trace");
	expect_open_error("sim:trace=/nonexistent-dir/t.fst", QMX_EIO, "t.fst");
	/* A target profile that does not exist: the field, and the valid ones. */
	expect_open_error("sim:8x8,profile=asic-3nm", QMX_EINVAL, "sim device: profile");
	expect_open_error("sim:8x8,profile=asic-3nm", QMX_EINVAL, "'asic-3nm'");
	expect_open_error("sim:8x8,profile=asic-3nm", QMX_EINVAL, "asic-28nm, asic-7nm");
	expect_open_error("sim:profile=", QMX_EINVAL, "profile needs a name (profiles: asic-28nm");
	expect_open_error("sim:prof=asic-7nm", QMX_EINVAL, "keys: profile, lat");
}

/* The profile sets the clock device time is counted at and the memory
 * model (its DRAM latency and bandwidth at that clock); lat=/bw= win. */
static void test_profiles(void **state)
{
	qmx_device *dev;
	qmx_device_info info;

	(void)state;
	assert_int_equal(qmx_device_open("sim", &dev), 0);
	assert_int_equal(qmx_device_query(dev, &info), 0);
	assert_string_equal(info.profile, "asic-28nm"); /* the default */
	assert_int_equal(info.clock_mhz, 700);
	/* 39.3 ns x 700 MHz = 27.5 -> 28 cycles; 34 GB/s / 700 MHz = 48 B/cycle */
	assert_non_null(strstr(info.detail, "memory latency 28 cycles, 48 B/cycle"));
	qmx_device_del(dev);

	assert_int_equal(qmx_device_open("sim:8x8,profile=asic-7nm", &dev), 0);
	assert_int_equal(qmx_device_query(dev, &info), 0);
	assert_string_equal(info.profile, "asic-7nm");
	assert_int_equal(info.clock_mhz, 1050);
	/* 42 ns x 1050 MHz = 44.1 -> 45 cycles; 256 GB/s / 1050 MHz = 243 B/cycle */
	assert_non_null(strstr(info.detail, "memory latency 45 cycles, 243 B/cycle"));
	qmx_device_del(dev);

	/* Explicit parameters override the profile's, in any order. */
	assert_int_equal(qmx_device_open("sim:8x8,lat=5,profile=fpga-u55c,bw=0", &dev), 0);
	assert_int_equal(qmx_device_query(dev, &info), 0);
	assert_string_equal(info.profile, "fpga-u55c");
	assert_int_equal(info.clock_mhz, 300);
	assert_non_null(strstr(info.detail, "memory latency 5 cycles, bus-rate bandwidth"));
	qmx_device_del(dev);
}

static void test_info(void **state)
{
	qmx_device *dev;
	qmx_device_info info;
	size_t count = 0;

	(void)state;
	assert_int_equal(qmx_device_open("sim:8x8,lat=5,bw=16", &dev), 0);
	assert_int_equal(qmx_device_query(dev, &info), 0);
	assert_string_equal(info.backend, "sim");
	assert_int_equal(info.array_rows, 8);
	assert_int_equal(info.array_cols, 8);
	assert_true(info.clock_mhz > 0);
	assert_int_equal(info.compute_units, 1);
	assert_true(info.features & QMX_FEATURE_SIMULATED);
	assert_true(info.features & QMX_FEATURE_INT32_OUT);
	assert_true(info.max_dim >= 64);
	assert_true(info.max_k <= 32768 && info.max_k <= info.max_dim);
	assert_int_equal(info.hw_version >> 16, 1);
	assert_non_null(strstr(info.detail, "latency 5 cycles, 16 B/cycle"));
	qmx_device_del(dev);

	assert_int_equal(qmx_device_list(NULL, 0, &count), 0);
	qmx_device_info *all = calloc(count, sizeof(*all));
	assert_non_null(all);
	assert_int_equal(qmx_device_list(all, count, &count), 0);
	int sims = 0;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(all[i].backend, "sim"))
			continue;
		sims++;
		/* every listed URI opens, and is what it says */
		assert_int_equal(qmx_device_open(all[i].uri, &dev), 0);
		assert_int_equal(qmx_device_query(dev, &info), 0);
		assert_int_equal(info.array_rows, all[i].array_rows);
		assert_int_equal(info.array_cols, all[i].array_cols);
		qmx_device_del(dev);
	}
	assert_true(sims >= 1);
	free(all);
}

static void random_params(qmx_device *dev, qmx_gemm_params *p, int64_t m, int64_t n, int64_t k,
			  qmx_rng *rng)
{
	qmx_device_info info;

	qmx_device_query(dev, &info);
	qmx_gemm_params_init(p, m, n, k);
	p->lda = k + qmx_rng_range(rng, 0, 4);
	p->ldb = n + qmx_rng_range(rng, 0, 4);
	p->ldc = n + qmx_rng_range(rng, 0, 4);
	if (info.features & QMX_FEATURE_INT8_OUT) {
		qmx_problem_random_quant(p, rng);
	} else {
		p->a_zero_point = (int32_t)qmx_rng_range(rng, -128, 127);
		p->b_zero_point = (int32_t)qmx_rng_range(rng, -128, 127);
		p->has_bias = 1;
	}
}

static void test_gemm_bit_exact(void **state)
{
	const char *uris[] = { "sim", "sim:8x8,lat=3,bw=2", "sim:16x16" };
	qmx_rng rng = { seed };

	(void)state;
	for (unsigned u = 0; u < sizeof(uris) / sizeof(uris[0]); u++) {
		qmx_device *dev;
		qmx_device_info info;
		if (qmx_device_open(uris[u], &dev)) {
			assert_non_null(strstr(qmx_last_error(), "not built")); /* 16x16 off */
			continue;
		}
		qmx_device_query(dev, &info);
		for (int t = 0; t < 3; t++) {
			qmx_gemm_params p;
			qmx_problem pb;
			qmx_gemm_host_operands ops;
			qmx_job_stats st;
			char msg[200];
			random_params(dev, &p, qmx_rng_range(&rng, 1, 40), qmx_rng_range(&rng, 1, 40),
				      qmx_rng_range(&rng, 1, 70), &rng);
			assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
			assert_int_equal(qmx_problem_compute_reference(&pb), 0);
			qmx_problem_operands(&pb, &ops, false);
			int err = qmx_gemm(dev, &p, &ops, &st);
			if (err)
				fail_msg("%s: %s", uris[u], qmx_last_error());
			if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
				fail_msg("%s %lldx%lldx%lld: %s (seed %" PRIu64 ")", uris[u],
					 (long long)p.m, (long long)p.n, (long long)p.k, msg, seed);
			assert_int_equal(st.macs, (uint64_t)(p.m * p.n * p.k));
			assert_true(st.cycles > 0);
			assert_true(st.wall_ns > 0);
			assert_int_equal(st.device_ns, st.cycles * 1000 / info.clock_mhz);
			/* The modelled energy comes with its split by action. */
			assert_int_equal(st.energy_source, QMX_ENERGY_MODELLED);
			double by = st.energy_mac_j + st.energy_sram_j + st.energy_dram_j +
				    st.energy_clock_j + st.energy_leakage_j + st.energy_static_j;
			assert_true(st.energy_mac_j > 0 && st.energy_dram_j > 0 &&
				    st.energy_clock_j > 0);
			assert_true(fabs(by - st.energy_j) <= 1e-9 * st.energy_j);
			qmx_problem_free(&pb);
		}
		qmx_device_del(dev);
	}
}

/* The on-chip output block (512 x 512, docs/dataflow.md): a job one block
 * and a bit in M and N reads A twice, B twice and writes C once, exactly, and
 * its utilisation stays high (the job's 128-byte descriptor and record
 * are DRAM traffic too).  Rows are whole bus words (K, N multiples of
 * 64), so no alignment beats are added. */
static void test_dram_traffic(void **state)
{
	const int64_t m = 544, n = 576, k = 320, bm = 512, bn = 512;
	qmx_rng rng = { seed ^ 0xd7 };
	qmx_device *dev;
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_host_operands ops;
	qmx_job_stats st;
	char msg[200];

	(void)state;
	assert_int_equal(qmx_device_open("sim:8x8", &dev), 0);
	qmx_gemm_params_init(&p, m, n, k);
	assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
	assert_int_equal(qmx_problem_compute_reference(&pb), 0);
	qmx_problem_operands(&pb, &ops, false);
	if (qmx_gemm(dev, &p, &ops, &st))
		fail_msg("%s", qmx_last_error());
	if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
		fail_msg("%s (seed %" PRIu64 ")", msg, seed);
	uint64_t a_reads = (uint64_t)((n + bn - 1) / bn), b_reads = (uint64_t)((m + bm - 1) / bm);
	printf("dram: read %" PRIu64 " B, written %" PRIu64 " B, %.3fx compulsory; "
	       "utilisation %.1f %%\n", st.ext_bytes_read, st.ext_bytes_written,
	       (double)(st.ext_bytes_read + st.ext_bytes_written) / (double)qmx_compulsory_bytes(&p),
	       100.0 * (double)st.macs / ((double)st.cycles * 64));
	/* plus the job's command-queue descriptor read and record written */
	assert_int_equal(st.ext_bytes_read, (uint64_t)(m * k) * a_reads + (uint64_t)(k * n) * b_reads +
						    QMX_CQ_ENTRY_BYTES);
	assert_int_equal(st.ext_bytes_written, (uint64_t)(m * n * 4) + QMX_CQ_ENTRY_BYTES);
	/* Accumulator memory traffic: one load and one store per output per
	 * chunk boundary (K = 320: two chunks, one boundary). */
	assert_true(st.sram_bytes_read >= (uint64_t)(m * n * 4));
	assert_true(st.macs * 10 >= st.cycles * 64 * 9); /* >= 90 % busy */
	qmx_problem_free(&pb);
	qmx_device_del(dev);
}

/* A job longer than one slice: a zero timeout reports it still running,
 * then waiting forever finishes it; a second job queued behind it is driven
 * by whoever waits. */
static void test_wait_timeout_and_queue(void **state)
{
	qmx_device *dev;
	qmx_rng rng = { seed + 1 };
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_buffer *ba, *bb, *bc1, *bc2;
	void *ha, *hb, *hc1, *hc2;
	qmx_job *j1, *j2;
	char msg[200];

	(void)state;
	assert_int_equal(qmx_device_open("sim", &dev), 0);
	qmx_gemm_params_init(&p, 128, 128, 128);
	p.a_zero_point = 7;
	assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
	assert_int_equal(qmx_problem_compute_reference(&pb), 0);
	size_t na = 128 * 128, nc = 128 * 128 * 4;
	assert_int_equal(qmx_buffer_new(dev, na, 0, &ba), 0);
	assert_int_equal(qmx_buffer_new(dev, na, 0, &bb), 0);
	assert_int_equal(qmx_buffer_new(dev, nc, 0, &bc1), 0);
	assert_int_equal(qmx_buffer_new(dev, nc, 0, &bc2), 0);
	qmx_buffer_map(ba, &ha);
	qmx_buffer_map(bb, &hb);
	qmx_buffer_map(bc1, &hc1);
	qmx_buffer_map(bc2, &hc2);
	memcpy(ha, pb.a, na);
	memcpy(hb, pb.b, na);
	qmx_gemm_desc d = { .params = p, .a = { ba, 0 }, .b = { bb, 0 }, .c = { bc1, 0 } };
	assert_int_equal(qmx_gemm_submit(dev, &d, &j1), 0);
	d.c.buffer = bc2;
	assert_int_equal(qmx_gemm_submit(dev, &d, &j2), 0);
	assert_int_equal(qmx_job_wait(j1, 0), QMX_ETIMEDOUT);
	qmx_job_stats st;
	assert_int_equal(qmx_job_get_stats(j1, &st), QMX_EBUSY);
	assert_int_equal(qmx_job_wait(j2, -1), 0); /* drives j1 first */
	assert_int_equal(qmx_job_wait(j1, 0), 0);
	assert_int_equal(qmx_job_get_stats(j1, &st), 0);
	assert_int_equal(st.macs, 128ull * 128 * 128);
	for (int i = 0; i < 2; i++) {
		memcpy(pb.c, i ? hc2 : hc1, nc);
		if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
			fail_msg("job %d: %s (seed %" PRIu64 ")", i + 1, msg, seed);
	}
	qmx_job_del(j1);
	qmx_job_del(j2);
	qmx_buffer_del(ba);
	qmx_buffer_del(bb);
	qmx_buffer_del(bc1);
	qmx_buffer_del(bc2);
	qmx_problem_free(&pb);
	qmx_device_del(dev);
}

/* A fault is injected into the first job only: it fails with the expected
 * error, and the next job on the same device is bit-exact (recovery). */
static void fault_then_recover(const char *uri, int want, const char *needle)
{
	qmx_device *dev;
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_host_operands ops;
	qmx_rng rng = { seed + 2 };
	char msg[200];

	assert_int_equal(qmx_device_open(uri, &dev), 0);
	qmx_gemm_params_init(&p, 16, 24, 40);
	p.a_zero_point = -9;
	assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
	assert_int_equal(qmx_problem_compute_reference(&pb), 0);
	qmx_problem_operands(&pb, &ops, false);
	int err = qmx_gemm(dev, &p, &ops, NULL);
	if (err != want || !strstr(qmx_last_error(), needle))
		fail_msg("%s: got %s '%s', want %s containing '%s'", uri, qmx_error_name(err),
			 qmx_last_error(), qmx_error_name(want), needle);
	err = qmx_gemm(dev, &p, &ops, NULL);
	if (err)
		fail_msg("%s: job after the fault: %s", uri, qmx_last_error());
	if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
		fail_msg("%s: job after the fault: %s (seed %" PRIu64 ")", uri, msg, seed);
	qmx_problem_free(&pb);
	qmx_device_del(dev);
}

static void test_hardware_errors(void **state)
{
	(void)state;
	fault_then_recover("sim:fault=axi", QMX_EDEVICE, "hardware error AXI_");
	fault_then_recover("sim:fault=hang,maxcycles=20000", QMX_EIO, "within 20000 cycles");
}

int main(void)
{
	seed = qmx_util_seed(0x5EED0001u);
	printf("test_sim_backend: seed %" PRIu64 " (QMX_TEST_SEED)\n", seed);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_uris),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_gemm_bit_exact),
		cmocka_unit_test(test_dram_traffic),
		cmocka_unit_test(test_wait_timeout_and_queue),
		cmocka_unit_test(test_hardware_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
