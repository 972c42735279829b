#define _GNU_SOURCE
#include "CUDPBatch.h"

#include <stddef.h>

_Static_assert(sizeof(onebz_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr layout");
_Static_assert(offsetof(onebz_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "mmsghdr layout");

int onebz_recvmmsg(int fd, onebz_mmsghdr *messages, unsigned int count) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, MSG_WAITFORONE, NULL);
}

int onebz_sendmmsg(int fd, onebz_mmsghdr *messages, unsigned int count) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, 0);
}
