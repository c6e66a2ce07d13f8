/* SPDX-License-Identifier: MIT */
/* train.h - quantization helpers for training loops (part of qmx.h). */
#ifndef QMX_TRAIN_H
#define QMX_TRAIN_H
#endif
