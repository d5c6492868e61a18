/*
 * pqload.c - loads libpq (PQ_SONAME) the first time a PostgreSQL journal
 * is opened and looks up the functions journal_pg.c calls (pqload.h).
 * The library stays loaded until the process ends.
 */
#include <dlfcn.h>
#include <stdio.h>

#define PQLOAD_NO_DEFINES
#include "pqload.h"

struct pq_lib pq_lib;

int
pq_load(char *err, size_t errlen)
{
	static int loaded;
	struct pq_lib l;
	const char *why = NULL, *missing = NULL;
	void *h;

	if (loaded)
		return 0;
	if ((h = dlopen(PQ_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		why = dlerror();
#define PQ_SYM(f) \
	if (h && missing == NULL && \
	    (*(void **)&l.f = dlsym(h, #f)) == NULL) \
		missing = #f;
	PQ_FUNCS(PQ_SYM)
#undef PQ_SYM
	if (why || missing) {
		snprintf(err, errlen, "PostgreSQL's client library (%s) "
		    "cannot be loaded (install libpq5): %s%s", PQ_SONAME,
		    missing ? "no function " : "", missing ? missing :
		    why ? why : "unknown reason");
		if (h)
			dlclose(h);
		return -1;
	}
	pq_lib = l;
	loaded = 1;
	return 0;
}
