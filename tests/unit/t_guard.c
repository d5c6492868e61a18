/* t_guard.c - endpoints and limits checked before anything is sent */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "../../src/agcod.h"
#include "../../src/guard.h"
#include "unit.h"

static int saved_stderr = -1;

/* the refusals print their reasons; keep the runner's output readable */
static void
quiet(int on)
{
	int fd;

	fflush(stderr);
	if (on) {
		saved_stderr = dup(2);
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, 2);
			close(fd);
		}
	} else if (saved_stderr != -1) {
		dup2(saved_stderr, 2);
		close(saved_stderr);
		saved_stderr = -1;
	}
}

static int
config(const char *host, int production, const char *ca, const char *region)
{
	static struct profile p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.region = region_find(region ? region : "na");
	p.production = production;
	strlcpy(p.name, "t", sizeof(p.name));
	strlcpy(p.host, host, sizeof(p.host));
	snprintf(p.endpoint, sizeof(p.endpoint), "https://%s", host);
	strlcpy(p.ca_bundle, ca ? ca : "", sizeof(p.ca_bundle));
	quiet(1);
	rc = exit_code(guard_config(&p, 0));
	quiet(0);
	return rc;
}

static int
limit(const char *max, const char *amount, int batch)
{
	static struct profile p;
	struct amount a;
	int rc;

	memset(&p, 0, sizeof(p));
	strlcpy(batch ? p.max_batch_total : p.max_amount, max,
	    sizeof(p.max_amount));
	if (amount_parse_number(amount, &a) == -1)
		return -1;
	quiet(1);
	rc = exit_code(batch ? guard_batch_total(&p, &a, "USD") :
	    guard_amount(&p, &a, "USD"));
	quiet(0);
	return rc;
}

void
test_guard(void)
{
	static const struct {
		const char	*host;
		int		 production, want;
		const char	*region;	/* NULL: na */
	} hosts[] = {
		{ "127.0.0.1:8443", 0, 0, NULL },
		{ "127.0.0.1:8443", 1, 0, NULL },
		{ "localhost", 0, 0, NULL }, { "[::1]:443", 0, 0, NULL },
		{ "proxy_1.internal:3128", 1, 0, NULL },
		{ "agcod-v2-gamma.amazon.com", 0, 0, NULL },
		{ "agcod-v2.amazon.com", 1, 0, NULL },
		{ "agcod-v2-fe.amazon.com:443", 1, 0, "fe" },
		{ "agcod-v2-eu-gamma.amazon.com", 0, 0, "eu" },
		{ "127.0.0.1:8443", 1, 0, "fe" }, { "localhost", 0, 0, "eu" },
		/* one of Amazon's hosts, signed for another region */
		{ "agcod-v2-fe-gamma.amazon.com", 0, 78, NULL },
		{ "agcod-v2-fe.amazon.com", 1, 78, NULL },
		{ "agcod-v2.amazon.com", 1, 78, "eu" },
		{ "agcod-v2-eu-gamma.amazon.com", 0, 78, "fe" },
		{ "agcod-v2.amazon.com", 0, 78, NULL },
		{ "AGCOD-V2-EU.amazon.com.", 0, 78, NULL },
		{ "agcod-v2-fe-gamma.amazon.com", 1, 78, NULL },
		{ "agcod-v2-eu-gamma.amazon.com:443", 1, 78, NULL },
		{ "127.0.0.1:99999", 0, 78, NULL },
		{ "127.0.0.1:0", 0, 78, NULL },
		{ "127.0.0.1:", 0, 78, NULL },
		{ "127.0.0.1:8443x", 0, 78, NULL },
		{ "127.0.0.1 :8443", 0, 78, NULL },
		{ "127.0.0.1:8443 ", 0, 78, NULL },
		{ "exa mple.com", 0, 78, NULL }, { "host\tname", 0, 78, NULL },
		{ "[::1", 0, 78, NULL }, { "[::g]:1", 0, 78, NULL },
		{ "", 0, 78, NULL },
		{ ":443", 0, 78, NULL },
	};
	static const struct {
		const char	*max, *amount;
		int		 batch, want;
	} limits[] = {
		{ "100", "100", 0, 0 }, { "100", "100.00", 0, 0 },
		{ "100.00", "100.001", 0, 64 }, { "100", "100.01", 0, 64 },
		{ "0.15", "0.15", 0, 0 }, { "0.15", "0.16", 0, 64 },
		{ "", "99999999", 0, 0 },
		{ "5000", "5000.00", 1, 0 }, { "5000", "5000.01", 1, 64 },
		{ "1.0E4", "10000", 1, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		CHECK(config(hosts[i].host, hosts[i].production, NULL,
		    hosts[i].region) == hosts[i].want, "endpoint '%s' (%s %s): "
		    "want %d", hosts[i].host,
		    hosts[i].region ? hosts[i].region : "na",
		    hosts[i].production ? "production" : "sandbox",
		    hosts[i].want);
	CHECK(config("127.0.0.1:1", 0, "/nonexistent/ca.pem", NULL) == 78,
	    "a missing CA bundle");
	CHECK(config("127.0.0.1:1", 0, "/", NULL) == 78, "a CA bundle that is "
	    "a directory");
	CHECK(config("127.0.0.1:1", 0, "/dev/null", NULL) == 78, "a CA bundle "
	    "that is not a regular file");
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		CHECK(limit(limits[i].max, limits[i].amount, limits[i].batch) ==
		    limits[i].want, "%s %s under %s: want %d", limits[i].batch ?
		    "total" : "amount", limits[i].amount, limits[i].max,
		    limits[i].want);
}
