// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The qmx authors */

/*
 * Cosim transport: the device is the Verilator model served by qmx-simd on
 * the host, reached through QEMU's ivshmem-doorbell (1af4:1110) as laid down
 * in qmx_cosim_proto.h.  Registers go through a mailbox in BAR2 (one request
 * in flight, bounded polling), the device interrupt is MSI-X vector 0, and
 * the device's addresses are translated by a page table in BAR2 that this
 * driver fills when a BO is mapped.
 *
 * 1af4:1110 is a generic device, so this PCI driver has no ID table: it
 * binds only through driver_override ("qmx_cosim") and drivers_probe.
 */

#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_mm.h>
#include <drm/drm_print.h>

#include "qmx_accel.h"
#include "qmx_cosim_proto.h"
#include "qmx_drv.h"
#include "qmx_gem.h"
#include "qmx_job.h"
#include "qmx_transport.h"

#define QMX_IVSHMEM_VENDOR_ID 0x1af4
#define QMX_IVSHMEM_DEVICE_ID 0x1110

/* Busy-wait this long for a mailbox answer before sleeping between polls. */
#define QMX_COSIM_SPIN_US 20

static unsigned int qmx_mailbox_timeout_ms = 5000;
module_param_named(mailbox_timeout_ms, qmx_mailbox_timeout_ms, uint, 0644);
MODULE_PARM_DESC(mailbox_timeout_ms,
		 "cosim: longest wait for the device server to answer, ms");

static unsigned int qmx_server_wait_ms = 10000;
module_param_named(server_wait_ms, qmx_server_wait_ms, uint, 0444);
MODULE_PARM_DESC(server_wait_ms,
		 "cosim: how long probe waits for the device server, ms");

struct qmx_cosim {
	struct pci_dev *pdev;
	struct qmx_device *qdev;
	void __iomem *ivshmem;	/* BAR0: ivshmem registers */
	void __iomem *shm;	/* BAR2: control block and page table */
	u32 peer;
	int irq;

	struct mutex mbox_lock;	/* one mailbox request in flight */
	u32 seq;

	struct mutex mm_lock;	/* device VA allocator */
	struct drm_mm mm;
};

static inline u32 qmx_shm_read(struct qmx_cosim *cs, u32 off)
{
	return ioread32(cs->shm + off);
}

static inline void qmx_shm_write(struct qmx_cosim *cs, u32 off, u32 val)
{
	iowrite32(val, cs->shm + off);
}

/*
 * One mailbox round trip.  Called with drm_dev_enter() held.  A server that
 * does not answer in time marks the device lost: later requests would only
 * pile up behind a dead peer.
 */
static int qmx_cosim_mbox(struct qmx_cosim *cs, u32 op, u32 offset, u32 value,
			  u32 *ack_value)
{
	struct qmx_device *qdev = cs->qdev;
	ktime_t start, now, deadline, spin_until;
	u32 status;
	int ret = 0;

	if (qmx_hw_lost(qdev))
		return -ENODEV;

	mutex_lock(&cs->mbox_lock);
	qmx_shm_write(cs, QMX_COSIM_REQ_OP_OFF, op);
	qmx_shm_write(cs, QMX_COSIM_REQ_OFFSET_OFF, offset);
	qmx_shm_write(cs, QMX_COSIM_REQ_VALUE_OFF, value);
	/* The request must be complete before the sequence publishes it. */
	wmb();
	cs->seq++;
	qmx_shm_write(cs, QMX_COSIM_REQ_SEQ_OFF, cs->seq);
	/* Publish the sequence before the doorbell wakes the server. */
	wmb();
	iowrite32(cs->peer << 16 | QMX_COSIM_VEC_MAILBOX,
		  cs->ivshmem + QMX_IVSHMEM_DOORBELL);

	start = ktime_get();
	deadline = ktime_add_ms(start, qmx_mailbox_timeout_ms);
	spin_until = ktime_add_us(start, QMX_COSIM_SPIN_US);
	while (qmx_shm_read(cs, QMX_COSIM_ACK_SEQ_OFF) != cs->seq) {
		now = ktime_get();
		if (ktime_after(now, deadline)) {
			drm_err(&qdev->drm, "cosim: no answer to op %u at 0x%03x within %u ms; device lost\n",
				op, offset, qmx_mailbox_timeout_ms);
			atomic_set(&qdev->hw_lost, 1);
			ret = -ETIMEDOUT;
			goto out_unlock;
		}
		/* Answers usually come within microseconds: spin, then sleep. */
		if (ktime_before(now, spin_until))
			cpu_relax();
		else
			usleep_range(10, 50);
	}
	/* Read the answer only after seeing its sequence number. */
	rmb();
	status = qmx_shm_read(cs, QMX_COSIM_ACK_STATUS_OFF);
	if (ack_value)
		*ack_value = qmx_shm_read(cs, QMX_COSIM_ACK_VALUE_OFF);
	if (status != QMX_COSIM_OK) {
		drm_err_ratelimited(&qdev->drm, "cosim: op %u at 0x%03x refused, status %u\n",
				    op, offset, status);
		ret = -EIO;
	}
out_unlock:
	mutex_unlock(&cs->mbox_lock);
	return ret;
}

