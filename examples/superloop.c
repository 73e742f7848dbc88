/*
 * superloop.c - several SMTP sessions at once from one poll() loop, no
 * threads: the engine driven the way firmware without an RTOS drives it.
 *
 * Everything the program needs is allocated statically (a fixed table of
 * connections, each with its session, I/O buffer, envelope and body), the
 * sockets are non-blocking, and one loop asks every session's engine what
 * it wants, moves bytes, and sleeps in poll() only when no session can make
 * progress.  Only the public engine API is used (smtpc/engine.h), not the
 * blocking client: on a device the socket calls below become the TCP/IP
 * stack's (see docs/PORTING.md) and poll() becomes the main loop's wait
 * for an event.
 *
 * Usage: example_superloop [options] HOST PORT
 *   -n SESSIONS   connections at once (default 4, at most 16)
 *   -m MAILS      mails per connection (default 3)
 *   -f FROM       sender (default superloop@example.org)
 *   -t TO         recipient (default rcpt@example.com)
 *   -u USER       AUTH as USER, password from $SMTP_PASSWORD (a loopback
 *                 server only: the credentials would cross in clear)
 *   -T SECONDS    give up on a session silent this long (default 30)
 *   -a FILE       mail 1 of session 1 is a MIME message with FILE attached,
 *                 composed by the MIME writer while it goes out (pull
 *                 API: smtpc_mime_read into the connection's own buffer);
 *                 the file is read a block at a time by a callback that
 *                 says SMTPC_MIME_LATER every other call, as a flash log
 *                 that is not ready would, and the loop moves on meanwhile
 *                 (needs SMTPC_WITH_MIME)
 * Every mail carries "X-Superloop: session S mail M" (S, M from 1) and a
 * body of a few lines, one starting with a dot.  Prints one line per
 * session and "superloop: N of M mails accepted, K sessions at once" (K:
 * the most sessions that had a mail in flight at the same moment);
 * exits 0 when every mail was accepted, 1 otherwise, 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smtpc/engine.h"
#if SMTPC_WITH_MIME
#include "smtpc/mime.h"
#endif

#define MAX_SESSIONS 16
#define IO_BUF_SIZE 2048 /* SMTPC_IO_MIN is 1024 with the default options */

#if SMTPC_WITH_MIME
/* The attached file: what the writer's callback keeps. */
typedef struct attach_src {
    FILE *f;
    int waited;                /* SMTPC_MIME_LATER given for this block */
    unsigned char block[1024];
} attach_src;

/* One MIME mail: the message and its parts live as long as the mail. */
typedef struct mime_mail {
    smtpc_mime_writer w;
    smtpc_mime_message m;
    smtpc_mime_part text, file;
    smtpc_mime_addr from, to;
    smtpc_mime_header hdr;
    char subject[64], xsl[40];
    attach_src src;
} mime_mail;
#endif

enum conn_state { C_UNUSED, C_CONNECTING, C_RUNNING, C_DONE };

/* One connection: all its memory, owned by the application. */
typedef struct conn {
    enum conn_state state;
    int fd;
    int index;                 /* 1-based, for the X-Superloop header */
    smtpc_session s;
    smtpc_config cfg;          /* the engine keeps a pointer: lives here */
    unsigned char io[IO_BUF_SIZE];
    smtpc_envelope env;
    smtpc_rcpt rcpt;
    char body[512];            /* the current mail */
    size_t body_len, body_off;
    int mail_open;             /* a mail was begun and has no result yet */
    int mails_begun, mails_ok;
    uint32_t progress;         /* smtpc_session_progress at last_move */
    uint64_t last_move;        /* ms: when progress last changed */
#if SMTPC_WITH_MIME
    int mime;                  /* the current mail comes from the writer */
    mime_mail mm;
#endif
} conn;

static conn conns[MAX_SESSIONS];

static struct {
    const char *host, *port, *from, *to, *user, *password, *attach;
    int sessions, mails;
    uint64_t idle_ms;
} opt = {NULL, NULL, "superloop@example.org", "rcpt@example.com", NULL, NULL,
         NULL, 4, 3, 30000};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        static const unsigned char lo[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0, 0, 0, 1};
        return memcmp(&in6->sin6_addr, lo, 16) == 0;
    }
    return 0;
}

