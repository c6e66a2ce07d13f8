/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The qmx authors */

#ifndef __QMX_HWMON_H__
#define __QMX_HWMON_H__

struct qmx_device;

int qmx_hwmon_init(struct qmx_device *qdev);
void qmx_hwmon_fini(struct qmx_device *qdev);

#endif /* __QMX_HWMON_H__ */
