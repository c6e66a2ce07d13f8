/* SPDX-License-Identifier: MIT */
/* onednn_backend.h - what the onednn backend shares with the CPU benchmark. */
#ifndef QMX_ONEDNN_BACKEND_H
#define QMX_ONEDNN_BACKEND_H

#include <oneapi/dnnl/dnnl.h>

/* oneDNN's name of a CPU ISA ("avx2", "avx512_core_vnni", ...). */
const char *qmx_onednn_isa_name(dnnl_cpu_isa_t isa);

#endif
