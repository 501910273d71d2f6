/* nft_batch.h - one NETLINK_NETFILTER socket and the batches sent on it.
 * A change to nftables is one batch (begin, messages, end) in one sendmsg;
 * every message asks for an ack and all of them are awaited, so a change
 * is applied whole or not at all, and an error names the message that
 * failed. The buffer is kept between batches, so once it is big enough a
 * batch allocates nothing (the per-query grant path). Dumps (GET requests)
 * use the same socket, outside any batch. */
#ifndef DNSGATE_NFT_BATCH_H
#define DNSGATE_NFT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

/* Bytes a batch may write on top of the size given to nft_batch_start:
 * the begin and end messages, tables, chains, small sets. */
#define NFT_BATCH_FIXED_BYTES 16384
/* Generous upper bounds for one rule and one set element, so the buffer
 * never overflows (libnftnl writes attributes without bounds checks). */
#define NFT_BATCH_RULE_BYTES 1024
#define NFT_BATCH_ELEMENT_BYTES 96
/* An element list is one netlink attribute, whose length has 16 bits:
 * longer lists go in several messages (of the same batch). */
#define NFT_BATCH_ELEMENTS_PER_MESSAGE 512

struct nft_batch;

/* Opens and binds the socket. Returns NULL with errno set and a reason in
 * err. The caller frees it with nft_batch_free. */
struct nft_batch *nft_batch_new(char *err, size_t errlen);
void nft_batch_free(struct nft_batch *b);

/* The socket's netlink port id: the sender of every change it makes. */
uint32_t nft_batch_portid(const struct nft_batch *b);

/* Starts a batch whose messages need at most size bytes (plus
 * NFT_BATCH_FIXED_BYTES); a batch that outgrows it fails to send with
 * -EMSGSIZE, it never overflows. */
void nft_batch_start(struct nft_batch *b, size_t size);

/* Begins the next message of the batch, asking for an ack; label says
 * what the message does, for errors ("creating a chain"), and must live
 * until the batch is sent (a string literal). The caller writes the
 * payload and then calls nft_batch_next. */
struct nlmsghdr *nft_batch_message(struct nft_batch *b, uint16_t type,
				   uint16_t flags, const char *label);
void nft_batch_next(struct nft_batch *b);

/* A set id unique in this batch: a rule finds a set created earlier in
 * the same batch by it. */
uint32_t nft_batch_new_set_id(struct nft_batch *b);

/* Ends the batch, sends it and waits for the kernel's verdict on every
 * message. Returns 0 or the first error (-errno), with the failed
 * message's label in err. */
int nft_batch_send(struct nft_batch *b, char *err, size_t errlen);

/* Ends the batch without sending it, for nft_batch_send_sealed: a change
 * prepared for a moment when nothing may be allocated or waited for (a
 * handler of a fatal signal). Returns 0, or -EMSGSIZE with a reason in
 * err. Starting another batch on b undoes it. */
int nft_batch_seal(struct nft_batch *b, char *err, size_t errlen);

/* Sends the sealed batch with one sendto(2) and reads no reply: the
 * kernel has applied it (or refused it) when this returns. Only system
 * calls: async-signal-safe. Returns 0 or -errno (-EINVAL: not sealed). */
int nft_batch_send_sealed(const struct nft_batch *b);

/* The sequence number for a dump request about to be built. */
uint32_t nft_batch_dump_seq(struct nft_batch *b);

/* Sends one dump request, nlh (built with a number from
 * nft_batch_dump_seq), and runs cb on every reply. Returns 0 or -errno
 * (-ENOENT when the object asked about does not exist). */
int nft_batch_dump(struct nft_batch *b, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *data);

/* Writes "netlink: <what>: <strerror(-error)><hint>" into err, the hint
 * saying what the error usually means here (EPERM: "dnsgated needs
 * CAP_NET_ADMIN"). */
void nft_batch_reason(char *err, size_t errlen, const char *what, int error);

/* Returns p; aborts with a message when it is NULL (libnftnl's
 * allocations: out of memory is not survivable for the gate). */
void *nft_batch_oom_check(void *p);

#endif
