/* SPDX-License-Identifier: MIT */
/*
 * test_group.c - device groups: the split by weights, the URI grammar and
 * its errors, per-member stats, and results bit-exact to the reference.
 * Linked with the static library to reach the split itself.
 */
#include <stdio.h>
#include <stdlib.h>

#include "test_common.h"
#include "qmx_group.h"

static bool built(const char *backend)
{
	for (const char *const *b = qmx_backend_names(); *b; b++)
		if (!strcmp(*b, backend))
			return true;
	return false;
}

static void check_split(const double *w, size_t n, int64_t total, const int64_t *want)
{
	int64_t start[QMX_GROUP_MAX_MEMBERS], count[QMX_GROUP_MAX_MEMBERS], at = 0;
	qmx_group_split(w, n, total, start, count);
	for (size_t i = 0; i < n; i++) {
		if (count[i] != want[i])
			fail_msg("split of %lld by member %zu: %lld, expected %lld", (long long)total,
				 i, (long long)count[i], (long long)want[i]);
		assert_int_equal(start[i], at);
		at += count[i];
	}
	assert_int_equal(at, total);
}

static void test_split(void **state)
{
	(void)state;
	check_split((double[]){ 3, 1 }, 2, 100, (int64_t[]){ 75, 25 });
	/* Remainders: 10/3 each, the one left over goes to the first. */
	check_split((double[]){ 1, 1, 1 }, 3, 10, (int64_t[]){ 4, 3, 3 });
	/* Largest remainder wins: 7 x (0.6, 0.4) = 4.2, 2.8 -> 4, 3. */
	check_split((double[]){ 0.6, 0.4 }, 2, 7, (int64_t[]){ 4, 3 });
	/* Fewer rows than members: some get none. */
	check_split((double[]){ 1, 1, 1, 1 }, 4, 2, (int64_t[]){ 1, 1, 0, 0 });
	check_split((double[]){ 1e-9, 1 }, 2, 5, (int64_t[]){ 0, 5 });
	check_split((double[]){ 2 }, 1, 13, (int64_t[]){ 13 });
	/* Weights need not be normalised. */
	check_split((double[]){ 64e9, 16e9 }, 2, 1000, (int64_t[]){ 800, 200 });
}

static void test_uri_grammar(void **state)
{
	(void)state;
	assert_null(qmx_group_uri("cpu"));
	assert_null(qmx_group_uri("sim:16x16,profile=asic-7nm,lat=3"));
	assert_null(qmx_group_uri("cpu,cpu-refx")); /* not a scheme: an option */
	assert_string_equal(qmx_group_uri("cpu,cpu-ref"), "cpu,cpu-ref");
	assert_string_equal(qmx_group_uri("sim:8x8,lat=3,cpu:1"), "sim:8x8,lat=3,cpu:1");
	assert_string_equal(qmx_group_uri("group:cpu"), "cpu");
	assert_string_equal(qmx_group_uri("kmod,opencl:0"), "kmod,opencl:0");
}

