// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The qmx authors */

#include <linux/device.h>
#include <linux/hwmon.h>
#include <linux/math64.h>

#include "qmx_drv.h"
#include "qmx_hw.h"
#include "qmx_hwmon.h"
#include "qmx_transport.h"

#if IS_REACHABLE(CONFIG_HWMON)

static umode_t qmx_hwmon_is_visible(const void *data,
				    enum hwmon_sensor_types type, u32 attr,
				    int channel)
{
	const struct qmx_device *qdev = data;

	if (type == hwmon_energy)
		return 0444;
	if (type == hwmon_power && qdev->ops->read_power_uw)
		return 0444;
	return 0;
}

static int qmx_hwmon_read(struct device *dev, enum hwmon_sensor_types type,
			  u32 attr, int channel, long *val)
{
	struct qmx_device *qdev = dev_get_drvdata(dev);
	u64 uw;
	int ret;

	switch (type) {
	case hwmon_energy:
		/* µJ: per-job activity x per-action energies, since bind. */
		mutex_lock(&qdev->job_lock);
		*val = div_u64(qdev->energy_fj, 1000000000);
		mutex_unlock(&qdev->job_lock);
		return 0;
	case hwmon_power:
		ret = qdev->ops->read_power_uw(qdev, &uw);
		if (ret)
			return ret;
		*val = uw;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int qmx_hwmon_read_string(struct device *dev,
				 enum hwmon_sensor_types type, u32 attr,
				 int channel, const char **str)
{
	switch (type) {
	case hwmon_energy:
		*str = "modelled";
		return 0;
	case hwmon_power:
		*str = "measured";
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static const struct hwmon_channel_info *qmx_hwmon_info[] = {
	HWMON_CHANNEL_INFO(energy, HWMON_E_INPUT | HWMON_E_LABEL),
	HWMON_CHANNEL_INFO(power, HWMON_P_INPUT | HWMON_P_LABEL),
	NULL
};

static const struct hwmon_ops qmx_hwmon_ops = {
	.is_visible = qmx_hwmon_is_visible,
	.read = qmx_hwmon_read,
	.read_string = qmx_hwmon_read_string,
};

static const struct hwmon_chip_info qmx_hwmon_chip = {
	.ops = &qmx_hwmon_ops,
	.info = qmx_hwmon_info,
};

int qmx_hwmon_init(struct qmx_device *qdev)
{
	struct device *hwmon;

	hwmon = hwmon_device_register_with_info(qdev->drm.dev, "qmx", qdev,
						&qmx_hwmon_chip, NULL);
	if (IS_ERR(hwmon))
		return PTR_ERR(hwmon);
	qdev->hwmon = hwmon;
	return 0;
}

void qmx_hwmon_fini(struct qmx_device *qdev)
{
	if (qdev->hwmon)
		hwmon_device_unregister(qdev->hwmon);
	qdev->hwmon = NULL;
}

#else

int qmx_hwmon_init(struct qmx_device *qdev)
{
	return 0;
}

void qmx_hwmon_fini(struct qmx_device *qdev)
{
}

#endif
