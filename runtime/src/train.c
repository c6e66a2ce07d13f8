/* SPDX-License-Identifier: MIT */
/* train.c - quantization helpers for training loops (filled in by the training work). */
#include "qmx/qmx.h"
