/* output.h - results on stdout: one compact JSON line, or a table */
#ifndef AGCOD_OUTPUT_H
#define AGCOD_OUTPUT_H

#include <jansson.h>

#include "agcod.h"
#include "buf.h"

/* the service's body as it came, minified; or its members as rows */
int	output_body(const struct cmd_ctx *, const struct buf *raw, json_t *exact);
/* rows of (key, value) pairs for people, aligned */
void	output_rows(FILE *, const char *const *kv, size_t n);

#endif