static u32 qmx_cosim_read32(struct qmx_device *qdev, u32 offset)
{
	struct qmx_cosim *cs = qdev->transport;
	u32 val = ~0u;
	int idx;

	if (!drm_dev_enter(&qdev->drm, &idx)) {
		atomic_set(&qdev->hw_lost, 1);
		return val;
	}
	if (qmx_cosim_mbox(cs, QMX_COSIM_OP_READ32, offset, 0, &val))
		val = ~0u;
	drm_dev_exit(idx);
	return val;
}

static void qmx_cosim_write32(struct qmx_device *qdev, u32 offset, u32 value)
{
	struct qmx_cosim *cs = qdev->transport;
	int idx;

	if (!drm_dev_enter(&qdev->drm, &idx)) {
		atomic_set(&qdev->hw_lost, 1);
		return;
	}
	qmx_cosim_mbox(cs, QMX_COSIM_OP_WRITE32, offset, value, NULL);
	drm_dev_exit(idx);
}

/* Entry i translates device VA QMX_COSIM_VA_BASE + i * 4 KiB. */
static void qmx_cosim_write_pte(struct qmx_cosim *cs, u64 index, u64 pte)
{
	u32 off = QMX_COSIM_PT_OFFSET + index * 8;

	/*
	 * High word first when setting, low (VALID) first when clearing, so
	 * the server never sees a valid entry with a stale address.
	 */
	if (pte & QMX_COSIM_PTE_VALID) {
		qmx_shm_write(cs, off + 4, upper_32_bits(pte));
		wmb(); /* address before VALID */
		qmx_shm_write(cs, off, lower_32_bits(pte));
	} else {
		qmx_shm_write(cs, off, 0);
		wmb(); /* VALID off before the address goes */
		qmx_shm_write(cs, off + 4, 0);
	}
}