/* Starts a non-blocking connect and prepares the session. */
static int conn_start(conn *c, int index, const struct addrinfo *ai)
{
    int r;

    memset(c, 0, sizeof *c);
    c->index = index;
    c->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (c->fd < 0)
        return -1;
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(c->fd);
        return -1;
    }
    c->cfg.ehlo_name = "superloop.example.org";
    c->cfg.tls = SMTPC_TLS_NONE;
    if (opt.user != NULL) {
        c->cfg.auth = SMTPC_AUTH_AUTO;
        c->cfg.username = opt.user;
        c->cfg.password = opt.password;
    }
    /* Told by the driver, not the user: credentials may cross in clear
     * only to this machine. */
    if (is_loopback(ai->ai_addr))
        c->cfg.options |= SMTPC_OPT_PEER_LOOPBACK;
    r = smtpc_session_init(&c->s, &c->cfg, c->io, sizeof c->io);
    if (r != SMTPC_OK) {
        close(c->fd);
        return r;
    }
    c->state = C_CONNECTING;
    c->last_move = now_ms();
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
        c->state = C_RUNNING;
    else if (errno != EINPROGRESS)
        smtpc_session_abort(&c->s, SMTPC_ERR_CONNECT, SMTPC_PHASE_CONNECT);
    return SMTPC_OK;
}

#if SMTPC_WITH_MIME
/* smtpc_mime_read_fn: the file a block at a time; every block is first
 * "not ready yet", so the writer stops and the loop serves the others. */
static int attach_read(void *ctx, const void **data, size_t *len)
{
    attach_src *a = ctx;
    size_t n;

    if (!a->waited) {
        a->waited = 1;
        return SMTPC_MIME_LATER;
    }
    a->waited = 0;
    n = fread(a->block, 1, sizeof a->block, a->f);
    if (n == 0 && ferror(a->f))
        return SMTPC_ERR_BODY_SOURCE;
    *data = a->block;
    *len = n;
    return SMTPC_OK;
}

/* Mail m of c as a MIME message with opt.attach: SMTPC_OK, or the
 * writer's refusal.  The session is READY: its extensions are known. */
static int mime_prepare(conn *c, int m)
{
    mime_mail *mm = &c->mm;
    unsigned caps = smtpc_session_caps(&c->s)->flags;
    long size;
    const char *base = strrchr(opt.attach, '/');

    memset(mm, 0, sizeof *mm);
    mm->src.f = fopen(opt.attach, "rb");
    if (mm->src.f == NULL || fseek(mm->src.f, 0, SEEK_END) != 0 ||
        (size = ftell(mm->src.f)) < 0 || fseek(mm->src.f, 0, SEEK_SET) != 0)
        return SMTPC_ERR_ARG;
    snprintf(mm->subject, sizeof mm->subject,
             "superloop session %d mail %d, with a file", c->index, m);
    snprintf(mm->xsl, sizeof mm->xsl, "session %d mail %d", c->index, m);
    mm->from.address = opt.from;
    mm->to.address = opt.to;
    mm->hdr.name = "X-Superloop";
    mm->hdr.value = mm->xsl;
    mm->text.data = "The file is attached.\n";
    mm->text.len = strlen(mm->text.data);
    mm->file.filename = base != NULL ? base + 1 : opt.attach;
    if (size > 0) { /* a callback size of 0 would mean "unknown" */
        mm->file.read = attach_read;
        mm->file.ctx = &mm->src;
        mm->file.size = (uint64_t)size;
    }
    mm->m.from = &mm->from;
    mm->m.to = &mm->to;
    mm->m.to_count = 1;
    mm->m.subject = mm->subject;
    mm->m.headers = &mm->hdr;
    mm->m.header_count = 1;
    mm->m.text = &mm->text;
    mm->m.attachments = &mm->file;
    mm->m.attachment_count = 1;
    if (caps & SMTPC_CAP_8BITMIME)
        mm->m.flags |= SMTPC_MIME_8BITMIME;
    if (caps & SMTPC_CAP_SMTPUTF8)
        mm->m.flags |= SMTPC_MIME_SMTPUTF8;
    if (smtpc_mime_init(&mm->w, &mm->m) != SMTPC_OK)
        return SMTPC_ERR_ARG;
    /* Known in advance: the file's size is given. */
    c->env.size = smtpc_mime_size(&mm->w) == SMTPC_MIME_SIZE_UNKNOWN
                      ? 0
                      : smtpc_mime_size(&mm->w);
    c->env.flags = smtpc_mime_mail_flags(&mm->w);
    c->body_len = c->body_off = 0; /* c->body is the read buffer now */
    c->mime = 1;
    return SMTPC_OK;
}

