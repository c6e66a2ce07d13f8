/* SPDX-License-Identifier: MIT */
/* energy.h - energy meters and carbon accounting (part of qmx.h). */
#ifndef QMX_ENERGY_H
#define QMX_ENERGY_H
#endif