static int qmx_cosim_map_bo(struct qmx_device *qdev, struct qmx_gem_object *bo,
			    u64 *dev_addr)
{
	struct qmx_cosim *cs = qdev->transport;
	u64 size = bo->base.base.size;
	struct sg_page_iter iter;
	u64 index, phys;
	unsigned int sub;
	int idx, ret;

	mutex_lock(&cs->mm_lock);
	/*
	 * One unmapped guard page after each BO turns an overrun into an
	 * AXI error instead of a write into the neighbour.
	 */
	ret = drm_mm_insert_node(&cs->mm, &bo->va, size + QMX_COSIM_PAGE_SIZE);
	mutex_unlock(&cs->mm_lock);
	if (ret) {
		drm_dbg(&qdev->drm, "cosim: no device VA left for %llu bytes\n",
			size);
		return ret;
	}

	if (!drm_dev_enter(&qdev->drm, &idx)) {
		ret = -ENODEV;
		goto err_remove_node;
	}
	index = (bo->va.start - QMX_COSIM_VA_BASE) >> QMX_COSIM_PAGE_SHIFT;
	for_each_sgtable_page(bo->sgt, &iter, 0) {
		phys = page_to_phys(sg_page_iter_page(&iter));
		if (phys & ~QMX_COSIM_PTE_ADDR_MASK) {
			ret = -EINVAL;
			break;
		}
		for (sub = 0; sub < PAGE_SIZE; sub += QMX_COSIM_PAGE_SIZE)
			qmx_cosim_write_pte(cs, index++,
					    (phys + sub) | QMX_COSIM_PTE_VALID |
					    QMX_COSIM_PTE_WRITE);
	}
	if (!ret)
		ret = qmx_cosim_mbox(cs, QMX_COSIM_OP_TLB_FLUSH, 0, 0, NULL);
	drm_dev_exit(idx);
	if (ret)
		goto err_remove_node;

	*dev_addr = bo->va.start;
	return 0;

err_remove_node:
	mutex_lock(&cs->mm_lock);
	drm_mm_remove_node(&bo->va);
	mutex_unlock(&cs->mm_lock);
	return ret;
}

static void qmx_cosim_unmap_bo(struct qmx_device *qdev,
			       struct qmx_gem_object *bo)
{
	struct qmx_cosim *cs = qdev->transport;
	u64 index, count, i;
	int idx;

	if (drm_dev_enter(&qdev->drm, &idx)) {
		index = (bo->va.start - QMX_COSIM_VA_BASE) >>
			QMX_COSIM_PAGE_SHIFT;
		count = bo->base.base.size >> QMX_COSIM_PAGE_SHIFT;
		for (i = 0; i < count; i++)
			qmx_cosim_write_pte(cs, index + i, 0);
		qmx_cosim_mbox(cs, QMX_COSIM_OP_TLB_FLUSH, 0, 0, NULL);
		drm_dev_exit(idx);
	}
	mutex_lock(&cs->mm_lock);
	drm_mm_remove_node(&bo->va);
	mutex_unlock(&cs->mm_lock);
}

static irqreturn_t qmx_cosim_irq_thread(int irq, void *data)
{
	struct qmx_device *qdev = data;
	struct qmx_cosim *cs = qdev->transport;
	int idx;

	if (!drm_dev_enter(&qdev->drm, &idx))
		return IRQ_HANDLED;
	/* Clear before reading ISR: a later event re-raises it. */
	qmx_shm_write(cs, QMX_COSIM_IRQ_PENDING_OFF, 0);
	drm_dev_exit(idx);
	qmx_job_irq(qdev);
	return IRQ_HANDLED;
}

static int qmx_cosim_irq_init(struct qmx_device *qdev)
{
	struct qmx_cosim *cs = qdev->transport;
	int ret;

	ret = pci_alloc_irq_vectors(cs->pdev, 1, 1, PCI_IRQ_MSIX);
	if (ret < 0) {
		drm_err(&qdev->drm, "cosim: MSI-X vector 0 unavailable (ivshmem-doorbell needs vectors >= 1): %d\n",
			ret);
		return ret;
	}
	cs->irq = pci_irq_vector(cs->pdev, QMX_COSIM_VEC_IRQ);
	/* Threaded: reading ISR goes through the mailbox and sleeps. */
	ret = request_threaded_irq(cs->irq, NULL, qmx_cosim_irq_thread,
				   IRQF_ONESHOT, "qmx-cosim", qdev);
	if (ret)
		goto err_free_vectors;
	return 0;

err_free_vectors:
	pci_free_irq_vectors(cs->pdev);
	return ret;
}

static void qmx_cosim_irq_fini(struct qmx_device *qdev)
{
	struct qmx_cosim *cs = qdev->transport;

	free_irq(cs->irq, qdev);
	pci_free_irq_vectors(cs->pdev);
}