/* The writer's next bytes into c->body when it is empty.  0 when none
 * now: a callback said later, or the message is complete, or it failed
 * (the session is then given up: the engine cannot drop one mail). */
static int mime_fill(conn *c)
{
    if (c->body_off < c->body_len || smtpc_mime_done(&c->mm.w))
        return 0;
    c->body_len = smtpc_mime_read(&c->mm.w, c->body, sizeof c->body);
    c->body_off = 0;
    if (c->body_len == 0 && smtpc_mime_status(&c->mm.w) < 0) {
        printf("session %d: the attachment failed: %s\n", c->index,
               smtpc_status_str(smtpc_mime_status(&c->mm.w)));
        smtpc_session_abort(&c->s, SMTPC_ERR_BODY_SOURCE, SMTPC_PHASE_MESSAGE);
    }
    return c->body_len > 0;
}
#endif

/* The next mail of this connection into c->env and c->body. */
static void mail_prepare(conn *c)
{
    int m = c->mails_begun + 1;
    int n = snprintf(c->body, sizeof c->body,
                     "From: <%s>\r\n"
                     "To: <%s>\r\n"
                     "Subject: superloop session %d mail %d\r\n"
                     "X-Superloop: session %d mail %d\r\n"
                     "\r\n"
                     "Mail %d of session %d, sent from a poll() superloop.\r\n"
                     ".this line starts with a dot\r\n"
                     "last line\r\n",
                     opt.from, opt.to, c->index, m, c->index, m, m, c->index);
    c->body_len = n > 0 && (size_t)n < sizeof c->body ? (size_t)n : 0;
    c->body_off = 0;
    memset(&c->rcpt, 0, sizeof c->rcpt);
    c->rcpt.address = opt.to;
    memset(&c->env, 0, sizeof c->env);
    c->env.from = opt.from;
    c->env.rcpts = &c->rcpt;
    c->env.rcpt_count = 1;
    c->env.size = c->body_len;
#if SMTPC_WITH_MIME
    if (c->mime && c->mm.src.f != NULL)
        fclose(c->mm.src.f);
    c->mime = 0;
    if (opt.attach != NULL && c->index == 1 && m == 1 &&
        mime_prepare(c, m) != SMTPC_OK)
        printf("session %d mail %d: the message was refused\n", c->index, m);
#endif
}

/* The result of the mail that just ended (the session is READY or
 * CLOSED again). */
static void mail_finished(conn *c)
{
    int st = smtpc_mail_status(&c->s);

    c->mail_open = 0;
    if (st == SMTPC_OK) {
        c->mails_ok++;
    } else {
        const smtpc_reply *r = smtpc_last_reply(&c->s);
        printf("session %d mail %d: %s in %s (%u %s)\n", c->index,
               c->mails_begun, smtpc_status_str(st),
               smtpc_phase_str(smtpc_mail_phase(&c->s)), r->code, r->text);
    }
}

/* Moves as much as this connection can move now without waiting: sends
 * and receives until the socket would block, writes body bytes, starts
 * the next mail or QUIT.  poll() only tells the loop when to call again. */
