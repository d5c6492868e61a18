/* t_profile.c - INI reading: values as written, errors with line numbers */
#include <stdlib.h>
#include <string.h>

#include "../../src/profile.h"
#include "unit.h"

static int
parse(const char *text, const char *section, struct profile *p, char *err,
    size_t errlen, int *found, int *holds)
{
	memset(p, 0, sizeof(*p));
	err[0] = '\0';
	return profile_parse(p, text, strlen(text), "t.ini", section, found,
	    holds, err, errlen);
}

void
test_profile(void)
{
	static const char good[] =
	    "# comment\n; another\n[default]\npartner_id = Acme1\n"
	    "access_key_id=AKID\nsecret_access_key = se;cret #x ;y\n"
	    "region = eu\nenvironment = production\ncurrency = EUR\n"
	    "max_rps = 5\n\n[other]\npartner_id = Other\r\n";
	static const struct {
		const char *text, *want;	/* a piece of the error */
	} bad[] = {
		{ "[default]\nsecret_key = x\n", "line 2: unknown key "
		    "'secret_key' (did you mean 'secret_access_key'?)" },
		{ "[default]\nparnter_id = x\n", "did you mean 'partner_id'" },
		{ "[default]\nregion = us\n", "line 2: region is not one of" },
		{ "[default]\nenvironment = prod\n", "environment is not sandbox" },
		{ "[default]\nmax_rps = 11\n", "max_rps is too large" },
		{ "[default]\nmax_rps = x\n", "max_rps is invalid" },
		{ "[default]\npartner_id = a\npartner_id = b\n",
		    "line 3: 'partner_id' is already set on line 2" },
		{ "[default]\npartner_id = a\n  region = na\n", "line 3: "
		    "indented line" },
		{ "[default]\njust some words\n", "line 2" },
		{ "[default\npartner_id = a\n", "line 1" },
		{ "[default]\npartner_id =\n", "no value" },
		{ "[x]\nbogus = 1\n[default]\npartner_id = a\n",
		    "line 2: unknown key 'bogus'" },
	};
	struct profile p;
	char err[512], longline[5000], okline[1100];
	int found, holds;
	size_t i;

	CHECK(parse(good, "default", &p, err, sizeof(err), &found, &holds) == 0,
	    "good file: %s", err);
	CHECK(found && holds, "found, holds a secret");
	CHECK_STR(p.partner_id, "Acme1", "partner");
	CHECK_STR(p.access_key_id, "AKID", "key id without spaces");
	CHECK_STR(p.secret, "se;cret #x ;y", "secret keeps ';' and '#'");
	CHECK(p.region && strcmp(p.region->signing_region, "eu-west-1") == 0,
	    "region eu signs eu-west-1");
	CHECK(p.production == 1 && p.max_rps == 5, "environment, max_rps");
	CHECK_STR(p.currency, "EUR", "currency");
	free(p.secret);
	CHECK(parse("\xef\xbb\xbf[default]\npartner_id = Bom1\n", "default", &p,
	    err, sizeof(err), &found, &holds) == 0 && found &&
	    strcmp(p.partner_id, "Bom1") == 0, "byte order mark: %s", err);
	free(p.secret);
	CHECK(parse(good, "other", &p, err, sizeof(err), &found, &holds) == 0 &&
	    strcmp(p.partner_id, "Other") == 0, "CRLF line, other section");
	free(p.secret);
	CHECK(parse(good, "missing", &p, err, sizeof(err), &found, &holds) ==
	    0 && !found, "missing section is not found");
	free(p.secret);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i].text, "default", &p, err, sizeof(err),
		    &found, &holds);

		CHECK(r == -1 && strstr(err, bad[i].want) != NULL,
		    "bad case %zu: want '%s', got '%s'", i, bad[i].want, err);
		free(p.secret);
	}
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	memcpy(longline, "[default]\nsecret_access_key_command = ", 38);
	CHECK(parse(longline, "default", &p, err, sizeof(err), &found,
	    &holds) == -1 && strstr(err, "line 2: line too long"),
	    "long line: %s", err);
	free(p.secret);
	/* inih's 200 bytes were shorter than our own 1023-byte command */
	memset(okline, 'b', sizeof(okline) - 1);
	okline[sizeof(okline) - 1] = '\0';
	memcpy(okline, "[default]\nsecret_access_key_command = ", 38);
	okline[38 + 1023] = '\0';
	CHECK(parse(okline, "default", &p, err, sizeof(err), &found,
	    &holds) == 0 && strlen(p.secret_command) == 1023,
	    "a 1061-byte line: %s", err);
	free(p.secret);
	/* a secret in the wrong key is never quoted back */
	{
		static const char *const wrong[] = { "partner_id", "region",
		    "environment", "currency", "max_rps", "access_key_id" };
		static const char sec[] =
		    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
		char text[300];

		for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
			snprintf(text, sizeof(text), "[default]\n%s = %s\n"
			    "%s = again\n", wrong[i], sec, wrong[i]);
			parse(text, "default", &p, err, sizeof(err), &found,
			    &holds);
			CHECK(err[0] && strstr(err, "EXAMPLEKEY") == NULL &&
			    strstr(err, "line 2") != NULL,
			    "%s: error without the value: %s", wrong[i], err);
			free(p.secret);
		}
	}
	memset(&p, 0, sizeof(p));
	CHECK(profile_parse(&p, "[a]\0b", 5, "t.ini", "default", &found,
	    &holds, err, sizeof(err)) == -1 && strstr(err, "not a text file"),
	    "NUL byte refused");
	CHECK(profile_suggest("acces_key_id") &&
	    strcmp(profile_suggest("acces_key_id"), "access_key_id") == 0,
	    "suggest");
	CHECK(profile_suggest("zzzzzz") == NULL, "no suggestion");
	CHECK(region_find("fe") && strcmp(region_find("fe")->signing_region,
	    "us-west-2") == 0 && strcmp(region_find("fe")->production_host,
	    "agcod-v2-fe.amazon.com") == 0, "fe binds host and region");
	CHECK(region_find("NA") == NULL, "region names are lower case");
}
