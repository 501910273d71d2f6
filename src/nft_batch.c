/* nft_batch.c - netlink batches to nftables, sent whole and acked. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
/* After netinet/in.h, which the kernel's headers defer to. */
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>

#include "src/nft_batch.h"
#include "src/xmalloc.h"

#define RECV_BUFFER_SIZE 16384
/* The most the kernel puts in one reply of a dump (32 KiB less the
 * overhead): with less, a large set takes many more, slower, rounds. */
#define DUMP_BUFFER_SIZE 32768
#define BATCH_ACKS_PER_DEFAULT_RCVBUF 128
#define BATCH_BYTES_PER_DEFAULT_SNDBUF 65536
#define ACK_RCVBUF_BYTES 2048

/* Every message asks for an ack; labels[i] says what message first_seq + i
 * does, so an error can name it. */
struct nft_batch {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq; /* next sequence number */
	char *buf;
	size_t bufsize;
	struct mnl_nlmsg_batch *batch;
	uint32_t begin_seq; /* the batch begin message */
	uint32_t first_seq; /* the first message that asks for an ack */
	uint32_t next_set_id;
	bool overflow;
	size_t used; /* bytes the last batch wrote into buf */
	const char **labels;
	size_t n_labels;
	size_t cap_labels;
	/* A sealed batch, ready for nft_batch_send_sealed. */
	int fd;
	const void *sealed;
	size_t sealed_len;
};

void *
nft_batch_oom_check(void *p)
{
	if (p == NULL) {
		fprintf(stderr, "dnsgate: out of memory in libnftnl\n");
		abort();
	}
	return p;
}

void
nft_batch_reason(char *err, size_t errlen, const char *what, int error)
{
	const char *hint = "";

	if (err == NULL || errlen == 0)
		return;
	switch (-error) {
	case EPERM:
		hint = ": dnsgated needs CAP_NET_ADMIN";
		break;
	case ENFILE:
		hint = " (the set is full)";
		break;
	case EOPNOTSUPP:
		hint = " (the kernel lacks this nftables feature)";
		break;
	case ENOBUFS:
		hint = " (netlink replies were lost)";
		break;
	default:
		break;
	}
	snprintf(err, errlen, "netlink: %s: %s%s", what, strerror(-error),
		 hint);
}

/* --- the socket ---------------------------------------------------------- */

