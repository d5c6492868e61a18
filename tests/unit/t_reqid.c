/* t_reqid.c - request ids: generated ones are valid, unique and ordered */
#include <string.h>

#include "../../src/reqid.h"
#include "unit.h"

void
test_reqid(void)
{
	char a[REQID_MAX + 1], b[REQID_MAX + 1], c[REQID_MAX + 1];
	char longp[32];

	CHECK(reqid_generate("Acme1", 1700000000000ULL, a) == 0, "generate");
	CHECK(strlen(a) <= REQID_MAX && strncmp(a, "Acme1", 5) == 0,
	    "starts with the partner id: %s", a);
	CHECK(reqid_check(a, "Acme1", 1) == NULL, "generated id is valid");
	CHECK(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789") == strlen(a), "generated ids stay alphanumeric: %s",
	    a);
	CHECK(reqid_generate("Acme1", 1700000000000ULL, b) == 0 &&
	    strcmp(a, b) != 0, "same millisecond, different ids");
	CHECK(reqid_generate("Acme1", 1700000000001ULL, c) == 0 &&
	    strncmp(a, c, 13) < 0, "later ids sort later");
	memset(longp, 'P', 20);
	longp[20] = '\0';
	CHECK(reqid_generate(longp, 1, a) == 0 && strlen(a) == 40,
	    "20-character partner fills 40");
	longp[21] = '\0';
	longp[20] = 'P';
	CHECK(reqid_generate(longp, 1, a) == -1, "21-character partner");

	CHECK(reqid_check("Acme1abc", "Acme1", 0) == NULL, "valid");
	CHECK(reqid_check("", "Acme1", 0) != NULL, "empty");
	/* the live sandbox accepts them (gullevek's recordings) */
	CHECK(reqid_check("Acme1-abc", "Acme1", 0) == NULL, "dash");
	CHECK(reqid_check("Acme1_62a309167e7a4", "Acme1", 1) == NULL,
	    "underscore");
	CHECK(reqid_check("Acme1-_-_", "Acme1", 0) == NULL, "only - and _");
	CHECK(reqid_check("Acme1.abc", "Acme1", 0) != NULL, "dot refused");
	CHECK(reqid_check("Acme1 abc", "Acme1", 0) != NULL, "space refused");
	CHECK(reqid_check("Acme1/abc", "Acme1", 0) != NULL, "slash refused");
	CHECK(reqid_check("Acme1\xc3\xa9", "Acme1", 0) != NULL, "non-ASCII");
	CHECK(reqid_check("-Acme1", "Acme1", 0) != NULL, "prefix first");
	CHECK(reqid_check("Acme1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Acme1",
	    0) == NULL, "40 characters with a dash");
	CHECK(reqid_check("Acme1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Acme1",
	    0) != NULL, "41 characters with a dash");
	CHECK(reqid_check("Other123", "Acme1", 0) != NULL, "other partner");
	CHECK(reqid_check("acme1xyz", "Acme1", 0) != NULL, "case matters");
	CHECK(reqid_check("Acme1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Acme1",
	    0) == NULL, "40 characters");
	CHECK(reqid_check("Acme1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Acme1",
	    0) != NULL, "41 characters");
	CHECK(reqid_check("F4000", "Acme1", 0) == NULL, "mock in sandbox");
	CHECK(reqid_check("F4000", "Acme1", 1) != NULL, "mock in production");
	CHECK(reqid_check("F400", "Acme1", 0) != NULL, "not a mock");
	CHECK(reqid_is_mock("F2047") && !reqid_is_mock("F20470") &&
	    !reqid_is_mock("G2047"), "mock shapes");
}
