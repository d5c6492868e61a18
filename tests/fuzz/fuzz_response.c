/* fuzz_response.c - the response classifier, minifier and redaction */
#include <stdint.h>
#include <string.h>

#include "../../src/api.h"
#include "../../src/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 400, 403, 429, 500, 503, 302 };
	struct api_result r;
	struct buf b = BUF_INIT(4 * 1024 * 1024);

	if (size < 1)
		return 0;
	memset(&r, 0, sizeof(r));
	http_response_init(&r.resp);
	r.have_resp = 1;
	r.resp.status = statuses[data[0] % 7];
	if (buf_add(&r.resp.body, data + 1, size - 1) == -1) {
		api_result_free(&r);
		return 0;
	}
	api_classify(&r, HTTP_OK);
	json_minify((const char *)data + 1, size - 1, &b);
	buf_reset(&b);
	report_redact((const char *)data + 1, size - 1, &b);
	buf_free(&b);
	api_result_free(&r);
	return 0;
}
