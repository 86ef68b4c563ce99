/* fd_write.h — writing a whole buffer to a file descriptor, through short writes and EINTR. */
#ifndef AGYN_BASE_FD_WRITE_H
#define AGYN_BASE_FD_WRITE_H

#include <stddef.h>

/* 0 when all len bytes were written; -1 with errno set otherwise (a write of 0 bytes counts as
 * a failure, errno EIO, so a full device cannot loop forever). */
int fd_write_all(int fd, const void *data, size_t len);

#endif