static void conn_step(conn *c)
{
    for (;;) {
        unsigned st = smtpc_session_state(&c->s);
        int moved = 0;

        if (st & SMTPC_CLOSED)
            return;
        if (st & SMTPC_WANT_SEND) {
            size_t len = 0;
            const unsigned char *p = smtpc_send_buf(&c->s, &len);
            if (p != NULL && len > 0) {
                ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
                if (n > 0) {
                    smtpc_send_ack(&c->s, (size_t)n);
                    moved = 1;
                } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                           errno != EINTR) {
                    smtpc_session_abort(&c->s,
                                        errno == EPIPE || errno == ECONNRESET
                                            ? SMTPC_ERR_CLOSED
                                            : SMTPC_ERR_IO,
                                        SMTPC_PHASE_NONE);
                    return;
                }
            }
        }
        if (st & SMTPC_WANT_BODY) {
            int more = 0; /* the writer has bytes to come, not ready yet */
#if SMTPC_WITH_MIME
            if (c->mime) {
                moved |= mime_fill(c);
                more = !smtpc_mime_done(&c->mm.w);
            }
#endif
            if (c->body_off < c->body_len) {
                size_t n = smtpc_body_write(&c->s, c->body + c->body_off,
                                            c->body_len - c->body_off);
                c->body_off += n;
                moved |= n > 0;
            } else if (!more && smtpc_body_end(&c->s) == SMTPC_OK) {
                moved = 1;
            }
        }
        if (st & SMTPC_WANT_TLS) {
            /* This example has no TLS; cfg.tls is NONE, so it never asks. */
            smtpc_session_abort(&c->s, SMTPC_ERR_UNSUPPORTED, SMTPC_PHASE_TLS);
            return;
        }
        if (st & SMTPC_WANT_RECV) {
            size_t room = 0;
            unsigned char *p = smtpc_recv_buf(&c->s, &room);
            if (p != NULL && room > 0) {
                ssize_t n = recv(c->fd, p, room, 0);
                if (n > 0) {
                    smtpc_recv_ack(&c->s, (size_t)n);
                    moved = 1;
                } else if (n == 0) {
                    smtpc_recv_eof(&c->s);
                    moved = 1;
                } else if (errno != EAGAIN && errno != EWOULDBLOCK &&
                           errno != EINTR) {
                    smtpc_session_abort(&c->s,
                                        errno == ECONNRESET ? SMTPC_ERR_CLOSED
                                                            : SMTPC_ERR_IO,
                                        SMTPC_PHASE_NONE);
                    return;
                }
            }
        }
        if (st & SMTPC_READY) {
            if (c->mail_open)
                mail_finished(c);
            if (c->mails_begun < opt.mails) {
                int r;
                mail_prepare(c);
                c->mails_begun++;
                r = smtpc_mail_begin(&c->s, &c->env);
                if (r == SMTPC_OK) {
                    c->mail_open = 1;
                } else {
                    printf("session %d mail %d: not started: %s\n", c->index,
                           c->mails_begun, smtpc_status_str(r));
                }
            } else {
                smtpc_quit(&c->s);
            }
            moved = 1;
        }
        if (!moved)
            return;
    }
}

static void conn_finish(conn *c, int *accepted)
{
    int st = smtpc_session_status(&c->s);

    if (c->mail_open)
        mail_finished(c); /* the session ended inside a mail */
    close(c->fd);
    c->fd = -1;
    c->state = C_DONE;
    *accepted += c->mails_ok;
    printf("session %d: %d of %d mails accepted, session %s%s%s\n", c->index,
           c->mails_ok, opt.mails, smtpc_status_str(st),
           st != SMTPC_OK ? " in " : "",
           st != SMTPC_OK ? smtpc_phase_str(smtpc_session_phase(&c->s)) : "");
}

