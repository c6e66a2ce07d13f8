// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The qmx authors */

#include <linux/delay.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>

#include <drm/drm_drv.h>
#include <drm/drm_print.h>

#include "qmx_drv.h"
#include "qmx_energy_defaults.h"
#include "qmx_hw.h"
#include "qmx_transport.h"

/*
 * Per-action energies of the activity model, in femtojoules: the 45 nm
 * figures of hw/energy/actions.ini (Horowitz, ISSCC 2014), generated into
 * qmx_energy_defaults.h.  The runtime's reports scale them to the process
 * node; these only feed hwmon and fdinfo, and are labelled "modelled".
 */
static unsigned int qmx_mac_fj = QMX_ENERGY_MAC_FJ;
module_param_named(energy_mac_fj, qmx_mac_fj, uint, 0644);
MODULE_PARM_DESC(energy_mac_fj, "modelled energy per MAC, fJ");
static unsigned int qmx_sram_byte_fj = QMX_ENERGY_SRAM_BYTE_FJ;
module_param_named(energy_sram_byte_fj, qmx_sram_byte_fj, uint, 0644);
MODULE_PARM_DESC(energy_sram_byte_fj, "modelled energy per on-chip byte, fJ");
static unsigned int qmx_ext_byte_fj = QMX_ENERGY_EXT_BYTE_FJ;
module_param_named(energy_ext_byte_fj, qmx_ext_byte_fj, uint, 0644);
MODULE_PARM_DESC(energy_ext_byte_fj, "modelled energy per external byte, fJ");
/* 0: static power is left out of the hwmon figure (its share depends on the
 * process node; the runtime's reports add it, hw/energy/actions.ini [static]). */
static unsigned int qmx_static_mw;
module_param_named(energy_static_mw, qmx_static_mw, uint, 0644);
MODULE_PARM_DESC(energy_static_mw, "modelled static power while busy, mW");

/* Soft reset returns the device to idle within this bound. */
#define QMX_RESET_TIMEOUT_US 100000

bool qmx_hw_lost(struct qmx_device *qdev)
{
	return atomic_read(&qdev->hw_lost);
}

/*
 * A register reading all-ones may be a device gone from the bus (or a dead
 * model): confirm with MAGIC and mark the device lost, so jobs fail fast
 * with -ENODEV instead of returning garbage.
 */
bool qmx_hw_check_alive(struct qmx_device *qdev)
{
	if (qmx_hw_lost(qdev))
		return false;
	if (qmx_reg_read(qdev, MAGIC) == QMX_MAP_MAGIC)
		return true;
	if (!atomic_xchg(&qdev->hw_lost, 1))
		drm_err(&qdev->drm, "MAGIC unreadable: device lost\n");
	return false;
}

/* A device that is gone (unplugged, unbound) reads as ~0 and is marked lost. */
u32 qmx_mmio_read32(struct qmx_device *qdev, u32 offset)
{
	struct qmx_mmio *mmio = qdev->transport;
	u32 val = ~0u;
	int idx;

	if (!drm_dev_enter(&qdev->drm, &idx)) {
		atomic_set(&qdev->hw_lost, 1);
		return val;
	}
	val = readl(mmio->regs + offset);
	drm_dev_exit(idx);
	return val;
}

void qmx_mmio_write32(struct qmx_device *qdev, u32 offset, u32 value)
{
	struct qmx_mmio *mmio = qdev->transport;
	int idx;

	if (!drm_dev_enter(&qdev->drm, &idx)) {
		atomic_set(&qdev->hw_lost, 1);
		return;
	}
	writel(value, mmio->regs + offset);
	drm_dev_exit(idx);
}

u32 qmx_hw_read32(struct qmx_device *qdev, u32 offset)
{
	return qdev->ops->read32(qdev, offset);
}

void qmx_hw_write32(struct qmx_device *qdev, u32 offset, u32 value)
{
	qdev->ops->write32(qdev, offset, value);
}

u32 qmx_hw_jobprog_read32(void *ctx, u32 offset)
{
	return qmx_hw_read32(ctx, offset);
}

void qmx_hw_jobprog_write32(void *ctx, u32 offset, u32 value)
{
	qmx_hw_write32(ctx, offset, value);
}

void qmx_hw_read_counters(struct qmx_device *qdev,
			  struct qmx_jobprog_counters *c)
{
	qmx_jobprog_read_counters(qmx_hw_jobprog_read32, qdev, c);
}

