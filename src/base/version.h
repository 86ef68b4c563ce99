/* version.h — the build's version (CMake's project VERSION) and the git commit it was
 * configured from ("unknown" without git), for agynd --version and agyn version. */
#ifndef AGYN_BASE_VERSION_H
#define AGYN_BASE_VERSION_H

const char *agyn_version(void); /* "0.1.0" */
const char *agyn_commit(void);  /* "1a2b3c4d5e6f" or "unknown" */

#endif