struct nft_batch *
nft_batch_new(char *err, size_t errlen)
{
	struct nft_batch *b = xcalloc(1, sizeof *b);
	int on = 1;

	b->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (b->sock == NULL) {
		int error = errno;

		nft_batch_reason(err, errlen, "opening a netfilter socket",
				 -error);
		free(b);
		errno = error;
		return NULL;
	}
	if (mnl_socket_bind(b->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int error = errno;

		nft_batch_reason(err, errlen, "binding the netfilter socket",
				 -error);
		mnl_socket_close(b->sock);
		free(b);
		errno = error;
		return NULL;
	}
	/* Errors then carry only the header of the failed message, so a
	 * large batch cannot make an error reply too big to read. */
	mnl_socket_setsockopt(b->sock, NETLINK_CAP_ACK, &on, sizeof on);
	b->portid = mnl_socket_get_portid(b->sock);
	b->seq = (uint32_t)time(NULL);
	b->fd = mnl_socket_get_fd(b->sock);
	return b;
}

void
nft_batch_free(struct nft_batch *b)
{
	if (b == NULL)
		return;
	if (b->batch != NULL)
		mnl_nlmsg_batch_stop(b->batch);
	if (b->sock != NULL)
		mnl_socket_close(b->sock);
	free(b->buf);
	free(b->labels);
	free(b);
}

uint32_t
nft_batch_portid(const struct nft_batch *b)
{
	return b->portid;
}

static void
grow_socket_buffer(struct nft_batch *b, int force_option, int option,
		   size_t bytes)
{
	int fd = mnl_socket_get_fd(b->sock);
	int size = bytes > INT_MAX / 2 ? INT_MAX / 2 : (int)bytes;

	/* Beyond net.core.[rw]mem_max only with CAP_NET_ADMIN, which a
	 * process changing nftables has anyway. */
	if (setsockopt(fd, SOL_SOCKET, force_option, &size, sizeof size) < 0)
		setsockopt(fd, SOL_SOCKET, option, &size, sizeof size);
}

/* A batch is one sendmsg, refused when larger than the send buffer; and
 * the kernel queues an ack for every message before sendmsg returns, so
 * the receive buffer must hold them all. */
static void
reserve_socket_buffers(struct nft_batch *b, size_t batch_bytes, size_t n_acks)
{
	if (batch_bytes > BATCH_BYTES_PER_DEFAULT_SNDBUF)
		grow_socket_buffer(b, SO_SNDBUFFORCE, SO_SNDBUF, batch_bytes);
	if (n_acks > BATCH_ACKS_PER_DEFAULT_RCVBUF)
		grow_socket_buffer(b, SO_RCVBUFFORCE, SO_RCVBUF,
				   n_acks * ACK_RCVBUF_BYTES);
}

/* --- batches ------------------------------------------------------------- */

void
nft_batch_start(struct nft_batch *b, size_t size)
{
	/* Room for the messages, the small ones every batch has, and one
	 * reserve past the limit: mnl_nlmsg_batch_next() only notices a
	 * message once it has gone beyond the limit. */
	size_t want = size + 2 * NFT_BATCH_FIXED_BYTES;

	/* libmnl 1.0.4 leaves attribute padding as it finds it: start from
	 * zeros, so no stale byte goes to the kernel. */
	if (b->bufsize < want || b->overflow) {
		if (b->batch != NULL)
			mnl_nlmsg_batch_stop(b->batch);
		if (b->bufsize < want) {
			free(b->buf);
			b->buf = xcalloc(1, want);
			b->bufsize = want;
		} else {
			memset(b->buf, 0, b->bufsize);
		}
		b->batch = nft_batch_oom_check(mnl_nlmsg_batch_start(
			b->buf, b->bufsize - NFT_BATCH_FIXED_BYTES));
	} else {
		memset(b->buf, 0, b->used);
		mnl_nlmsg_batch_reset(b->batch);
	}
	b->used = 0;
	b->overflow = false;
	b->sealed = NULL;
	b->n_labels = 0;
	b->next_set_id = 1;
	b->begin_seq = b->seq++;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b->batch), b->begin_seq);
	mnl_nlmsg_batch_next(b->batch);
	b->first_seq = b->seq;
}

struct nlmsghdr *
nft_batch_message(struct nft_batch *b, uint16_t type, uint16_t flags,
		  const char *label)
{
	if (b->n_labels == b->cap_labels) {
		b->cap_labels = b->cap_labels == 0 ? 16 : b->cap_labels * 2;
		b->labels = xreallocarray(b->labels, b->cap_labels,
					  sizeof *b->labels);
	}
	b->labels[b->n_labels++] = label;
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b->batch), type,
				     NFPROTO_INET, flags | NLM_F_ACK, b->seq++);
}

void
nft_batch_next(struct nft_batch *b)
{
	if (!mnl_nlmsg_batch_next(b->batch))
		b->overflow = true;
}

uint32_t
nft_batch_new_set_id(struct nft_batch *b)
{
	return b->next_set_id++;
}

/* Reads the replies to the batch: an ack for every message, or an error.
 * Returns 0 or the first error, with the failed message named in err. */
