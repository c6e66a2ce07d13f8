/* SPDX-License-Identifier: MIT */
/* test_device.c - device URIs, references, enumeration, buffers and jobs. */
#include <pthread.h>
#include <stdlib.h>

#include "test_common.h"

static void test_open_uris(void **state)
{
	(void)state;
	qmx_device *dev = (qmx_device *)state;
	qmx_device_info info;

	assert_int_equal(qmx_device_open("cpu", &dev), 0);
	assert_int_equal(qmx_device_query(dev, &info), 0);
	assert_string_equal(info.backend, "cpu");
	assert_string_equal(info.uri, "cpu");
	assert_true(info.compute_units >= 1);
	qmx_device_del(dev);

	assert_int_equal(qmx_device_open("cpu:1", &dev), 0);
	assert_int_equal(qmx_device_query(dev, &info), 0);
	assert_int_equal(info.compute_units, 1);
	qmx_device_del(dev);

	assert_qmx_error(qmx_device_open("cpu:0", &dev), QMX_EINVAL, "threads '0' must be a number in [1, 1024]");
	assert_null(dev);
	assert_qmx_error(qmx_device_open("cpu:two", &dev), QMX_EINVAL, "threads 'two'");
	assert_qmx_error(qmx_device_open("cpu-ref:2", &dev), QMX_EINVAL, "cpu-ref device takes no argument");
	assert_qmx_error(qmx_device_open("gpu:0", &dev), QMX_ENODEV, "unknown device URI 'gpu:0' (backends built: cpu, cpu-ref");
	assert_qmx_error(qmx_device_open(":x", &dev), QMX_ENODEV, "unknown device URI ':x'");
	assert_qmx_error(qmx_device_open("cpu", NULL), QMX_EINVAL, "out is NULL");
	assert_qmx_error(qmx_device_query(NULL, &info), QMX_EINVAL, "dev is NULL");
}

static void test_default_from_env(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_device_info info;
	setenv("QMX_DEVICE", "cpu-ref", 1);
	assert_string_equal(qmx_default_device_uri(), "cpu-ref");
	assert_int_equal(qmx_device_open(NULL, &dev), 0);
	assert_int_equal(qmx_device_query(dev, &info), 0);
	assert_string_equal(info.backend, "cpu-ref");
	qmx_device_del(dev);
	setenv("QMX_DEVICE", "nope", 1);
	assert_qmx_error(qmx_device_open("", &dev), QMX_ENODEV, "unknown device URI 'nope'");
	unsetenv("QMX_DEVICE");
}

static void test_list(void **state)
{
	(void)state;
	size_t n = 0, n2 = 0;
	assert_int_equal(qmx_device_list(NULL, 0, &n), 0);
	assert_true(n >= 2);
	qmx_device_info *infos = calloc(n, sizeof(*infos));
	assert_int_equal(qmx_device_list(infos, n, &n2), 0);
	assert_int_equal(n, n2);
	assert_string_equal(infos[0].uri, "cpu");
	assert_string_equal(infos[1].uri, "cpu-ref");
	/* A short array is filled as far as it goes; the count is the total. */
	assert_int_equal(qmx_device_list(infos, 1, &n2), 0);
	assert_int_equal(n2, n);
	free(infos);
	assert_qmx_error(qmx_device_list(NULL, 3, &n), QMX_EINVAL, "infos is NULL with cap (3) > 0");
	assert_qmx_error(qmx_device_list(NULL, 0, NULL), QMX_EINVAL, "count is NULL");
	const char *const *names = qmx_backend_names();
	assert_string_equal(names[0], "cpu");
	assert_string_equal(names[1], "cpu-ref");
}

