/*
 * pq.c - libpq, loaded at run time for the PostgreSQL store: the table of
 * its functions (pq.h) filled from dlopen("libpq.so.5") on the first use
 * of a PostgreSQL journal, so a process whose journal is SQLite neither
 * maps libpq nor pays its relocations.  The simulator's build
 * (-DAGCOD_PQ_LINKED, tests/sim) fills it from the link instead, where
 * -Wl,--wrap reaches the calls it faults.
 */
#include <stdio.h>

#ifndef AGCOD_PQ_LINKED
#include <dlfcn.h>
#endif

#include "pq.h"

struct libpq libpq;

#ifdef AGCOD_PQ_LINKED

int
pq_load(char *err, size_t len)
{
	(void)err;
	(void)len;
#define PQ_LINKED(f)	libpq.f = f;
	PQ_FUNCTIONS(PQ_LINKED)
#undef PQ_LINKED
	return 0;
}

#else

int
pq_load(char *err, size_t len)
{
	static void *lib;
	void *h, *sym;
	const char *why;

	if (lib)
		return 0;
	if ((h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL)) == NULL)
		goto fail;
#define PQ_SYM(f) \
	if ((sym = dlsym(h, #f)) == NULL) \
		goto fail; \
	libpq.f = (__typeof__(libpq.f))sym;
	PQ_FUNCTIONS(PQ_SYM)
#undef PQ_SYM
	lib = h;
	return 0;
fail:
	why = dlerror();
	if (err)
		snprintf(err, len, "the PostgreSQL journal needs libpq "
		    "(Debian: libpq5): %s", why ? why : "it cannot be loaded");
	if (h)
		dlclose(h);
	return -1;
}

#endif
