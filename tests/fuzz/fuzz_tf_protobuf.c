/* fuzz_tf_protobuf.c — tfplugin6 request messages from Terraform core: the first byte picks the
 * message type; a message that unpacks has its DynamicValues decoded (msgpack or JSON) the way
 * the provider decodes them. */
#include "fuzz_input.h"
#include "terraform/tfval.h"
#include "tfplugin6.pb-c.h"

static const ProtobufCMessageDescriptor *const requests[] = {
    &tfplugin6__validate_provider_config__request__descriptor,
    &tfplugin6__configure_provider__request__descriptor,
    &tfplugin6__validate_resource_config__request__descriptor,
    &tfplugin6__upgrade_resource_state__request__descriptor,
    &tfplugin6__read_resource__request__descriptor,
    &tfplugin6__plan_resource_change__request__descriptor,
    &tfplugin6__apply_resource_change__request__descriptor,
    &tfplugin6__import_resource_state__request__descriptor,
    &tfplugin6__validate_data_resource_config__request__descriptor,
    &tfplugin6__read_data_source__request__descriptor,
    &tfplugin6__dynamic_value__descriptor,
};

static void decode_dynamic_value(const Tfplugin6__DynamicValue *dv) {
    if (!dv)
        return;
    struct tfv *v = NULL;
    if (dv->msgpack.len) {
        v = tfv_from_msgpack(dv->msgpack.data, dv->msgpack.len);
    } else if (dv->json.len) {
        json_t *j = json_loadb((const char *)dv->json.data, dv->json.len, JSON_DECODE_ANY, NULL);
        if (j)
            v = tfv_from_json(j);
        json_decref(j);
    }
    tfv_free(v);
}

/* Decodes every DynamicValue field of message m (one level deep, as the provider reads them). */
static void decode_fields(const ProtobufCMessage *m) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED ||
            f->descriptor != &tfplugin6__dynamic_value__descriptor)
            continue;
        const Tfplugin6__DynamicValue *dv =
            *(const Tfplugin6__DynamicValue *const *)((const char *)m + f->offset);
        decode_dynamic_value(dv);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    uint8_t pick = fuzz_take_byte(&data, &len);
    const ProtobufCMessageDescriptor *d = requests[pick % (sizeof requests / sizeof *requests)];
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, data);
    if (!m)
        return 0;
    if (d == &tfplugin6__dynamic_value__descriptor)
        decode_dynamic_value((const Tfplugin6__DynamicValue *)m);
    else
        decode_fields(m);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
