/* fixtures.h - what the unit tests build their cases from: temporary
 * files, socket addresses and ports, test cgroups, DNS messages. Linked
 * into every unit test; the assertions are check.h's, the nftables
 * namespace nft_test.h's. */
#ifndef DNSGATE_FIXTURES_H
#define DNSGATE_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

/* --- files --- */

/* Writes length bytes of text (NULs allowed) to a new file
 * /tmp/dnsgate-test-XXXXXX whose name is left in path (pathlen bytes,
 * at least 25). Returns 0, or -1 with no file left behind. The caller
 * unlinks it. */
int fixture_temp_file(char *path, size_t pathlen, const char *text,
		      size_t length);

/* The whole file as a string, or NULL; the caller frees it. */
char *fixture_read_file(const char *path);

/* --- addresses and ports --- */

struct sockaddr_in fixture_ipv4(const char *text, uint16_t port);
struct sockaddr_in6 fixture_ipv6(const char *text, uint16_t port);

/* 127.0.0.1:port. */
struct sockaddr_in fixture_loopback(uint16_t port);

/* text ("192.0.2.1" or "2001:db8::1", by the colon) and port in ss;
 * returns the length of the address written. */
socklen_t fixture_sockaddr(const char *text, uint16_t port,
			   struct sockaddr_storage *ss);

/* The local port of a bound socket, or 0. */
uint16_t fixture_local_port(int fd);

/* A UDP port on 127.0.0.1 that nobody had bound a moment ago. */
uint16_t fixture_free_port(void);

/* --- cgroups --- */

/* Makes the directory mount+rel (rel starts with '/') and remembers it
 * for fixture_cgroups_remove. Returns 0, or -1 said on stderr. */
int fixture_cgroup_make(const char *mount, const char *rel);

/* Removes what fixture_cgroup_make made, innermost first. A cgroup whose
 * last task just exited may be busy for a moment: that is waited for. */
void fixture_cgroups_remove(void);

/* The id of the cgroup at mount+rel: its directory's inode, or 0. */
uint64_t fixture_cgroup_id(const char *mount, const char *rel);

/* This process's own cgroup path (the "0::PATH" line of
 * /proc/self/cgroup), or "" when there is none. */
void fixture_own_cgroup_path(char *buf, size_t buflen);

/* --- DNS messages --- */

/* The big-endian 16-bit number at p. */
uint16_t fixture_get16(const uint8_t *p);

/* A response to question ("name. IN A") with rcode: ID 0x1234, RD and
 * RA set. The caller owns it. */
ldns_pkt *fixture_answer_new(const char *question, uint8_t rcode);

/* Adds the record text (TTL 3600 when it names none) to section. */
void fixture_add_rr(ldns_pkt *pkt, ldns_pkt_section section,
		    const char *text);

/* Writes pkt in wire format into buf and frees pkt; returns the length
 * (0 when it does not fit). */
size_t fixture_pkt_to_buf(ldns_pkt *pkt, uint8_t *buf, size_t buflen);

struct matcher;

/* The entry matcher_match found for name, as the matcher normalises
 * names (lower case, no trailing dot), or NULL: the listed entry is the
 * matched suffix of the asked name. In a static buffer, valid until the
 * next call. */
const char *fixture_matcher_entry(const struct matcher *m, const char *name);

#endif
