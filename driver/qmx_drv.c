// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The qmx authors */

#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/version.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_print.h>
#ifdef QMX_HAVE_COMPUTE_ACCEL
#include <drm/drm_accel.h>
#endif

#include "qmx_accel.h"
#include "qmx_debugfs.h"
#include "qmx_drv.h"
#include "qmx_gem.h"
#include "qmx_hw.h"
#include "qmx_hwmon.h"
#include "qmx_job.h"
#include "qmx_transport.h"

/* Accel nodes (/dev/accel) exist from 6.2; before, a render node. */
#if defined(QMX_HAVE_COMPUTE_ACCEL) && IS_ENABLED(CONFIG_DRM_ACCEL)
#define QMX_USE_ACCEL 1
#endif

unsigned int qmx_job_timeout_ms = 10000;
module_param_named(job_timeout_ms, qmx_job_timeout_ms, uint, 0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "job timeout before the device is reset, ms (default 10000; simulation is slow)");

static atomic64_t qmx_client_ids = ATOMIC64_INIT(0);

static int qmx_open(struct drm_device *dev, struct drm_file *file)
{
	struct qmx_device *qdev = to_qmx_device(dev);
	struct qmx_file_priv *fpriv;
	int ret;

	fpriv = kzalloc(sizeof(*fpriv), GFP_KERNEL);
	if (!fpriv)
		return -ENOMEM;
	fpriv->qdev = qdev;
	fpriv->client_id = atomic64_inc_return(&qmx_client_ids);

	ret = qmx_job_open(fpriv);
	if (ret)
		goto err_free_fpriv;
	file->driver_priv = fpriv;
	return 0;

err_free_fpriv:
	kfree(fpriv);
	return ret;
}

static void qmx_postclose(struct drm_device *dev, struct drm_file *file)
{
	struct qmx_file_priv *fpriv = file->driver_priv;

	qmx_job_close(fpriv);
	kfree(fpriv);
}

static int qmx_read_counter(struct qmx_device *qdev, u32 param, u64 *value)
{
	struct qmx_jobprog_counters c;

	mutex_lock(&qdev->job_lock);
	qmx_hw_read_counters(qdev, &c);
	mutex_unlock(&qdev->job_lock);
	if (qmx_hw_lost(qdev))
		return -ENODEV;

	switch (param) {
	case DRM_QMX_PARAM_CNT_BUSY_CYCLES:
		*value = c.busy_cycles;
		break;
	case DRM_QMX_PARAM_CNT_STALL_CYCLES:
		*value = c.stall_cycles;
		break;
	case DRM_QMX_PARAM_CNT_MACS:
		*value = c.macs;
		break;
	case DRM_QMX_PARAM_CNT_SRAM_RD_BYTES:
		*value = c.sram_rd_bytes;
		break;
	case DRM_QMX_PARAM_CNT_SRAM_WR_BYTES:
		*value = c.sram_wr_bytes;
		break;
	case DRM_QMX_PARAM_CNT_EXT_RD_BYTES:
		*value = c.ext_rd_bytes;
		break;
	case DRM_QMX_PARAM_CNT_EXT_WR_BYTES:
		*value = c.ext_wr_bytes;
		break;
	default:
		*value = c.jobs;
		break;
	}
	return 0;
}

static int qmx_ioctl_get_param(struct drm_device *dev, void *data,
			       struct drm_file *file)
{
	struct qmx_device *qdev = to_qmx_device(dev);
	struct drm_qmx_get_param *args = data;
	const struct qmx_hw_info *id = &qdev->info;

	if (args->pad) {
		drm_dbg(dev, "get_param: pad must be 0\n");
		return -EINVAL;
	}

