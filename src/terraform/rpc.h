/* rpc.h — unary gRPC methods served by the plugin: a method maps the serialized request
 * message to a serialized response message or a gRPC status. */
#ifndef AGYN_TF_RPC_H
#define AGYN_TF_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum grpc_status {
    GRPC_OK = 0,
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
};

struct rpc_result {
    int status;        /* enum grpc_status */
    char message[512]; /* grpc-message when status != OK */
    uint8_t *data;     /* malloc'd response message when status == OK */
    size_t len;
    bool shutdown; /* exit the process once the response is sent */
};

typedef void (*rpc_fn)(const uint8_t *request, size_t len, struct rpc_result *out);

/* The handler for a ":path" like "/tfplugin6.Provider/PlanResourceChange", or NULL. */
rpc_fn rpc_lookup(const char *path);

#endif