static void qmx_cosim_debugfs_show(struct qmx_device *qdev, struct seq_file *m)
{
	struct qmx_cosim *cs = qdev->transport;
	int idx;

	if (!drm_dev_enter(&qdev->drm, &idx))
		return;
	seq_printf(m, "cosim peer:     %u\n", cs->peer);
	seq_printf(m, "server ready:   %u\n",
		   qmx_shm_read(cs, QMX_COSIM_SERVER_READY_OFF));
	seq_printf(m, "mailbox seq:    req %u ack %u\n",
		   qmx_shm_read(cs, QMX_COSIM_REQ_SEQ_OFF),
		   qmx_shm_read(cs, QMX_COSIM_ACK_SEQ_OFF));
	seq_printf(m, "irq pending:    %u\n",
		   qmx_shm_read(cs, QMX_COSIM_IRQ_PENDING_OFF));
	seq_printf(m, "irqs raised:    %u\n",
		   qmx_shm_read(cs, QMX_COSIM_IRQ_COUNT_OFF));
	drm_dev_exit(idx);
}

static const struct qmx_transport_ops qmx_cosim_ops = {
	.debugfs_show = qmx_cosim_debugfs_show,
	.name = "cosim",
	.read32 = qmx_cosim_read32,
	.write32 = qmx_cosim_write32,
	.map_bo = qmx_cosim_map_bo,
	.unmap_bo = qmx_cosim_unmap_bo,
	.irq_init = qmx_cosim_irq_init,
	.irq_fini = qmx_cosim_irq_fini,
};

/* The server publishes MAGIC/VERSION and SERVER_READY; wait for it. */
static int qmx_cosim_wait_server(struct qmx_cosim *cs)
{
	struct device *dev = &cs->pdev->dev;
	ktime_t deadline = ktime_add_ms(ktime_get(), qmx_server_wait_ms);
	u32 magic, version, ready;

	for (;;) {
		magic = qmx_shm_read(cs, QMX_COSIM_MAGIC_OFF);
		version = qmx_shm_read(cs, QMX_COSIM_VERSION_OFF);
		ready = qmx_shm_read(cs, QMX_COSIM_SERVER_READY_OFF);
		if (magic == QMX_COSIM_MAGIC && ready == 1)
			break;
		if (ktime_after(ktime_get(), deadline)) {
			dev_err(dev, "cosim: no device server (magic 0x%08x, ready %u) after %u ms\n",
				magic, ready, qmx_server_wait_ms);
			return -ENODEV;
		}
		msleep(20);
	}
	if (version != QMX_COSIM_VERSION) {
		dev_err(dev, "cosim: server speaks protocol %u, driver %u\n",
			version, QMX_COSIM_VERSION);
		return -ENODEV;
	}
	cs->peer = qmx_shm_read(cs, QMX_COSIM_DEVICE_PEER_OFF);
	cs->seq = qmx_shm_read(cs, QMX_COSIM_ACK_SEQ_OFF);
	return 0;
}

/*
 * Ring our own doorbell: QEMU turns it into MSI-X vector 0, so this proves
 * the guest half of the interrupt path.  Without it every job would end
 * by timeout, so say so loudly (the driver still works, slowly).
 */
static void qmx_cosim_irq_selftest(struct qmx_cosim *cs)
{
	struct qmx_device *qdev = cs->qdev;
	s64 before = atomic64_read(&qdev->irq_count);
	u32 self = ioread32(cs->ivshmem + QMX_IVSHMEM_IV_POSITION);
	ktime_t deadline = ktime_add_ms(ktime_get(), 500);

	iowrite32(self << 16 | QMX_COSIM_VEC_IRQ,
		  cs->ivshmem + QMX_IVSHMEM_DOORBELL);
	while (atomic64_read(&qdev->irq_count) == before) {
		if (ktime_after(ktime_get(), deadline)) {
			drm_err(&qdev->drm, "cosim: MSI-X vector 0 does not fire (self-doorbell as peer %u): jobs will complete only by timeout\n",
				self);
			return;
		}
		usleep_range(1000, 2000);
	}
	drm_dbg(&qdev->drm, "cosim: interrupt self-test passed (peer %u)\n", self);
}