	switch (args->param) {
	case DRM_QMX_PARAM_MAGIC:
		args->value = id->magic;
		break;
	case DRM_QMX_PARAM_VERSION:
		args->value = id->version;
		break;
	case DRM_QMX_PARAM_ARRAY_ROWS:
		args->value = id->array_rows;
		break;
	case DRM_QMX_PARAM_ARRAY_COLS:
		args->value = id->array_cols;
		break;
	case DRM_QMX_PARAM_CLOCK_KHZ:
		args->value = id->clock_khz;
		break;
	case DRM_QMX_PARAM_FEATURES:
		args->value = id->features;
		break;
	case DRM_QMX_PARAM_MAX_DIM:
		args->value = id->max_dim;
		break;
	case DRM_QMX_PARAM_TRANSPORT:
		args->value = qdev->transport_id;
		break;
	case DRM_QMX_PARAM_BUS:
		args->value = id->bus_data_bits |
			      (u64)id->bus_addr_bits << QMX_BUS_ADDR_BITS_SHIFT;
		break;
	case DRM_QMX_PARAM_CNT_BUSY_CYCLES ... DRM_QMX_PARAM_CNT_JOBS:
		return qmx_read_counter(qdev, args->param, &args->value);
	case DRM_QMX_PARAM_ENERGY_UJ:
		mutex_lock(&qdev->job_lock);
		args->value = div_u64(qdev->energy_fj, 1000000000);
		mutex_unlock(&qdev->job_lock);
		break;
	case DRM_QMX_PARAM_ENERGY_MODELLED:
		args->value = qmx_hw_energy_modelled(qdev);
		break;
	default:
		drm_dbg(dev, "get_param: param %u unknown\n", args->param);
		return -EINVAL;
	}
	return 0;
}

static const struct drm_ioctl_desc qmx_ioctls[] = {
#define QMX_IOCTL(n, func) \
	DRM_IOCTL_DEF_DRV(QMX_##n, qmx_ioctl_##func, DRM_RENDER_ALLOW)
	QMX_IOCTL(GET_PARAM, get_param),
	QMX_IOCTL(BO_CREATE, bo_create),
	QMX_IOCTL(BO_MMAP_OFFSET, bo_mmap_offset),
	QMX_IOCTL(SUBMIT, submit),
	QMX_IOCTL(WAIT, wait),
	QMX_IOCTL(SUBMIT_BATCH, submit_batch),
#undef QMX_IOCTL
};

/* fdinfo keys per Documentation/gpu/drm-usage-stats.rst. */
static void qmx_print_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	struct qmx_file_priv *fpriv = file->driver_priv;
	struct qmx_device *qdev = fpriv->qdev;
	struct drm_gem_object *obj;
	u64 total = 0, resident = 0;
	int id;

	drm_printf(p, "drm-driver:\t%s\n", qdev->drm.driver->name);
	if (dev_is_pci(qdev->drm.dev))
		drm_printf(p, "drm-pdev:\t%s\n", dev_name(qdev->drm.dev));
	drm_printf(p, "drm-client-id:\t%llu\n", fpriv->client_id);
	drm_printf(p, "drm-engine-qmx:\t%llu ns\n",
		   (u64)atomic64_read(&fpriv->fstats->busy_ns));
	drm_printf(p, "drm-cycles-qmx:\t%llu\n",
		   (u64)atomic64_read(&fpriv->fstats->cycles));
	if (qdev->info.clock_khz)
		drm_printf(p, "drm-maxfreq-qmx:\t%u Hz\n",
			   qdev->info.clock_khz * 1000);

	spin_lock(&file->table_lock);
	idr_for_each_entry(&file->object_idr, obj, id) {
		total += obj->size;
		if (READ_ONCE(to_qmx_bo(obj)->base.pages))
			resident += obj->size;
	}
	spin_unlock(&file->table_lock);
	drm_printf(p, "drm-total-memory:\t%llu KiB\n", total >> 10);
	drm_printf(p, "drm-resident-memory:\t%llu KiB\n", resident >> 10);
	drm_printf(p, "qmx-jobs:\t%llu\n",
		   (u64)atomic64_read(&fpriv->fstats->jobs));
	drm_printf(p, "qmx-pinned-memory:\t%llu KiB\n",
		   (u64)atomic64_read(&fpriv->fstats->pinned_bytes) >> 10);
}

#ifdef QMX_HAVE_DRM_SHOW_FDINFO
#define QMX_SHOW_FDINFO drm_show_fdinfo
#else
static void qmx_show_fdinfo(struct seq_file *m, struct file *f)
{
	struct drm_file *file = f->private_data;
	struct drm_printer p = drm_seq_file_printer(m);

	qmx_print_fdinfo(&p, file);
}

#define QMX_SHOW_FDINFO qmx_show_fdinfo
#endif

static const struct file_operations qmx_fops = {
	.owner = THIS_MODULE,
#ifdef QMX_USE_ACCEL
	.open = accel_open,
#else
	.open = drm_open,
#endif
	.release = drm_release,
	.unlocked_ioctl = drm_ioctl,
	.compat_ioctl = drm_compat_ioctl,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	.mmap = drm_gem_mmap,
	.show_fdinfo = QMX_SHOW_FDINFO,
};