static int
batch_wait(struct nft_batch *b, char *err, size_t errlen)
{
	char buf[RECV_BUFFER_SIZE];
	size_t acked = 0;
	int error = 0;
	uint32_t failed_seq = 0;

	while (acked < b->n_labels && error == 0) {
		ssize_t len = mnl_socket_recvfrom(b->sock, buf, sizeof buf);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left = (int)len;

		if (len < 0) {
			error = -errno;
			nft_batch_reason(err, errlen,
					 "reading the kernel's reply", error);
			return error;
		}
		for (; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;

			/* Replies to an earlier, failed batch may still be
			 * queued; they are not ours. */
			if (nlh->nlmsg_seq - b->begin_seq >=
				    b->seq - b->begin_seq ||
			    nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error == 0) {
				acked++;
			} else if (error == 0) {
				error = e->error;
				failed_seq = nlh->nlmsg_seq;
			}
		}
	}
	if (error != 0) {
		/* Every reply is queued by now: drop the rest, so the next
		 * batch starts on an empty socket. */
		while (recv(mnl_socket_get_fd(b->sock), buf, sizeof buf,
			    MSG_DONTWAIT) > 0)
			;
		/* A refusal of the whole batch (no CAP_NET_ADMIN, or a
		 * failed commit) comes with the sequence number of its
		 * begin message. */
		if (failed_seq - b->first_seq < b->n_labels)
			nft_batch_reason(err, errlen,
					 b->labels[failed_seq - b->first_seq],
					 error);
		else
			nft_batch_reason(err, errlen,
					 "changing the nftables ruleset",
					 error);
	}
	return error;
}

/* Writes the end message. Returns 0 or -EMSGSIZE. */
static int
batch_end(struct nft_batch *b, char *err, size_t errlen)
{
	nftnl_batch_end(mnl_nlmsg_batch_current(b->batch), b->seq++);
	nft_batch_next(b);
	if (b->overflow) {
		b->used = b->bufsize;
		nft_batch_reason(err, errlen, "building the batch", -EMSGSIZE);
		return -EMSGSIZE;
	}
	b->used = mnl_nlmsg_batch_size(b->batch);
	return 0;
}

int
nft_batch_seal(struct nft_batch *b, char *err, size_t errlen)
{
	int ret = batch_end(b, err, errlen);

	if (ret < 0)
		return ret;
	b->sealed = mnl_nlmsg_batch_head(b->batch);
	b->sealed_len = b->used;
	return 0;
}

int
nft_batch_send_sealed(const struct nft_batch *b)
{
	struct sockaddr_nl kernel;

	if (b == NULL || b->sealed == NULL)
		return -EINVAL;
	memset(&kernel, 0, sizeof kernel);
	kernel.nl_family = AF_NETLINK;
	if (sendto(b->fd, b->sealed, b->sealed_len, 0,
		   (const struct sockaddr *)&kernel, sizeof kernel) < 0)
		return -errno;
	return 0;
}

int
nft_batch_send(struct nft_batch *b, char *err, size_t errlen)
{
	ssize_t sent;
	int ret = batch_end(b, err, errlen);

	if (ret < 0)
		return ret;
	reserve_socket_buffers(b, b->used, b->n_labels);
	sent = mnl_socket_sendto(b->sock, mnl_nlmsg_batch_head(b->batch),
				 mnl_nlmsg_batch_size(b->batch));
	if (sent < 0) {
		int error = -errno;

		nft_batch_reason(err, errlen, "sending the batch", error);
		return error;
	}
	return batch_wait(b, err, errlen);
}

/* --- dumps --------------------------------------------------------------- */

uint32_t
nft_batch_dump_seq(struct nft_batch *b)
{
	return b->seq++;
}

int
nft_batch_dump(struct nft_batch *b, struct nlmsghdr *nlh, mnl_cb_t cb,
	       void *data)
{
	char buf[DUMP_BUFFER_SIZE];
	uint32_t seq = nlh->nlmsg_seq;
	int ret;

	if (mnl_socket_sendto(b->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t len = mnl_socket_recvfrom(b->sock, buf, sizeof buf);

		if (len < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)len, seq, b->portid, cb, data);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}
