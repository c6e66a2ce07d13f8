/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The qmx authors */

#ifndef __QMX_DEBUGFS_H__
#define __QMX_DEBUGFS_H__

struct drm_minor;

void qmx_debugfs_init(struct drm_minor *minor);

#endif /* __QMX_DEBUGFS_H__ */