static const struct drm_driver qmx_drm_driver = {
#ifdef QMX_USE_ACCEL
	.driver_features = DRIVER_GEM | DRIVER_COMPUTE_ACCEL | DRIVER_SYNCOBJ |
			   DRIVER_SYNCOBJ_TIMELINE,
#else
	.driver_features = DRIVER_GEM | DRIVER_RENDER | DRIVER_SYNCOBJ |
			   DRIVER_SYNCOBJ_TIMELINE,
#endif
	.open = qmx_open,
	.postclose = qmx_postclose,
	.ioctls = qmx_ioctls,
	.num_ioctls = ARRAY_SIZE(qmx_ioctls),
	.fops = &qmx_fops,
	.gem_create_object = qmx_gem_create_object,
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
	/* The PRIME defaults became implicit in 6.6. */
	.prime_handle_to_fd = drm_gem_prime_handle_to_fd,
	.prime_fd_to_handle = drm_gem_prime_fd_to_handle,
	.gem_prime_mmap = drm_gem_prime_mmap,
#endif
	.debugfs_init = qmx_debugfs_init,
#ifdef QMX_HAVE_DRM_SHOW_FDINFO
	.show_fdinfo = qmx_print_fdinfo,
#endif
	.name = "qmx",
	.desc = "qmx quantized int8 GEMM accelerator",
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
	.date = "20261127",
#endif
	.major = 1,
	.minor = 0,
};

struct qmx_device *qmx_device_create(struct device *parent,
				     const struct qmx_transport_ops *ops,
				     void *transport, u32 transport_id)
{
	struct qmx_device *qdev;

	qdev = devm_drm_dev_alloc(parent, &qmx_drm_driver, struct qmx_device,
				  drm);
	if (IS_ERR(qdev))
		return qdev;
	qdev->ops = ops;
	qdev->transport = transport;
	qdev->transport_id = transport_id;
	return qdev;
}

/* Identify, reset, start the job engine and the interrupt, then go live. */
int qmx_device_register(struct qmx_device *qdev)
{
	struct device *dev = qdev->drm.dev;
	int ret;

	ret = qmx_hw_init(qdev);
	if (ret)
		return ret;

	if (qdev->ops->dma_is_device_addr) {
		ret = dma_set_mask_and_coherent(dev,
						DMA_BIT_MASK(qdev->info.bus_addr_bits));
		if (ret) {
			drm_err(&qdev->drm, "no usable %u-bit DMA\n",
				qdev->info.bus_addr_bits);
			return ret;
		}
	}

	ret = qmx_job_init(qdev);
	if (ret)
		return ret;

	ret = qdev->ops->irq_init(qdev);
	if (ret)
		goto err_fini_job;

	ret = drm_dev_register(&qdev->drm, 0);
	if (ret)
		goto err_fini_irq;

	/* hwmon is a nicety: report, do not fail the device. */
	ret = qmx_hwmon_init(qdev);
	if (ret)
		drm_warn(&qdev->drm, "hwmon: %d\n", ret);
	return 0;

err_fini_irq:
	qdev->ops->irq_fini(qdev);
err_fini_job:
	qmx_job_fini(qdev);
	return ret;
}

void qmx_device_unregister(struct qmx_device *qdev)
{
	qmx_hwmon_fini(qdev);
	/* Every job ends (DEVICE_LOST) while its owner can still ask how. */
	qmx_job_fini(qdev);
	/* Waits for every drm_dev_enter() section: no register access after. */
	drm_dev_unplug(&qdev->drm);
	qdev->ops->irq_fini(qdev);
}

static int __init qmx_init(void)
{
	int ret;

	ret = qmx_pci_register();
	if (ret)
		return ret;
	ret = qmx_cosim_register();
	if (ret)
		goto err_unregister_pci;
	ret = qmx_platform_register();
	if (ret)
		goto err_unregister_cosim;
	return 0;

err_unregister_cosim:
	qmx_cosim_unregister();
err_unregister_pci:
	qmx_pci_unregister();
	return ret;
}

static void __exit qmx_exit(void)
{
	qmx_platform_unregister();
	qmx_cosim_unregister();
	qmx_pci_unregister();
}

module_init(qmx_init);
module_exit(qmx_exit);

MODULE_DESCRIPTION("qmx quantized int8 GEMM accelerator");
MODULE_AUTHOR("The qmx authors");
MODULE_LICENSE("GPL");
