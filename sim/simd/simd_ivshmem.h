/* SPDX-License-Identifier: MIT */
/*
 * simd_ivshmem.h - the server side of QEMU's ivshmem-doorbell chardev
 * protocol (docs/specs/ivshmem-spec in QEMU), for qmx-simd.
 *
 * Wire format: 8-byte little-endian int64 messages on a Unix stream socket,
 * some carrying one fd (SCM_RIGHTS).  On connect a client receives the
 * protocol version (0), its own peer id, then -1 with the shared-memory fd;
 * then, for every peer (the others and itself), that peer's id once per
 * vector, each time with one eventfd.  Existing clients learn of a new peer
 * the same way, and of a departed one by its id without an fd.
 *
 * The server here is also a peer (the device): it owns a peer id and one
 * eventfd per vector, announced like a client's, so a guest ringing
 * Doorbell (device_peer << 16 | vector) wakes the device.
 */
#ifndef QMX_SIMD_IVSHMEM_H
#define QMX_SIMD_IVSHMEM_H

#include <stdint.h>

#define QMX_IVS_MAX_VECTORS 16
#define QMX_IVS_MAX_CLIENTS 8

struct qmx_ivs_peer {
	int64_t id;
	int sock;                             /* -1 for the server's own peer */
	int evfd[QMX_IVS_MAX_VECTORS];        /* eventfds, one per vector */
};

struct qmx_ivs_server {
	int listen_fd;
	int shm_fd;
	unsigned vectors;
	int64_t next_id;
	struct qmx_ivs_peer self;             /* the device */
	struct qmx_ivs_peer clients[QMX_IVS_MAX_CLIENTS];
	unsigned n_clients;
	char path[108];
};

/* Listen on `path` (replacing a stale socket); self gets peer id 0. */
int qmx_ivs_init(struct qmx_ivs_server *s, const char *path, int shm_fd,
		 unsigned vectors);
/* Accept one pending connection and run the handshake.  0 or -errno. */
int qmx_ivs_accept(struct qmx_ivs_server *s);
/* Client `idx` hung up: forget it and tell the others. */
void qmx_ivs_drop(struct qmx_ivs_server *s, unsigned idx);
/* Signal vector `vec` of client `idx` (an interrupt into that guest). */
int qmx_ivs_notify(struct qmx_ivs_server *s, unsigned idx, unsigned vec);
void qmx_ivs_fini(struct qmx_ivs_server *s);

#endif /* QMX_SIMD_IVSHMEM_H */
