/* cascade_delete.c — deleting what may hold other objects (an organization, an agent): the API
 * refuses with a 409 listing what would go; with --cascade (or --yes) the CLI asks for
 * ?cascade=true and prints what went with it. */
#include "cli/cascade_delete.h"
#include "core/row.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "  2 mcps: files, search" per kind of what went, on stdout (table output). */
static void print_removed(const json_t *removed) {
    size_t i;
    json_t *entry;
    json_array_foreach(removed, i, entry) {
        json_int_t count = json_integer_value(json_object_get(entry, "count"));
        const char *kind = row_text(entry, "kind");
        json_t *names = json_object_get(entry, "names");
        printf("  removed %lld %s%s:", (long long)count, kind ? kind : "?", count == 1 ? "" : "s");
        size_t j;
        json_t *name;
        json_array_foreach(names, j, name) {
            printf("%s %s", j ? "," : "", json_string_value(name) ? json_string_value(name) : "?");
        }
        printf("%s\n", (json_int_t)json_array_size(names) < count ? ", ..." : "");
    }
}

int cascade_delete(struct cli *cli, const char *noun, const char *id, const char *path,
                   bool cascade) {
    size_t len = strlen(path) + sizeof "?cascade=true";
    char *url = malloc(len);
    if (!url)
        return CLI_FAIL;
    snprintf(url, len, "%s%s", path, cascade ? "?cascade=true" : "");
    json_t *response = NULL;
    int status = api_call_status(cli, "DELETE", url, NULL, 0, &response);
    free(url);
    if (status >= 300) {
        api_print_error(NULL, status, response);
        if (status == 409 && !cascade)
            fprintf(stderr, "agyn: add --cascade (or --yes) to delete the %s with all of that\n",
                    noun);
    } else if (status >= 0) {
        json_t *removed = json_object_get(response, "removed");
        if (cli->output == OUTPUT_JSON) {
            json_t *done = json_pack("{s:s, s:b, s:o}", "id", id, "deleted", 1, "removed",
                                     removed ? json_incref(removed) : json_array());
            output_json(done);
            json_decref(done);
        } else {
            output_done(cli, noun, id, "deleted");
            print_removed(removed);
        }
    }
    json_decref(response);
    return status >= 0 && status < 300 ? CLI_OK : CLI_FAIL;
}
