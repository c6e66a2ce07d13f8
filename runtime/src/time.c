/* SPDX-License-Identifier: MIT */
/* time.c - monotonic and CPU-time clocks used for job statistics. */
#include <time.h>

#include "qmx_backend.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t qmx_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t qmx_thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

uint64_t qmx_process_cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}
