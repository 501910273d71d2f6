/* health.c - one server's RTT estimate, backoff and down state. */
#include "config.h"

#include "resolver/health.h"

static int
calc_rto(const struct health *h)
{
	int rto = h->srtt + 4 * h->rttvar;

	if (rto < HEALTH_RTO_MIN_MS)
		rto = HEALTH_RTO_MIN_MS;
	if (rto > HEALTH_RTO_MAX_MS)
		rto = HEALTH_RTO_MAX_MS;
	return rto;
}

static void
forget_rtt(struct health *h)
{
	h->srtt = 0;
	h->rttvar = HEALTH_RTO_UNKNOWN_MS / 4;
	h->rto = calc_rto(h);
	h->measured = false;
}

void
health_init(struct health *h)
{
	*h = (struct health){0};
	forget_rtt(h);
}

/* Gains 1/8 for the mean and 1/4 for the deviation (Jacobson, as TCP and
 * unbound have them). The first sample is the mean (RFC 6298), so that
 * servers rank by what was measured at once; the deviation starts from
 * the unknown server's, so the RTO comes down only with more samples. */
bool
health_answered(struct health *h, int64_t now, int elapsed_ms)
{
	bool was_down = h->down;
	int delta = elapsed_ms - h->srtt;

	h->srtt = h->measured ? h->srtt + delta / 8 : elapsed_ms;
	if (delta < 0)
		delta = -delta;
	h->rttvar += (delta - h->rttvar) / 4;
	h->rto = calc_rto(h);
	h->measured = true;
	h->learnt_at = now;
	h->failures_in_row = 0;
	h->down = false;
	h->probe_wait_ms = 0;
	return was_down;
}

void
health_backoff(struct health *h, int rto_at_send)
{
	int doubled = rto_at_send > HEALTH_RTO_MAX_MS / 2 ? HEALTH_RTO_MAX_MS
							  : rto_at_send * 2;

	if (h->rto < doubled)
		h->rto = doubled;
}

bool
health_failed(struct health *h, int64_t now, unsigned epoch)
{
	h->learnt_at = now;
	if (epoch != h->epoch)
		return false;
	h->epoch++;
	h->failures_in_row++;
	if (h->down || h->failures_in_row < HEALTH_DOWN_AFTER)
		return false;
	h->down = true;
	h->probe_wait_ms = HEALTH_PROBE_FIRST_MS;
	h->probe_at = now + h->probe_wait_ms;
	return true;
}

void
health_probe_failed(struct health *h, int64_t now)
{
	h->probe_wait_ms = h->probe_wait_ms >= HEALTH_PROBE_MAX_MS / 2
				   ? HEALTH_PROBE_MAX_MS
				   : h->probe_wait_ms * 2;
	h->probe_at = now + h->probe_wait_ms;
}

bool
health_probe_due(const struct health *h, int64_t now)
{
	return h->down && now >= h->probe_at;
}

void
health_refresh(struct health *h, int64_t now, unsigned ttl_ms)
{
	if (h->down || h->learnt_at == 0 || now - h->learnt_at <= ttl_ms)
		return;
	forget_rtt(h);
	h->failures_in_row = 0;
	h->learnt_at = 0;
}

int
health_rank(const struct health *h)
{
	if (h->rto > calc_rto(h) || !h->measured)
		return h->rto;
	return h->srtt;
}
