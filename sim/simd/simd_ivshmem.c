/* SPDX-License-Identifier: MIT */
/* simd_ivshmem.c - ivshmem-doorbell server protocol (see simd_ivshmem.h). */
#define _GNU_SOURCE /* memfd_create, accept4 */
#include <errno.h>
#include <endian.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "simd_ivshmem.h"

/* Send one int64 message, with `fd` attached when fd >= 0. */
static int send_msg(int sock, int64_t value, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	int64_t le = (int64_t)htole64((uint64_t)value);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(le) ? 0 : -EIO;
}

/* Announce `p` to the client on `sock`: its id once per vector, each with
 * one eventfd. */
static int send_peer(int sock, const struct qmx_ivs_peer *p, unsigned vectors)
{
	for (unsigned v = 0; v < vectors; v++) {
		int err = send_msg(sock, p->id, p->evfd[v]);

		if (err)
			return err;
	}
	return 0;
}

static int peer_init(struct qmx_ivs_peer *p, int64_t id, int sock,
		     unsigned vectors)
{
	p->id = id;
	p->sock = sock;
	for (unsigned v = 0; v < QMX_IVS_MAX_VECTORS; v++)
		p->evfd[v] = -1;
	for (unsigned v = 0; v < vectors; v++) {
		p->evfd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->evfd[v] < 0)
			return -errno;
	}
	return 0;
}

static void peer_fini(struct qmx_ivs_peer *p)
{
	for (unsigned v = 0; v < QMX_IVS_MAX_VECTORS; v++) {
		if (p->evfd[v] >= 0)
			close(p->evfd[v]);
		p->evfd[v] = -1;
	}
	if (p->sock >= 0)
		close(p->sock);
	p->sock = -1;
}

int qmx_ivs_init(struct qmx_ivs_server *s, const char *path, int shm_fd,
		 unsigned vectors)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int err;

	memset(s, 0, sizeof(*s));
	s->listen_fd = -1;
	s->shm_fd = shm_fd;
	s->vectors = vectors;
	if (vectors == 0 || vectors > QMX_IVS_MAX_VECTORS)
		return -EINVAL;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	snprintf(s->path, sizeof(s->path), "%s", path);
	memcpy(addr.sun_path, path, strlen(path) + 1);

	err = peer_init(&s->self, 0, -1, vectors);
	if (err)
		return err;
	s->next_id = 1;

	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return -errno;
	unlink(path); /* a stale socket from a killed run */
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(s->listen_fd, 4) < 0)
		return -errno;
	return 0;
}

int qmx_ivs_accept(struct qmx_ivs_server *s)
{
	struct qmx_ivs_peer *c;
	int sock, err;

	sock = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		return -errno;
	if (s->n_clients == QMX_IVS_MAX_CLIENTS || s->next_id > 0xFFFF) {
		close(sock);
		return -EMFILE;
	}
	c = &s->clients[s->n_clients];
	err = peer_init(c, s->next_id, sock, s->vectors);
	if (err)
		goto err_fini;

	/* Handshake: version, own id, shared memory. */
	err = send_msg(sock, 0, -1);
	if (!err)
		err = send_msg(sock, c->id, -1);
	if (!err)
		err = send_msg(sock, -1, s->shm_fd);
	/* The new client learns every peer, the device first... */
	if (!err)
		err = send_peer(sock, &s->self, s->vectors);
	for (unsigned i = 0; !err && i < s->n_clients; i++)
		err = send_peer(sock, &s->clients[i], s->vectors);
	/* ...and its own vectors last, as ivshmem-server does. */
	if (!err)
		err = send_peer(sock, c, s->vectors);
	if (err)
		goto err_fini;
	/* The others learn the new one; a failure there is theirs to report
	 * by hanging up. */
	for (unsigned i = 0; i < s->n_clients; i++)
		send_peer(s->clients[i].sock, c, s->vectors);
	s->next_id++;
	s->n_clients++;
	return 0;

err_fini:
	peer_fini(c);
	return err;
}

void qmx_ivs_drop(struct qmx_ivs_server *s, unsigned idx)
{
	int64_t id;

	if (idx >= s->n_clients)
		return;
	id = s->clients[idx].id;
	peer_fini(&s->clients[idx]);
	memmove(&s->clients[idx], &s->clients[idx + 1],
		(s->n_clients - idx - 1) * sizeof(s->clients[0]));
	s->n_clients--;
	for (unsigned i = 0; i < s->n_clients; i++)
		send_msg(s->clients[i].sock, id, -1);
}

int qmx_ivs_notify(struct qmx_ivs_server *s, unsigned idx, unsigned vec)
{
	uint64_t one = 1;

	if (idx >= s->n_clients || vec >= s->vectors)
		return -ENODEV;
	if (write(s->clients[idx].evfd[vec], &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

void qmx_ivs_fini(struct qmx_ivs_server *s)
{
	while (s->n_clients)
		qmx_ivs_drop(s, s->n_clients - 1);
	peer_fini(&s->self);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	s->listen_fd = -1;
}
