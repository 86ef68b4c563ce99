/* log_stream.h — a container's logs as a streamed text/plain response. A reader thread takes
 * the engine's stream (docker_logs_read) into a bounded buffer; the HTTP connection is
 * suspended whenever the buffer is empty (costing no HTTP worker thread while a follow
 * waits) and resumed when bytes arrive or the stream ends. */
#ifndef AGYN_API_LOG_STREAM_H
#define AGYN_API_LOG_STREAM_H

#include "api/request.h"
#include "runner/docker_logs.h"

int log_stream_open(struct api_request *req, struct api_response *res, const char *container_id,
                    const struct docker_logs_options *options, struct agyn_error *err);
/* Ends every stream (at shutdown, before the HTTP server stops). */
void log_stream_stop_all(void);

#endif
