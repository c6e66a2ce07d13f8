/* SPDX-License-Identifier: MIT */
/* error.c - error codes, their names, and the thread-local last-error message. */
#include <stdarg.h>
#include <stdio.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"

static _Thread_local char last_error[512];

QMX_API const char *qmx_strerror(int err)
{
	switch (err) {
#define QMX_X_TEXT(name, value, text) \
	case value:                   \
		return text;
		QMX_ERROR_LIST(QMX_X_TEXT)
#undef QMX_X_TEXT
	}
	return "unknown error";
}

QMX_API const char *qmx_error_name(int err)
{
	switch (err) {
#define QMX_X_NAME(name, value, text) \
	case value:                   \
		return #name;
		QMX_ERROR_LIST(QMX_X_NAME)
#undef QMX_X_NAME
	}
	return "QMX_E?";
}

QMX_API const char *qmx_last_error(void)
{
	return last_error;
}

int qmx_fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

void qmx_clear_error(void)
{
	last_error[0] = '\0';
}
