// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The qmx authors */

/*
 * SoC FPGA (Zynq UltraScale+ class): the qmx block sits on an AXI-Lite port
 * of the programmable logic, described in the device tree as "qmx,gemm-1"
 * with its register window, interrupt and (optionally) an IOMMU.  It masters
 * DRAM through an HP/HPC port, so DMA works as on a PCI card.
 */

#include <linux/clk.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/reset.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "qmx_accel.h"
#include "qmx_drv.h"
#include "qmx_gem.h"
#include "qmx_job.h"
#include "qmx_transport.h"

struct qmx_platform {
	struct qmx_mmio mmio; /* first: qmx_mmio_read32/write32 */
	struct platform_device *pdev;
	struct qmx_device *qdev;
	int irq;
};

static irqreturn_t qmx_platform_irq_thread(int irq, void *data)
{
	return qmx_job_irq(data);
}

static int qmx_platform_irq_init(struct qmx_device *qdev)
{
	struct qmx_platform *qp = qdev->transport;

	/*
	 * Level interrupt (GIE & ISR & IER): ONESHOT keeps it masked until
	 * the thread has acknowledged ISR through the registers.
	 */
	return request_threaded_irq(qp->irq, NULL, qmx_platform_irq_thread,
				    IRQF_ONESHOT, "qmx", qdev);
}

static void qmx_platform_irq_fini(struct qmx_device *qdev)
{
	struct qmx_platform *qp = qdev->transport;

	free_irq(qp->irq, qdev);
}

static const struct qmx_transport_ops qmx_platform_ops = {
	.name = "platform",
	.dma_is_device_addr = true,
	.read32 = qmx_mmio_read32,
	.write32 = qmx_mmio_write32,
	.map_bo = qmx_dma_map_bo_contig,
	.unmap_bo = qmx_dma_unmap_bo_shmem,
	.irq_init = qmx_platform_irq_init,
	.irq_fini = qmx_platform_irq_fini,
};

static void qmx_platform_assert_reset(void *data)
{
	reset_control_assert(data);
}

/* Optional PL clock and reset: the block needs both before MAGIC reads. */
static int qmx_platform_power_up(struct device *dev)
{
	struct reset_control *rst;
	struct clk *clk;
	int ret;

	clk = devm_clk_get_optional_enabled(dev, "aclk");
	if (IS_ERR(clk))
		return dev_err_probe(dev, PTR_ERR(clk), "aclk\n");

	rst = devm_reset_control_get_optional_exclusive(dev, NULL);
	if (IS_ERR(rst))
		return dev_err_probe(dev, PTR_ERR(rst), "reset\n");
	ret = reset_control_deassert(rst);
	if (ret)
		return ret;
	return devm_add_action_or_reset(dev, qmx_platform_assert_reset, rst);
}

static int qmx_platform_probe(struct platform_device *pdev)
{
	struct qmx_device *qdev;
	struct qmx_platform *qp;
	struct resource *res;
	void __iomem *regs;
	int irq, ret;

	ret = qmx_platform_power_up(&pdev->dev);
	if (ret)
		return ret;

	regs = devm_platform_get_and_ioremap_resource(pdev, 0, &res);
	if (IS_ERR(regs))
		return PTR_ERR(regs);
	if (resource_size(res) < QMX_MAP_SIZE) {
		dev_err(&pdev->dev, "reg window of %llu bytes cannot hold the register map\n",
			(u64)resource_size(res));
		return -EINVAL;
	}
	irq = platform_get_irq(pdev, 0);
	if (irq < 0)
		return irq;

	qdev = qmx_device_create(&pdev->dev, &qmx_platform_ops, NULL,
				 DRM_QMX_TRANSPORT_PLATFORM);
	if (IS_ERR(qdev))
		return PTR_ERR(qdev);
	qp = drmm_kzalloc(&qdev->drm, sizeof(*qp), GFP_KERNEL);
	if (!qp)
		return -ENOMEM;
	qp->pdev = pdev;
	qp->qdev = qdev;
	qp->mmio.regs = regs;
	qp->irq = irq;
	qdev->transport = qp;
	platform_set_drvdata(pdev, qdev);

	return qmx_device_register(qdev);
}

static int qmx_platform_remove(struct platform_device *pdev)
{
	qmx_device_unregister(platform_get_drvdata(pdev));
	return 0;
}

static const struct of_device_id qmx_platform_of_match[] = {
	{ .compatible = "qmx,gemm-1" },
	{ }
};
MODULE_DEVICE_TABLE(of, qmx_platform_of_match);

static struct platform_driver qmx_platform_driver = {
	.driver = {
		.name = "qmx-platform",
		.of_match_table = qmx_platform_of_match,
	},
	.probe = qmx_platform_probe,
	.remove = qmx_platform_remove,
};

int qmx_platform_register(void)
{
	return platform_driver_register(&qmx_platform_driver);
}

void qmx_platform_unregister(void)
{
	platform_driver_unregister(&qmx_platform_driver);
}
