// recvmmsg(2) and sendmmsg(2) for the UDP fast path. Glibc declares them only with
// _GNU_SOURCE, which Swift's Glibc module is not built with, so this target declares
// its own mmsghdr (the same layout) and wraps the calls (as swift-nio's CNIOLinux does).
#ifndef ONEBZ_CUDPBATCH_H
#define ONEBZ_CUDPBATCH_H

#include <sys/socket.h>
#include <sys/types.h>

typedef struct {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} onebz_mmsghdr;

/// recvmmsg(2) with MSG_WAITFORONE: blocks for the first datagram, then takes what is
/// queued, up to `count`. Returns the number received, or -1 with errno.
int onebz_recvmmsg(int fd, onebz_mmsghdr *messages, unsigned int count);

/// sendmmsg(2). Returns the number sent, or -1 with errno (the first message failed).
int onebz_sendmmsg(int fd, onebz_mmsghdr *messages, unsigned int count);

#endif
