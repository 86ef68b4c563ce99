/* docker_auth.h — the X-Registry-Auth header of one engine pull: base64url of
 * {"username","password","serveraddress"}, built for that request and wiped after it. */
#ifndef AGYN_RUNNER_DOCKER_AUTH_H
#define AGYN_RUNNER_DOCKER_AUTH_H

/* A malloc'd "X-Registry-Auth: ..." line, or NULL when username/password is NULL (anonymous)
 * or memory ran out. Free with docker_auth_header_free, which wipes it. */
char *docker_auth_header(const char *username, const char *password, const char *server);
void docker_auth_header_free(char *header);

#endif