static void test_buffers(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_buffer *buf = (qmx_buffer *)state;
	void *p1, *p2;

	assert_int_equal(qmx_device_open("cpu", &dev), 0);
	assert_qmx_error(qmx_buffer_new(dev, 0, 0, &buf), QMX_EINVAL, "size (0) must be > 0");
	assert_null(buf);
	assert_qmx_error(qmx_buffer_new(dev, 16, 4, &buf), QMX_EINVAL, "flags (0x4) must be 0");
	assert_qmx_error(qmx_buffer_new(dev, SIZE_MAX, 0, &buf), QMX_EOVERFLOW, "too large");
	assert_qmx_error(qmx_buffer_new(NULL, 16, 0, &buf), QMX_EINVAL, "dev is NULL");
	assert_int_equal(qmx_buffer_new(dev, 100, 0, &buf), 0);
	assert_int_equal(qmx_buffer_size(buf), 100);
	assert_qmx_error(qmx_buffer_unmap(buf), QMX_EINVAL, "not mapped");
	assert_int_equal(qmx_buffer_map(buf, &p1), 0);
	assert_int_equal(qmx_buffer_map(buf, &p2), 0);
	assert_ptr_equal(p1, p2);
	assert_int_equal((uintptr_t)p1 % 64, 0);
	assert_int_equal(((unsigned char *)p1)[99], 0); /* zero-filled */
	assert_int_equal(qmx_buffer_unmap(buf), 0);
	assert_int_equal(qmx_buffer_unmap(buf), 0);
	assert_int_equal(qmx_buffer_sync(buf, QMX_SYNC_TO_DEVICE, 0, 100), 0);
	assert_qmx_error(qmx_buffer_sync(buf, QMX_SYNC_TO_DEVICE, 90, 11), QMX_EINVAL,
			 "offset (90) + size (11) > buffer size (100)");
	assert_qmx_error(qmx_buffer_sync(buf, QMX_SYNC_TO_DEVICE, SIZE_MAX, 2), QMX_EINVAL, "> buffer size");
	assert_qmx_error(qmx_buffer_sync(buf, 3, 0, 1), QMX_EINVAL, "dir (3)");
	/* The buffer holds a device reference: deleting the device first is safe. */
	qmx_device_del(dev);
	qmx_buffer_del(buf);
	qmx_buffer_del(NULL);
	qmx_device_del(NULL);
}

static void test_job_api_bad_input(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_job *job;
	qmx_gemm_desc d;
	qmx_job_stats st;
	memset(&d, 0, sizeof(d));
	assert_int_equal(qmx_device_open("cpu", &dev), 0);
	assert_qmx_error(qmx_gemm_submit(dev, &d, NULL), QMX_EINVAL, "out is NULL");
	assert_qmx_error(qmx_gemm_submit(NULL, &d, &job), QMX_EINVAL, "dev is NULL");
	assert_qmx_error(qmx_gemm_submit(dev, NULL, &job), QMX_EINVAL, "desc is NULL");
	assert_qmx_error(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL, "m (0) must be > 0");
	assert_qmx_error(qmx_job_wait(NULL, 0), QMX_EINVAL, "job is NULL");
	assert_qmx_error(qmx_job_get_stats(NULL, &st), QMX_EINVAL, "job is NULL");
	assert_qmx_error(qmx_gemm(NULL, &d.params, NULL, NULL), QMX_EINVAL, "dev is NULL");
	qmx_gemm_params_init(&d.params, 2, 2, 2);
	assert_qmx_error(qmx_gemm(dev, &d.params, NULL, NULL), QMX_EINVAL, "qmx_gemm: ops is NULL");
	qmx_job_del(NULL);
	qmx_device_del(dev);
}

/* The last-error message is per thread. */
static void *fail_in_thread(void *arg)
{
	(void)arg;
	qmx_device *dev;
	qmx_device_open("elsewhere", &dev);
	return NULL;
}

static void test_errors(void **state)
{
	(void)state;
	pthread_t t;
	qmx_device *dev;
	assert_string_equal(qmx_strerror(QMX_OK), "success");
	assert_string_equal(qmx_strerror(QMX_EINVAL), "invalid argument");
	assert_string_equal(qmx_strerror(12345), "unknown error");
	assert_string_equal(qmx_error_name(QMX_ETIMEDOUT), "QMX_ETIMEDOUT");
	assert_string_equal(qmx_error_name(-999), "QMX_E?");
#define CHECK_NAMED(name, value, text)                       \
	assert_string_equal(qmx_error_name(value), #name);   \
	assert_string_equal(qmx_strerror(value), text);
	QMX_ERROR_LIST(CHECK_NAMED)
#undef CHECK_NAMED
	qmx_device_open("here", &dev);
	assert_non_null(strstr(qmx_last_error(), "'here'"));
	pthread_create(&t, NULL, fail_in_thread, NULL);
	pthread_join(t, NULL);
	assert_non_null(strstr(qmx_last_error(), "'here'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_uris),
		cmocka_unit_test(test_default_from_env),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_buffers),
		cmocka_unit_test(test_job_api_bad_input),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests_name("device", tests, NULL, NULL);
}
