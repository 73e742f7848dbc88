/* peak_rss: run a command and write its peak resident set size.
 *
 *   peak_rss FILE COMMAND [ARG...]
 *
 * Writes the command's maximum resident set size in KiB (ru_maxrss from
 * wait4) to FILE, then exits as the command did: the same exit status, or
 * the same signal raised again.
 *
 * Why not measure from the test harness directly: a child that Python
 * starts inherits Python's own resident size in ru_maxrss (Linux records
 * the old address space's peak at exec, and after a fork or vfork that is
 * the parent's), and sampling /proc/PID/status misses the peak of a
 * process that lives only a few milliseconds.  Started from this small
 * program, the command's ru_maxrss is its own, or this program's (well
 * under a MiB) if that is larger.  So this file must be built without
 * sanitizers (see CMakeLists.txt).
 *
 * If this program is killed, the command is killed too (PR_SET_PDEATHSIG),
 * so a test harness that kills a hung client leaves nothing behind. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: peak_rss FILE COMMAND [ARG...]\n");
        return 2;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        perror("peak_rss: fork");
        return 2;
    }
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        execvp(argv[2], argv + 2);
        fprintf(stderr, "peak_rss: %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("peak_rss: wait4");
            return 2;
        }
    }
    FILE *f = fopen(argv[1], "w");
    if (!f || fprintf(f, "%ld\n", ru.ru_maxrss) < 0 || fclose(f) != 0) {
        perror(argv[1]);
        return 2;
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);  /* the command already crashed */
        signal(sig, SIG_DFL);
        raise(sig);
        return 128 + sig;
    }
    return WEXITSTATUS(status);
}