/* Soft reset and wait (bounded) for AP_IDLE; interrupts stay masked. */
int qmx_hw_reset(struct qmx_device *qdev)
{
	ktime_t deadline = ktime_add_us(ktime_get(), QMX_RESET_TIMEOUT_US);
	u32 ctrl;
	int ret;

	qmx_reg_write(qdev, GIE, 0);
	qmx_jobprog_soft_reset(qmx_hw_jobprog_write32, qdev);
	for (;;) {
		ctrl = qmx_reg_read(qdev, CTRL);
		if (qmx_hw_lost(qdev))
			return -ENODEV;
		if (ctrl & QMX_CTRL_AP_IDLE)
			break;
		if (ktime_after(ktime_get(), deadline)) {
			drm_err(&qdev->drm, "soft reset: not idle after %u us (CTRL 0x%08x)\n",
				QMX_RESET_TIMEOUT_US, ctrl);
			return -ETIMEDOUT;
		}
		usleep_range(50, 200);
	}
	/* Drop stale status so the next job starts clean. */
	qmx_jobprog_clear_isr(qmx_hw_jobprog_read32, qmx_hw_jobprog_write32,
			      qdev, QMX_ISR_DONE | QMX_ISR_READY);

	/* A reset that leaves the identity unreadable leaves no device. */
	if (!qmx_hw_check_alive(qdev))
		return -ENODEV;

	if (qdev->ops->reset) {
		ret = qdev->ops->reset(qdev);
		if (ret)
			return ret;
	}
	return qmx_hw_lost(qdev) ? -ENODEV : 0;
}

int qmx_hw_init(struct qmx_device *qdev)
{
	struct qmx_hw_info *id = &qdev->info;
	int ret;

	ret = qmx_jobprog_identify(qmx_hw_jobprog_read32, qdev, id);
	if (qmx_hw_lost(qdev))
		return -ENODEV;
	if (ret == QMX_JOBPROG_IDENT_BAD_MAGIC) {
		drm_err(&qdev->drm, "MAGIC 0x%08x, expected 0x%08x: not a qmx device\n",
			id->magic, QMX_MAP_MAGIC);
		return -ENODEV;
	}
	if (ret == QMX_JOBPROG_IDENT_BAD_VERSION) {
		drm_err(&qdev->drm, "register map %u.%u, driver speaks %u.x\n",
			id->version >> 16, id->version & 0xffff,
			QMX_MAP_VERSION_MAJOR);
		return -ENODEV;
	}
	if (!id->array_rows || !id->array_cols || !id->max_dim) {
		drm_err(&qdev->drm, "capabilities invalid: array %ux%u, max_dim %u\n",
			id->array_rows, id->array_cols, id->max_dim);
		return -ENODEV;
	}
	/* A bus narrower than 32 address bits is a bitstream bug; assume 32. */
	if (id->bus_addr_bits < 32 || id->bus_addr_bits > 64)
		id->bus_addr_bits = 32;

	ret = qmx_hw_reset(qdev);
	if (ret)
		return ret;

	drm_info(&qdev->drm, "qmx %u.%u over %s: %ux%u int8 array, %u kHz, max dim %u, features 0x%x\n",
		 id->version >> 16, id->version & 0xffff, qdev->ops->name,
		 id->array_rows, id->array_cols, id->clock_khz, id->max_dim,
		 id->features);
	return 0;
}

bool qmx_hw_energy_modelled(struct qmx_device *qdev)
{
	return !qdev->ops->read_power_uw;
}

/* Activity counters x per-action energies + static power x busy time. */
u64 qmx_hw_energy_fj(struct qmx_device *qdev,
		     const struct qmx_jobprog_counters *d)
{
	u64 e = d->macs * qmx_mac_fj +
		(d->sram_rd_bytes + d->sram_wr_bytes) * qmx_sram_byte_fj +
		(d->ext_rd_bytes + d->ext_wr_bytes) * qmx_ext_byte_fj;

	/* fJ = mW * cycles / kHz * 1e9, with a 128-bit intermediate. */
	if (qmx_static_mw && qdev->info.clock_khz)
		e += mul_u64_u32_div(d->busy_cycles * 1000000ull,
				     qmx_static_mw * 1000, qdev->info.clock_khz);
	return e;
}