static void test_bad_uris(void **state)
{
	(void)state;
	qmx_device *dev = (qmx_device *)state;
	assert_qmx_error(qmx_device_open("cpu,,cpu-ref", &dev), QMX_EINVAL,
			 "device group 'cpu,,cpu-ref': member 2 is empty");
	assert_null(dev);
	assert_qmx_error(qmx_device_open("cpu,", &dev), QMX_EINVAL, "member 2 is empty");
	assert_qmx_error(qmx_device_open("group:", &dev), QMX_EINVAL, "member 1 is empty");
	assert_qmx_error(qmx_device_open("group:group:cpu,cpu", &dev), QMX_EINVAL,
			 "member 1 is a group; groups do not nest");
	assert_qmx_error(qmx_device_open("cpu,group:cpu-ref,cpu", &dev), QMX_EINVAL,
			 "member 2 is a group; groups do not nest");
	assert_qmx_error(qmx_device_open("cpu,cpu,cpu,cpu,cpu,cpu,cpu,cpu,cpu", &dev), QMX_EINVAL,
			 "more than QMX_GROUP_MAX_MEMBERS (8) members");
	assert_qmx_error(qmx_device_open("cpu,cpu:0", &dev), QMX_EINVAL,
			 "member 2 (cpu:0): cpu device: threads '0' must be a number in [1, 1024]");
	assert_qmx_error(qmx_device_open("cpu,weight=2,cpu-ref", &dev), QMX_EINVAL,
			 "weight= given for 1 of 2 members; give it for all or none");
	assert_qmx_error(qmx_device_open("cpu,weight=0,cpu-ref,weight=1", &dev), QMX_EINVAL,
			 "member 1 weight '0' must be a number in (0, 1e18]");
	assert_qmx_error(qmx_device_open("cpu,weight=x,cpu-ref,weight=1", &dev), QMX_EINVAL,
			 "member 1 weight 'x'");
	assert_null(dev);

	qmx_group_member_stats ms[1];
	size_t n;
	assert_int_equal(qmx_device_open("cpu", &dev), 0);
	assert_qmx_error(qmx_device_group_stats(dev, ms, 1, &n), QMX_EINVAL,
			 "qmx_device_group_stats: cpu is not a device group");
	qmx_device_del(dev);
	assert_qmx_error(qmx_device_group_stats(NULL, ms, 1, &n), QMX_EINVAL, "dev is NULL");
}

/* Random int8 operands, a GEMM on the group and the reference, compared. */
static void run_checked(qmx_device *dev, qmx_gemm_params *p, qmx_job_stats *st, unsigned seed)
{
	size_t na = (size_t)(p->m * p->lda), nb = (size_t)(p->k * p->ldb);
	int8_t *a = malloc(na), *b = malloc(nb);
	int32_t *bias = malloc(sizeof(int32_t) * (size_t)p->n);
	int32_t *c = calloc((size_t)(p->m * p->ldc), sizeof(int32_t));
	int32_t *ref = calloc((size_t)(p->m * p->ldc), sizeof(int32_t));
	srand(seed);
	for (size_t i = 0; i < na; i++)
		a[i] = (int8_t)(rand() & 0xff);
	for (size_t i = 0; i < nb; i++)
		b[i] = (int8_t)(rand() & 0xff);
	for (int64_t i = 0; i < p->n; i++)
		bias[i] = rand() % 20001 - 10000;
	p->has_bias = 1;
	qmx_gemm_host_operands ops = { .a = a, .b = b, .bias = bias, .c = c };
	if (qmx_gemm(dev, p, &ops, st))
		fail_msg("qmx_gemm: %s", qmx_last_error());
	ops.c = ref;
	assert_int_equal(qmx_gemm_reference(p, &ops), 0);
	assert_memory_equal(c, ref, sizeof(int32_t) * (size_t)(p->m * p->ldc));
	free(a), free(b), free(bias), free(c), free(ref);
}

/* Given weights 3:1 split rows (M >= N) or columns (M < N) 75:25; the
 * group's stats are the members' sums. */
