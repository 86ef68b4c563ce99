/* redact.h — keeping credentials out of messages without editing inside them. Messages are
 * built from parts that never hold a credential; text that comes from a remote (an error a
 * provider or registry sent back) may echo one, so such text is dropped whole and replaced by
 * a fixed description when it contains any credential. Nothing is ever substring-replaced:
 * that garbles messages and, for a short credential, reveals it by the gaps. */
#ifndef AGYN_CORE_REDACT_H
#define AGYN_CORE_REDACT_H

#include <stdbool.h>
#include <stddef.h>

/* True when text contains one of the credentials (a NULL-terminated list; NULL or empty
 * entries are skipped). */
bool redact_text_reveals(const char *text, const char *const *credentials);

/* When text (a NUL-terminated buffer of size bytes) reveals a credential, wipes it and writes
 * replacement instead; returns true then. */
bool redact_withhold(char *text, size_t size, const char *const *credentials,
                     const char *replacement);

#endif
