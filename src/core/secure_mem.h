/* secure_mem.h — wiping memory that held a secret (passwords, tokens, keys, decrypted
 * values) before it goes back to the allocator, so no copy lingers in freed heap memory. The
 * one place for it; redaction of text shown to users is core/redact.h. */
#ifndef AGYN_CORE_SECURE_MEM_H
#define AGYN_CORE_SECURE_MEM_H

#include <stddef.h>

#include <jansson.h>

/* Overwrites len bytes with zeros in a way the compiler may not drop. NULL is fine. */
void secure_wipe(void *p, size_t len);
/* Wipes the whole allocation p (its usable size, so the length need not be known) and frees
 * it. NULL is fine. Use for every malloc'd buffer or string that may have held a secret. */
void secure_free(void *p);
/* Overwrites every string value inside a parsed JSON document (jansson keeps them in private
 * buffers) so that freeing it leaves no secret behind. Object keys are left alone. The
 * recursion is as deep as the document, which jansson's parser caps at 2048 levels. */
void secure_json_wipe(json_t *json);
/* secure_json_wipe then json_decref. NULL is fine. */
void secure_json_free(json_t *json);

#endif