static void test_weighted_parts(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_device_info info;
	qmx_group_member_stats ms[QMX_GROUP_MAX_MEMBERS];
	size_t n;
	qmx_job_stats st;
	qmx_gemm_params p;
	unsigned seed = 20261203;
	printf("seed %u\n", seed);

	assert_int_equal(qmx_device_open("cpu:1,weight=3,cpu-ref,weight=1", &dev), 0);
	assert_int_equal(qmx_device_query(dev, &info), 0);
	assert_string_equal(info.backend, "group");
	assert_string_equal(info.uri, "cpu:1,weight=3,cpu-ref,weight=1");
	assert_non_null(strstr(info.name, "group of 2: cpu:1 + cpu-ref"));
	assert_int_equal(info.features & QMX_FEATURE_DEVICE_MEMORY, 0);

	qmx_gemm_params_init(&p, 100, 12, 40);
	p.ldc = 13; /* gaps left untouched (compared whole) */
	run_checked(dev, &p, &st, seed);
	assert_int_equal(qmx_device_group_stats(dev, ms, QMX_GROUP_MAX_MEMBERS, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ms[0].info.uri, "cpu:1");
	assert_string_equal(ms[1].info.uri, "cpu-ref");
	assert_float_equal(ms[0].weight, 0.75, 1e-12);
	assert_string_equal(ms[0].weight_source, "given: weight=3");
	assert_int_equal(ms[0].last.macs, 75 * 12 * 40);
	assert_int_equal(ms[1].last.macs, 25 * 12 * 40);
	assert_int_equal(st.macs, 100 * 12 * 40);
	assert_int_equal(ms[0].jobs, 1);
	assert_float_equal(st.energy_j, ms[0].last.energy_j + ms[1].last.energy_j, 1e-15);
	assert_float_equal(st.carbon_operational_g,
			   ms[0].last.carbon_operational_g + ms[1].last.carbon_operational_g, 1e-15);
	assert_int_equal(st.cpu_ns, ms[0].last.cpu_ns + ms[1].last.cpu_ns);

	/* M < N: columns of B, with bias and the C gaps. */
	qmx_gemm_params_init(&p, 3, 200, 17);
	p.ldc = 205;
	run_checked(dev, &p, &st, seed + 1);
	assert_int_equal(qmx_device_group_stats(dev, ms, QMX_GROUP_MAX_MEMBERS, &n), 0);
	assert_int_equal(ms[0].last.macs, 3 * 150 * 17);
	assert_int_equal(ms[1].last.macs, 3 * 50 * 17);
	assert_int_equal(ms[1].jobs, 2);
	assert_int_equal(ms[1].total.macs, 25 * 12 * 40 + 3 * 50 * 17);

	/* One row: only the first member has a part. */
	qmx_gemm_params_init(&p, 1, 1, 5);
	run_checked(dev, &p, &st, seed + 2);
	assert_int_equal(qmx_device_group_stats(dev, ms, QMX_GROUP_MAX_MEMBERS, &n), 0);
	assert_int_equal(ms[0].last.macs, 5);
	assert_int_equal(ms[1].last.macs, 0);
	assert_int_equal(ms[1].jobs, 2);
	qmx_device_del(dev);
}

/* Without given weights: CPUs are calibrated, accelerators modelled. */
static void test_throughput_weights(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_group_member_stats ms[QMX_GROUP_MAX_MEMBERS];
	size_t n;
	assert_int_equal(qmx_device_open("cpu,cpu-ref", &dev), 0);
	assert_int_equal(qmx_device_group_stats(dev, NULL, 0, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(qmx_device_group_stats(dev, ms, 2, &n), 0);
	for (size_t i = 0; i < 2; i++) {
		assert_non_null(strstr(ms[i].weight_source, "calibrated: best of 3 GEMMs 64x256x256"));
		assert_true(ms[i].macs_per_s > 0);
	}
	assert_float_equal(ms[0].weight + ms[1].weight, 1.0, 1e-12);
	assert_float_equal(ms[0].weight, ms[0].macs_per_s / (ms[0].macs_per_s + ms[1].macs_per_s),
			   1e-12);
	qmx_device_del(dev);

	if (!built("sim"))
		return;
	assert_int_equal(qmx_device_open("group:sim,sim", &dev), 0);
	assert_int_equal(qmx_device_group_stats(dev, ms, 2, &n), 0);
	qmx_device_info mi = ms[0].info;
	assert_float_equal(ms[0].macs_per_s,
			   (double)mi.array_rows * mi.array_cols * mi.clock_mhz * 1e6, 1);
	assert_non_null(strstr(ms[0].weight_source, "modelled: "));
	assert_float_equal(ms[0].weight, 0.5, 1e-12);
	qmx_device_del(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_uri_grammar),
		cmocka_unit_test(test_bad_uris),
		cmocka_unit_test(test_weighted_parts),
		cmocka_unit_test(test_throughput_weights),
	};
	return cmocka_run_group_tests_name("group", tests, NULL, NULL);
}
