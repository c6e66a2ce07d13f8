/* SPDX-License-Identifier: MIT */
/*
 * qmx_group.h - device groups (group.c): one qmx_device made of several
 * member devices, each GEMM split across them.
 */
#ifndef QMX_GROUP_H
#define QMX_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "qmx_backend.h"

/* The ops of a group device; opened by qmx_device_open() with the member
 * list qmx_group_uri() returns as `arg`. */
extern const struct qmx_backend_ops qmx_backend_group_ops;

/* When `uri` names a group ("group:LIST", or a LIST of two or more member
 * URIs separated by commas), the member LIST; else NULL. */
const char *qmx_group_uri(const char *uri);

/* Split `total` rows (or columns) by `weights` (n >= 1, each >= 0, sum > 0):
 * largest remainder, so counts sum to total and each is within 1 of its
 * exact share; starts are consecutive. */
void qmx_group_split(const double *weights, size_t n, int64_t total, int64_t *start,
		     int64_t *count);

#endif /* QMX_GROUP_H */
