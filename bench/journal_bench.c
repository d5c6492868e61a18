/*
 * journal_bench.c - the cost of recording one request durably: the SQLite
 * journal's pending record (committed with synchronous=FULL) and outcome,
 * against agcod 0.1's append of a JSON line with fdatasync.
 *
 * usage: journal_bench DIR N   (prints two lines: microseconds per request)
 */
#include <sys/file.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/journal.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct journal j;
	double t0, sqlite_us, jsonl_us;
	int i, n, fd;

	if (argc != 3 || (n = atoi(argv[2])) <= 0)
		return 2;
	if (journal_open(&j, argv[1], JOURNAL_WRITE) != AGCOD_OK) {
		fprintf(stderr, "%s\n", j.err);
		return 1;
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		char rid[41];
		json_t *p, *o;
		int64_t id;

		snprintf(rid, sizeof(rid), "BenchJournal%08d", i);
		p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "operation",
		    "CreateGiftCard", "request_id", rid, "profile", "default",
		    "partner", "Bench", "endpoint", "https://127.0.0.1:8443",
		    "amount", "19.99", "currency", "USD");
		o = json_pack("{s:s, s:s, s:s, s:i}", "state", "succeeded",
		    "gc_id", "GCBENCH0000001", "amazon_request_id",
		    "0123456789abcdef0123456789abcdef", "http_status", 200);
		if ((id = journal_begin(&j, p)) == -1 ||
		    journal_finish(&j, id, o) == -1) {
			fprintf(stderr, "%s\n", j.err);
			return 1;
		}
		json_decref(p);
		json_decref(o);
	}
	sqlite_us = (now() - t0) * 1e6 / n;
	journal_close(&j);

	/* agcod 0.1: flock, one write, fdatasync the pending; append the final */
	snprintf(path, sizeof(path), "%s/journal.jsonl", argv[1]);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600)) == -1)
		return 1;
	t0 = now();
	for (i = 0; i < n; i++) {
		char line[512];
		int len;

		len = snprintf(line, sizeof(line), "{\"time\":\"2026-11-26T00:00:00Z\","
		    "\"state\":\"pending\",\"operation\":\"CreateGiftCard\","
		    "\"request_id\":\"BenchJournal%08d\",\"profile\":\"default\","
		    "\"partner\":\"Bench\",\"endpoint\":\"https://127.0.0.1:8443\","
		    "\"amount\":\"19.99\",\"currency\":\"USD\"}\n", i);
		flock(fd, LOCK_EX);
		if (write(fd, line, (size_t)len) != len || fdatasync(fd) == -1)
			return 1;
		flock(fd, LOCK_UN);
		len = snprintf(line, sizeof(line), "{\"time\":\"2026-11-26T00:00:00Z\","
		    "\"state\":\"succeeded\",\"operation\":\"CreateGiftCard\","
		    "\"request_id\":\"BenchJournal%08d\",\"gc_id\":\"GCBENCH0000001\","
		    "\"http_status\":200}\n", i);
		flock(fd, LOCK_EX);
		if (write(fd, line, (size_t)len) != len)
			return 1;
		flock(fd, LOCK_UN);
	}
	jsonl_us = (now() - t0) * 1e6 / n;
	close(fd);
	printf("%.0f\n%.0f\n", sqlite_us, jsonl_us);
	return 0;
}