static int usage(void)
{
    fprintf(stderr, "usage: example_superloop [-n SESSIONS] [-m MAILS] [-f FROM] "
                    "[-t TO] [-u USER] [-T SECONDS] [-a FILE] HOST PORT\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct addrinfo hints, *ai = NULL;
    struct pollfd pfd[MAX_SESSIONS];
    int map[MAX_SESSIONS];
    int i, ch, live, accepted = 0, most_at_once = 0;

    while ((ch = getopt(argc, argv, "n:m:f:t:u:T:a:")) != -1) {
        switch (ch) {
        case 'n': opt.sessions = atoi(optarg); break;
        case 'm': opt.mails = atoi(optarg); break;
        case 'f': opt.from = optarg; break;
        case 't': opt.to = optarg; break;
        case 'u': opt.user = optarg; break;
        case 'T': opt.idle_ms = (uint64_t)atoi(optarg) * 1000u; break;
#if SMTPC_WITH_MIME
        case 'a': opt.attach = optarg; break;
#endif
        default: return usage();
        }
    }
    if (argc - optind != 2 || opt.sessions < 1 || opt.sessions > MAX_SESSIONS ||
        opt.mails < 0 || opt.idle_ms == 0)
        return usage();
    opt.host = argv[optind];
    opt.port = argv[optind + 1];
    if (opt.user != NULL) {
        opt.password = getenv("SMTP_PASSWORD");
        if (opt.password == NULL) {
            fprintf(stderr, "superloop: -u needs $SMTP_PASSWORD\n");
            return 2;
        }
    }

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(opt.host, opt.port, &hints, &ai) != 0 || ai == NULL) {
        fprintf(stderr, "superloop: cannot resolve %s port %s\n", opt.host,
                opt.port);
        return 1;
    }
    for (i = 0; i < opt.sessions; i++) {
        int r = conn_start(&conns[i], i + 1, ai);
        if (r != SMTPC_OK) {
            fprintf(stderr, "superloop: session %d: %s\n", i + 1,
                    r == -1 ? strerror(errno) : smtpc_status_str(r));
            freeaddrinfo(ai);
            return 1;
        }
    }
    freeaddrinfo(ai);

    /* The superloop. */
    for (;;) {
        int n = 0, mails_now = 0;
        uint64_t now = now_ms();

        for (i = 0; i < opt.sessions; i++) {
            conn *c = &conns[i];
            unsigned st;
            short ev = 0;

            if (c->state == C_DONE)
                continue;
            if (c->state == C_RUNNING)
                conn_step(c);
            st = smtpc_session_state(&c->s);
            if (st & SMTPC_CLOSED) {
                conn_finish(c, &accepted);
                continue;
            }
            mails_now += c->mail_open;
            /* A session that has not moved for too long is given up. */
            if (smtpc_session_progress(&c->s) != c->progress) {
                c->progress = smtpc_session_progress(&c->s);
                c->last_move = now;
            } else if (now - c->last_move > opt.idle_ms) {
                smtpc_session_abort(&c->s, SMTPC_ERR_TIMEOUT, SMTPC_PHASE_NONE);
                conn_finish(c, &accepted);
                continue;
            }
            if (c->state == C_CONNECTING)
                ev = POLLOUT;
            else
                ev = (short)(((st & SMTPC_WANT_SEND) ? POLLOUT : 0) |
                             ((st & SMTPC_WANT_RECV) ? POLLIN : 0));
            if (ev == 0)
                continue; /* only body or READY work: done next pass */
            pfd[n].fd = c->fd;
            pfd[n].events = ev;
            pfd[n].revents = 0;
            map[n] = i;
            n++;
        }
        if (mails_now > most_at_once)
            most_at_once = mails_now;
        for (live = 0, i = 0; i < opt.sessions; i++)
            live += conns[i].state != C_DONE;
        if (live == 0)
            break;
        if (n == 0)
            continue;
        if (poll(pfd, (nfds_t)n, 1000) < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        for (i = 0; i < n; i++) {
            conn *c = &conns[map[i]];
            if (c->state == C_CONNECTING && pfd[i].revents) {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
                    err != 0)
                    smtpc_session_abort(&c->s, SMTPC_ERR_CONNECT, SMTPC_PHASE_CONNECT);
                else
                    c->state = C_RUNNING;
            }
        }
    }
    printf("superloop: %d of %d mails accepted, %d sessions at once\n",
           accepted, opt.sessions * opt.mails, most_at_once);
    return accepted == opt.sessions * opt.mails ? 0 : 1;
}
