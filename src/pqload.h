/*
 * pqload.h - libpq, loaded (dlopen) when a PostgreSQL journal is opened:
 * a run on the SQLite journal does not pay for loading and relocating it.
 * journal_pg.c includes this instead of <libpq-fe.h> and calls libpq by
 * its usual names, which the defines below turn into the loaded
 * functions.  A libpq function new to journal_pg.c gets a line in
 * PQ_FUNCS and a define here.
 */
#ifndef AGCOD_PQLOAD_H
#define AGCOD_PQLOAD_H

#include <stddef.h>

#include <libpq-fe.h>

/* Debian's libpq5 (the package's Depends) */
#define PQ_SONAME	"libpq.so.5"

#define PQ_FUNCS(X) \
	X(PQclear) X(PQcmdTuples) X(PQconnectPoll) X(PQconnectStartParams) \
	X(PQconninfo) X(PQconninfoFree) X(PQconninfoParse) X(PQdb) \
	X(PQerrorMessage) X(PQexec) X(PQexecParams) X(PQfinish) X(PQfname) \
	X(PQfreemem) X(PQftype) X(PQgetResult) X(PQgetisnull) X(PQgetvalue) \
	X(PQhost) X(PQnfields) X(PQntuples) X(PQpass) X(PQport) X(PQreset) \
	X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus) \
	X(PQsendQueryParams) X(PQsetSingleRowMode) X(PQsocket) X(PQstatus) \
	X(PQtransactionStatus)

struct pq_lib {
#define PQ_MEMBER(f)	__typeof__(f) *f;
	PQ_FUNCS(PQ_MEMBER)
#undef PQ_MEMBER
};
extern struct pq_lib pq_lib;

/* 0 once libpq is loaded (the first call loads it); -1 and the reason */
int	pq_load(char *err, size_t errlen);

#ifndef PQLOAD_NO_DEFINES
#define PQclear			(*pq_lib.PQclear)
#define PQcmdTuples		(*pq_lib.PQcmdTuples)
#define PQconnectPoll		(*pq_lib.PQconnectPoll)
#define PQconnectStartParams	(*pq_lib.PQconnectStartParams)
#define PQconninfo		(*pq_lib.PQconninfo)
#define PQconninfoFree		(*pq_lib.PQconninfoFree)
#define PQconninfoParse		(*pq_lib.PQconninfoParse)
#define PQdb			(*pq_lib.PQdb)
#define PQerrorMessage		(*pq_lib.PQerrorMessage)
#define PQexec			(*pq_lib.PQexec)
#define PQexecParams		(*pq_lib.PQexecParams)
#define PQfinish		(*pq_lib.PQfinish)
#define PQfname			(*pq_lib.PQfname)
#define PQfreemem		(*pq_lib.PQfreemem)
#define PQftype			(*pq_lib.PQftype)
#define PQgetResult		(*pq_lib.PQgetResult)
#define PQgetisnull		(*pq_lib.PQgetisnull)
#define PQgetvalue		(*pq_lib.PQgetvalue)
#define PQhost			(*pq_lib.PQhost)
#define PQnfields		(*pq_lib.PQnfields)
#define PQntuples		(*pq_lib.PQntuples)
#define PQpass			(*pq_lib.PQpass)
#define PQport			(*pq_lib.PQport)
#define PQreset			(*pq_lib.PQreset)
#define PQresultErrorField	(*pq_lib.PQresultErrorField)
#define PQresultErrorMessage	(*pq_lib.PQresultErrorMessage)
#define PQresultStatus		(*pq_lib.PQresultStatus)
#define PQsendQueryParams	(*pq_lib.PQsendQueryParams)
#define PQsetSingleRowMode	(*pq_lib.PQsetSingleRowMode)
#define PQsocket		(*pq_lib.PQsocket)
#define PQstatus		(*pq_lib.PQstatus)
#define PQtransactionStatus	(*pq_lib.PQtransactionStatus)
#endif

#endif
