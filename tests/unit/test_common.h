/* SPDX-License-Identifier: MIT */
/* test_common.h - cmocka includes and an assertion on qmx error messages. */
#ifndef QMX_TEST_COMMON_H
#define QMX_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qmx/qmx.h"

/* The call returned `code` and the last-error message contains `text`. */
#define assert_qmx_error(call, code, text)                                         \
	do {                                                                       \
		int rc_ = (call);                                                  \
		if (rc_ != (code))                                                 \
			fail_msg("%s returned %s (%s), expected %s", #call,        \
				 qmx_error_name(rc_), qmx_last_error(), #code);    \
		if (!strstr(qmx_last_error(), (text)))                             \
			fail_msg("%s: message '%s' lacks '%s'", #call,             \
				 qmx_last_error(), (text));                        \
	} while (0)

#endif
