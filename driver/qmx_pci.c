// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The qmx authors */

/*
 * PCIe FPGA card running the qmx bitstream: BAR0 is the register map, one
 * MSI-X (or MSI) vector is the done interrupt, and the device masters host
 * memory through DMA addresses (contiguous per BO; see qmx_dma_map_bo_contig).
 */

#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/pci.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "qmx_accel.h"
#include "qmx_drv.h"
#include "qmx_gem.h"
#include "qmx_job.h"
#include "qmx_transport.h"

/*
 * PLACEHOLDER IDs until the project has its own: Xilinx's vendor ID with a
 * device ID of ours ("QX").  Our bitstream must program these into its PCIe
 * core; probe also checks the MAGIC register, so a foreign device with the
 * same ID is refused rather than driven.
 */
#define QMX_PCI_VENDOR_ID 0x10ee
#define QMX_PCI_DEVICE_ID 0x5158

struct qmx_pci {
	struct qmx_mmio mmio; /* first: qmx_mmio_read32/write32 */
	struct pci_dev *pdev;
	struct qmx_device *qdev;
	int irq;
};

static irqreturn_t qmx_pci_irq_thread(int irq, void *data)
{
	qmx_job_irq(data);
	/* MSI(-X) is not shared: the message was ours. */
	return IRQ_HANDLED;
}

static int qmx_pci_irq_init(struct qmx_device *qdev)
{
	struct qmx_pci *qp = qdev->transport;
	int ret;

	ret = pci_alloc_irq_vectors(qp->pdev, 1, 1,
				    PCI_IRQ_MSIX | PCI_IRQ_MSI);
	if (ret < 0) {
		drm_err(&qdev->drm, "no MSI-X/MSI vector: %d\n", ret);
		return ret;
	}
	qp->irq = pci_irq_vector(qp->pdev, 0);
	/* Threaded: the handler shares job logic with the mailbox transport. */
	ret = request_threaded_irq(qp->irq, NULL, qmx_pci_irq_thread,
				   IRQF_ONESHOT, "qmx", qdev);
	if (ret)
		goto err_free_vectors;
	return 0;

err_free_vectors:
	pci_free_irq_vectors(qp->pdev);
	return ret;
}

static void qmx_pci_irq_fini(struct qmx_device *qdev)
{
	struct qmx_pci *qp = qdev->transport;

	free_irq(qp->irq, qdev);
	pci_free_irq_vectors(qp->pdev);
}

static const struct qmx_transport_ops qmx_pci_ops = {
	.name = "pci",
	.dma_is_device_addr = true,
	.read32 = qmx_mmio_read32,
	.write32 = qmx_mmio_write32,
	.map_bo = qmx_dma_map_bo_contig,
	.unmap_bo = qmx_dma_unmap_bo_shmem,
	.irq_init = qmx_pci_irq_init,
	.irq_fini = qmx_pci_irq_fini,
};

static int qmx_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct qmx_device *qdev;
	struct qmx_pci *qp;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	if (pci_resource_len(pdev, 0) < QMX_MAP_SIZE) {
		dev_err(&pdev->dev, "BAR0 of %llu bytes cannot hold the register map\n",
			(u64)pci_resource_len(pdev, 0));
		return -ENODEV;
	}
	ret = pcim_iomap_regions(pdev, BIT(0), "qmx");
	if (ret)
		return ret;
	pci_set_master(pdev);

	qdev = qmx_device_create(&pdev->dev, &qmx_pci_ops, NULL,
				 DRM_QMX_TRANSPORT_PCI);
	if (IS_ERR(qdev))
		return PTR_ERR(qdev);
	qp = drmm_kzalloc(&qdev->drm, sizeof(*qp), GFP_KERNEL);
	if (!qp)
		return -ENOMEM;
	qp->pdev = pdev;
	qp->qdev = qdev;
	qp->mmio.regs = pcim_iomap_table(pdev)[0];
	qdev->transport = qp;
	pci_set_drvdata(pdev, qdev);

	return qmx_device_register(qdev);
}

static void qmx_pci_remove(struct pci_dev *pdev)
{
	qmx_device_unregister(pci_get_drvdata(pdev));
}

static const struct pci_device_id qmx_pci_ids[] = {
	{ PCI_DEVICE(QMX_PCI_VENDOR_ID, QMX_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, qmx_pci_ids);

static struct pci_driver qmx_pci_driver = {
	.name = "qmx",
	.id_table = qmx_pci_ids,
	.probe = qmx_pci_probe,
	.remove = qmx_pci_remove,
};

int qmx_pci_register(void)
{
	return pci_register_driver(&qmx_pci_driver);
}

void qmx_pci_unregister(void)
{
	pci_unregister_driver(&qmx_pci_driver);
}
