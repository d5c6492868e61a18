/* json.h - JSON without binary floats: numbers stay the text they were */
#ifndef AGCOD_JSON_H
#define AGCOD_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"

/* parse with every number turned into a string of its exact text */
json_t	*json_parse_exact(const char *, size_t, char *err, size_t errlen);
/* the same text without insignificant white space (numbers untouched) */
int	 json_minify(const char *, size_t, struct buf *);
/* a string member's value, or NULL; or dflt (the one helper for both) */
const char *json_str(json_t *obj, const char *key);
const char *json_str_or(json_t *obj, const char *key, const char *dflt);
/* "a.b.c" lookup */
json_t	*json_path(json_t *obj, const char *path);

/* a writer for request bodies: {"k": "v", "n": 1.00} (the AWS sample's style) */
struct jw {
	struct buf	*b;
	int		 depth;
	int		 count[8];
};

void	jw_begin(struct jw *, struct buf *);
int	jw_open(struct jw *, const char *key);	/* key NULL at the top */
int	jw_close(struct jw *);
int	jw_str(struct jw *, const char *key, const char *val);
int	jw_num(struct jw *, const char *key, const char *text);
int	json_escape(struct buf *, const char *);
int	utf8_valid(const char *);
/*
 * A JSON string of len bytes as they are when they are UTF-8; otherwise
 * each byte that is not shown as the four characters \xNN (reports of what
 * was sent or received, where a stray Latin-1 byte is the finding).
 */
json_t	*json_text(const char *, size_t len);

#endif
