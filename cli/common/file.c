/*
 * Small text files read whole: the configuration file, the aliases file.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"

long cli_read_up_to(int fd, void *buf, size_t cap)
{
    size_t len = 0;

    while (len < cap) {
        ssize_t n = read(fd, (char *)buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    return (long)len;
}

int cli_read_text(int fd, size_t max, char **out, size_t *out_len)
{
    struct stat st;
    size_t len = 0, size;
    char *buf;

    *out = NULL;
    if (fstat(fd, &st) != 0)
        return errno;
    if (!S_ISREG(st.st_mode))
        return EINVAL;
    if ((unsigned long long)st.st_size > max)
        return EFBIG;
    size = (size_t)st.st_size;
    buf = malloc(size + 1);
    if (buf == NULL)
        return ENOMEM;
    {
        long n = cli_read_up_to(fd, buf, size);
        if (n < 0 || (size_t)n < size) {
            int err = n < 0 ? errno : EIO; /* shorter than fstat said */
            free(buf);
            return err;
        }
        len = (size_t)n;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        free(buf);
        return EILSEQ;
    }
    *out = buf;
    *out_len = len;
    return 0;
}
