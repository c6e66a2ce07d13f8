/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The qmx authors */

#ifndef __QMX_HW_H__
#define __QMX_HW_H__

#include <linux/types.h>

#include "qmx_jobprog.h"

struct qmx_device;

/* Identity and capabilities, as read at probe. */
#define qmx_hw_info qmx_jobprog_ident

u32 qmx_hw_read32(struct qmx_device *qdev, u32 offset);
void qmx_hw_write32(struct qmx_device *qdev, u32 offset, u32 value);

/* Register accessors by name, so every access names its register. */
#define qmx_reg_read(qdev, reg) qmx_hw_read32(qdev, QMX_REG_##reg)
#define qmx_reg_write(qdev, reg, val) qmx_hw_write32(qdev, QMX_REG_##reg, val)

/* Callbacks for qmx_jobprog.h, ctx is the struct qmx_device. */
u32 qmx_hw_jobprog_read32(void *ctx, u32 offset);
void qmx_hw_jobprog_write32(void *ctx, u32 offset, u32 value);

bool qmx_hw_lost(struct qmx_device *qdev);
bool qmx_hw_check_alive(struct qmx_device *qdev);
int qmx_hw_init(struct qmx_device *qdev);
int qmx_hw_reset(struct qmx_device *qdev);
void qmx_hw_read_counters(struct qmx_device *qdev,
			  struct qmx_jobprog_counters *c);
u64 qmx_hw_energy_fj(struct qmx_device *qdev,
		     const struct qmx_jobprog_counters *delta);
bool qmx_hw_energy_modelled(struct qmx_device *qdev);

#endif /* __QMX_HW_H__ */
