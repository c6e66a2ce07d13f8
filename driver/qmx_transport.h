/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The qmx authors */

#ifndef __QMX_TRANSPORT_H__
#define __QMX_TRANSPORT_H__

#include <linux/types.h>

struct qmx_device;
struct qmx_gem_object;
struct seq_file;

/**
 * struct qmx_transport_ops - how the shared job logic reaches a device
 *
 * All callbacks may sleep: the cosim transport reaches registers through a
 * mailbox, so the core only touches registers from process context or a
 * threaded interrupt handler.
 */
struct qmx_transport_ops {
	/** @name: "pci", "cosim", "platform" */
	const char *name;
	/**
	 * @dma_is_device_addr: the device sees DMA addresses directly (no
	 * translation of its own), so the DMA mask follows BUS.ADDR_BITS.
	 */
	bool dma_is_device_addr;
	/**
	 * @read32: read a register; on a transport failure returns ~0 and
	 * marks the device lost (qmx_hw_lost()).
	 */
	u32 (*read32)(struct qmx_device *qdev, u32 offset);
	/** @write32: write a register; failures mark the device lost. */
	void (*write32)(struct qmx_device *qdev, u32 offset, u32 value);
	/**
	 * @map_bo: make a BO visible to the device; returns its device
	 * address in *dev_addr.  Called once per BO (the first job using it);
	 * the mapping lives until the BO is freed.
	 */
	int (*map_bo)(struct qmx_device *qdev, struct qmx_gem_object *bo,
		      u64 *dev_addr);
	/** @unmap_bo: undo @map_bo (the device no longer uses the BO). */
	void (*unmap_bo)(struct qmx_device *qdev, struct qmx_gem_object *bo);
	/** @reset: transport part of a device reset, after SOFT_RESET; or NULL. */
	int (*reset)(struct qmx_device *qdev);
	/** @irq_init: request the device interrupt (handled by qmx_job_irq()). */
	int (*irq_init)(struct qmx_device *qdev);
	/** @irq_fini: free the interrupt. */
	void (*irq_fini)(struct qmx_device *qdev);
	/** @debugfs_show: transport state for debugfs "queue", or NULL. */
	void (*debugfs_show)(struct qmx_device *qdev, struct seq_file *m);
	/** @read_power_uw: measured board power, or NULL without a sensor. */
	int (*read_power_uw)(struct qmx_device *qdev, u64 *uw);
};

/* Transports shared helper: contiguous device address of a DMA-mapped BO. */
int qmx_dma_map_bo_contig(struct qmx_device *qdev, struct qmx_gem_object *bo,
			  u64 *dev_addr);
/* unmap_bo where the DMA mapping belongs to the shmem helper (goes with the BO). */
void qmx_dma_unmap_bo_shmem(struct qmx_device *qdev, struct qmx_gem_object *bo);

/*
 * Memory-mapped registers, shared by the PCI and platform transports: their
 * private state (qdev->transport) starts with a struct qmx_mmio.
 */
struct qmx_mmio {
	void __iomem *regs;
};

u32 qmx_mmio_read32(struct qmx_device *qdev, u32 offset);
void qmx_mmio_write32(struct qmx_device *qdev, u32 offset, u32 value);

int qmx_pci_register(void);
void qmx_pci_unregister(void);
int qmx_cosim_register(void);
void qmx_cosim_unregister(void);
int qmx_platform_register(void);
void qmx_platform_unregister(void);

#endif /* __QMX_TRANSPORT_H__ */
