/*
 * pq.h - libpq's functions as the PostgreSQL store (journal_pg.c) calls
 * them: a table, filled on the first use of a PostgreSQL journal (pq.c),
 * so a process whose journal is SQLite never loads libpq.
 */
#ifndef PQ_H
#define PQ_H

#include <stddef.h>

#include <libpq-fe.h>

/* every libpq function journal_pg.c calls, once: X(name) */
#define PQ_FUNCTIONS(X) \
	X(PQclear) X(PQcmdTuples) X(PQconnectPoll) X(PQconnectStartParams) \
	X(PQconninfo) X(PQconninfoFree) X(PQconninfoParse) X(PQdb) \
	X(PQerrorMessage) X(PQexec) X(PQexecParams) X(PQfinish) X(PQfname) \
	X(PQfreemem) X(PQftype) X(PQgetResult) X(PQgetisnull) X(PQgetvalue) \
	X(PQhost) X(PQnfields) X(PQntuples) X(PQpass) X(PQport) X(PQreset) \
	X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus) \
	X(PQsendQueryParams) X(PQsetNoticeProcessor) X(PQsetSingleRowMode) \
	X(PQsocket) X(PQstatus) X(PQtransactionStatus)

/* the table: each member libpq-fe.h's function of its name */
struct libpq {
#define PQ_MEMBER(f)	__typeof__(f) *f;
	PQ_FUNCTIONS(PQ_MEMBER)
#undef PQ_MEMBER
};

extern struct libpq libpq;

/*
 * Fill the table (libpq.so.5 loaded on the first call, kept loaded): 0,
 * or -1 with why in err (err may be NULL).
 */
int	pq_load(char *err, size_t len);

#endif