static void qmx_cosim_mm_fini(struct drm_device *drm, void *data)
{
	struct qmx_cosim *cs = data;

	drm_mm_takedown(&cs->mm);
}

static bool qmx_cosim_match(struct pci_dev *pdev)
{
	return pdev->vendor == QMX_IVSHMEM_VENDOR_ID &&
	       pdev->device == QMX_IVSHMEM_DEVICE_ID;
}

static int qmx_cosim_probe(struct pci_dev *pdev,
			   const struct pci_device_id *id)
{
	struct qmx_device *qdev;
	struct qmx_cosim *cs;
	u32 pong = 0;
	int ret;

	if (!qmx_cosim_match(pdev))
		return -ENODEV;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	if (pci_resource_len(pdev, 2) < QMX_COSIM_SHM_SIZE) {
		dev_err(&pdev->dev, "cosim: BAR2 is %llu bytes, protocol needs %u\n",
			(u64)pci_resource_len(pdev, 2), QMX_COSIM_SHM_SIZE);
		return -ENODEV;
	}
	ret = pcim_iomap_regions(pdev, BIT(0) | BIT(2), "qmx_cosim");
	if (ret)
		return ret;
	/* MSI-X messages are memory writes: no bus mastering, no interrupts. */
	pci_set_master(pdev);
	/* Page-table entries carry guest-physical addresses of any page. */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;

	qdev = qmx_device_create(&pdev->dev, &qmx_cosim_ops, NULL,
				 DRM_QMX_TRANSPORT_COSIM);
	if (IS_ERR(qdev))
		return PTR_ERR(qdev);
	cs = drmm_kzalloc(&qdev->drm, sizeof(*cs), GFP_KERNEL);
	if (!cs)
		return -ENOMEM;
	cs->pdev = pdev;
	cs->qdev = qdev;
	cs->ivshmem = pcim_iomap_table(pdev)[0];
	cs->shm = pcim_iomap_table(pdev)[2];
	ret = drmm_mutex_init(&qdev->drm, &cs->mbox_lock);
	if (!ret)
		ret = drmm_mutex_init(&qdev->drm, &cs->mm_lock);
	if (ret)
		return ret;
	drm_mm_init(&cs->mm, QMX_COSIM_VA_BASE,
		    (u64)QMX_COSIM_PT_ENTRIES << QMX_COSIM_PAGE_SHIFT);
	/* The VA space outlives unbind while BOs are still open. */
	ret = drmm_add_action_or_reset(&qdev->drm, qmx_cosim_mm_fini, cs);
	if (ret)
		return ret;
	qdev->transport = cs;
	pci_set_drvdata(pdev, qdev);

	ret = qmx_cosim_wait_server(cs);
	if (ret)
		return ret;
	ret = qmx_cosim_mbox(cs, QMX_COSIM_OP_PING, 0, 0, &pong);
	if (ret || pong != QMX_COSIM_MAGIC) {
		dev_err(&pdev->dev, "cosim: ping to peer %u failed (%d, 0x%08x)\n",
			cs->peer, ret, pong);
		return ret ?: -ENODEV;
	}
	dev_info(&pdev->dev, "cosim: device server is ivshmem peer %u, model clock %u kHz\n",
		 cs->peer, qmx_shm_read(cs, QMX_COSIM_CLOCK_KHZ_OFF));

	ret = qmx_device_register(qdev);
	if (ret)
		return ret;
	qmx_cosim_irq_selftest(cs);
	return 0;
}

static void qmx_cosim_remove(struct pci_dev *pdev)
{
	qmx_device_unregister(pci_get_drvdata(pdev));
}

/* No ID table: only driver_override binds it. */
static struct pci_driver qmx_cosim_driver = {
	.name = "qmx_cosim",
	.probe = qmx_cosim_probe,
	.remove = qmx_cosim_remove,
};

int qmx_cosim_register(void)
{
	return pci_register_driver(&qmx_cosim_driver);
}

void qmx_cosim_unregister(void)
{
	pci_unregister_driver(&qmx_cosim_driver);
}
