/*
 * fuzz/fuzz_tiny.c - differential target: the tiny engine
 * (src/engine/tiny.c, built with -DSMTPC_PROFILE_MINIMAL=1) against the
 * full engine built with the same features (-DSMTPC_PROFILE_MINIMAL=1
 * -DSMTPC_TINY=0).  The tiny engine's contract is to behave exactly like
 * the full one for every sequence of calls and server bytes; this target
 * runs both on the same sequence and aborts at the first difference.
 *
 * Build (fuzz/run.sh does it): each side's engine sources (every .c file
 * of src/engine) are compiled with its flags and linked into one
 * relocatable object whose defined smtpc_* symbols are renamed to
 * tiny_smtpc_* or full_smtpc_* (objcopy --redefine-syms), so both engines
 * live in one binary.  This file is compiled with the full-minimal flags
 * so that engine.h's smtpc_session has the same layout as in both engines
 * (SMTPC_PIPELINE_MAX 4).
 *
 * Input: a header, then a program of one-byte operations (low nibble: the
 * operation, high nibble: its parameter p), each perhaps followed by
 * argument bytes:
 *
 *   header  h0: tls (bits 0-2, invalid values too), auth (bits 3-5; 5 reads
 *               a raw auth byte next), strings (bits 6-7: 0 defaults,
 *               1 other fixed values, 2 all six from the input, 3 user and
 *               password from the input);
 *           h1: options (bits 0-5, PEER_LOOPBACK inverted), bit 6 unknown
 *               option bits, bit 7 port 25;
 *           h2: I/O buffer size (0: SMTPC_IO_MIN, 1: one byte short,
 *               2: NULL buffer, 3: SMTPC_IO_MIN + 1, n: IO_MIN + 16 (n-4));
 *           strings from the input: a length byte, then the bytes
 *           (0xff NULL, 0xfe a long string of 32k+1 bytes, k the next byte,
 *           0xfd one holding CR LF, 0xfc one holding ^A).
 *   0  server: a canned reply (next byte: which), then deliver (p)
 *   1  server: raw bytes (next byte: length, 0xff: up to 4 KiB), deliver
 *   2  deliver the server bytes not yet taken (p)
 *        delivery p: bit 0 recv_buf/recv_ack instead of smtpc_feed;
 *        bits 1-3 piece size (all, 1, 2, 3, 7, 16, 64, 511)
 *   3  send: acknowledge k pending bytes (p 0: all; 1: k = next byte;
 *        15: all, acknowledged as more than pending; else k = p - 1)
 *   4  send everything pending
 *   5  smtpc_mail_begin, envelope from the input (see envelope_input)
 *   6  smtpc_mail_begin, a simple envelope (p: recipients, flags)
 *   7  smtpc_body_write of input bytes (next byte: length; p bit 0: offer
 *        what the last write did not take first, as a driver does)
 *   8  smtpc_body_write of a fixed pattern (p: which; dots, bare CR/LF,
 *        CRLF split, long runs that fill the send area)
 *   9  smtpc_body_end      10 smtpc_quit        11 smtpc_tls_done
 *   12 smtpc_recv_eof      13 smtpc_session_abort(status p)
 *   14 whatever the state asks for (send, body, mail, quit, a reply)
 *   15 the server answers what the engine awaits (p picks good or bad)
 *
 * Compared after every operation (fails with a message naming the field
 * and both values, and the operations so far): the call's return value,
 * smtpc_session_state, the pending send bytes (smtpc_send_buf: length and
 * content, per call), the secret range, the receive room, status and
 * phase of session and mail, accepted count, wait phase, auth mechanism,
 * secure flag, the last reply (code, enhanced code, text), the
 * capabilities and every recipient's outcome.  Not compared: progress
 * counters and private members.  FT_TRACE=1 in the environment prints
 * each operation as it runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpc/engine.h"

#if !SMTPC_PROFILE_MINIMAL || SMTPC_TINY || SMTPC_PIPELINE_MAX != 4
#error "build with -DSMTPC_PROFILE_MINIMAL=1 -DSMTPC_TINY=0 (fuzz/run.sh)"
#endif

/* ---- the two engines ---- */

/* Every engine.h function that takes a session. */
#define FT_FUNCS(X)                                                          \
    X(int, session_init,                                                     \
      (smtpc_session * s, const smtpc_config *cfg, void *buf, size_t n))    \
    X(unsigned, session_state, (const smtpc_session *s))                     \
    X(int, session_status, (const smtpc_session *s))                         \
    X(int, session_phase, (const smtpc_session *s))                          \
    X(const smtpc_reply *, last_reply, (const smtpc_session *s))             \
    X(const smtpc_caps *, session_caps, (const smtpc_session *s))            \
    X(int, session_auth_mech, (const smtpc_session *s))                      \
    X(int, session_secure, (const smtpc_session *s))                         \
    X(int, session_wait_phase, (const smtpc_session *s))                     \
    X(const unsigned char *, send_buf, (smtpc_session * s, size_t *len))     \
    X(void, send_ack, (smtpc_session * s, size_t n))                         \
    X(void, send_secret_range,                                               \
      (const smtpc_session *s, size_t *start, size_t *end))                  \
    X(unsigned char *, recv_buf, (smtpc_session * s, size_t *len))           \
    X(void, recv_ack, (smtpc_session * s, size_t n))                         \
    X(size_t, feed, (smtpc_session * s, const void *data, size_t len))       \
    X(void, recv_eof, (smtpc_session * s))                                   \
    X(void, session_abort, (smtpc_session * s, int status))                  \
    X(int, tls_done, (smtpc_session * s))                                    \
    X(int, mail_begin, (smtpc_session * s, smtpc_envelope *env))             \
    X(size_t, body_write, (smtpc_session * s, const void *data, size_t len)) \
    X(int, body_end, (smtpc_session * s))                                    \
    X(int, mail_status, (const smtpc_session *s))                            \
    X(int, mail_phase, (const smtpc_session *s))                             \
    X(size_t, mail_accepted, (const smtpc_session *s))                       \
    X(int, quit, (smtpc_session * s))

#define FT_DECLARE(ret, name, args)                                          \
    ret tiny_smtpc_##name args;                                              \
    ret full_smtpc_##name args;
FT_FUNCS(FT_DECLARE)

typedef struct ft_api {
#define FT_MEMBER(ret, name, args) ret(*name) args;
    FT_FUNCS(FT_MEMBER)
} ft_api;

static const ft_api api_tiny = {
#define FT_TINY(ret, name, args) tiny_smtpc_##name,
    FT_FUNCS(FT_TINY)};
static const ft_api api_full = {
#define FT_FULL(ret, name, args) full_smtpc_##name,
    FT_FUNCS(FT_FULL)};

/* ---- state of one run ---- */

#define RCPT_MAX 24
#define SERVER_MAX (64u * 1024u)
#define OPS_MAX 4096
#define ALLOCS_MAX 512

typedef struct side {
    const ft_api *e;
    smtpc_session s;
    unsigned char *buf;
    smtpc_envelope env[2];
    smtpc_rcpt rcpts[2][RCPT_MAX];
} side;

static side T, F; /* tiny, full */
static smtpc_config cfg;
static size_t buf_len;

/* The envelope slot of the last mail started (the other one is free to be
 * rewritten: an envelope in use must stay unchanged). */
static int env_running;
static int mails_begun;

/* Server bytes not yet taken by the engines. */
static unsigned char server[SERVER_MAX];
static size_t server_len;

/* Everything both engines sent (they are compared per call, so one copy). */
static unsigned char sent[1u << 20];
static size_t sent_len, sent_total;

/* What the last body_write did not take, for op 7's "offer it again". */
static const unsigned char *body_rest;
static size_t body_rest_len;

/* Strings made for this input, freed at its end. */
static void *allocs[ALLOCS_MAX];
static size_t alloc_count;

/* The operations run so far, printed when the engines differ. */
typedef struct op_rec {
    uint8_t op, p;
    uint16_t arg;
    uint32_t len;
} op_rec;
static op_rec ops[OPS_MAX];
static size_t op_count;
static int trace;
static const char *failing_what;

/* ---- reporting ---- */

static const char *const op_names[16] = {
    "server canned", "server raw", "deliver", "send k", "send all",
    "mail_begin input", "mail_begin simple", "body_write input",
    "body_write pattern", "body_end", "quit", "tls_done", "recv_eof",
    "abort", "natural step", "server auto"};

static void print_escaped(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned c = p[i];
        if (c == '\r')
            fputs("\\r", stderr);
        else if (c == '\n')
            fputs("\\n\n    ", stderr);
        else if (c < 0x20 || c >= 0x7f || c == '\\')
            fprintf(stderr, "\\x%02x", c);
        else
            fputc((int)c, stderr);
    }
}

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 1, 2)))
#endif
static void ft_fail(const char *fmt, ...);

static void ft_fail(const char *fmt, ...)
{
    va_list ap;
    size_t i, from;

    fputs("smtpc fuzz_tiny: tiny and full engines differ: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (failing_what != NULL)
        fprintf(stderr, "  after: %s\n", failing_what);
    fprintf(stderr, "  operations (%zu):\n", op_count);
    from = op_count > 60 ? op_count - 60 : 0;
    for (i = from; i < op_count && i < OPS_MAX; i++)
        fprintf(stderr, "    #%zu op %u (%s) p=%u arg=%u len=%u\n", i,
                ops[i].op, op_names[ops[i].op & 15], ops[i].p, ops[i].arg,
                ops[i].len);
    fprintf(stderr, "  client bytes sent so far (%zu, last 400):\n    ",
            sent_total);
    from = sent_len > 400 ? sent_len - 400 : 0;
    print_escaped(sent + from, sent_len - from);
    fputc('\n', stderr);
    abort();
}

static void cmp_i(const char *what, long long t, long long f)
{
    if (t != f)
        ft_fail("%s: tiny %lld, full %lld", what, t, f);
}

static void cmp_text(const char *what, const char *t, const char *f,
                     size_t cap)
{
    if (memchr(t, '\0', cap) == NULL)
        ft_fail("%s: tiny's is not NUL-terminated", what);
    if (memchr(f, '\0', cap) == NULL)
        ft_fail("%s: full's is not NUL-terminated", what);
    if (strcmp(t, f) != 0)
        ft_fail("%s: tiny \"%s\", full \"%s\"", what, t, f);
}

/* ---- comparing everything observable ---- */

static void compare_rcpts(void)
{
    int k;
    size_t i;
    char what[64];

    for (k = 0; k < 2; k++) {
        for (i = 0; i < RCPT_MAX; i++) {
            const smtpc_rcpt *t = &T.rcpts[k][i], *f = &F.rcpts[k][i];
            snprintf(what, sizeof what, "envelope %d recipient %zu", k, i);
            if (t->status != f->status || t->code != f->code ||
                memcmp(t->enh, f->enh, sizeof t->enh) != 0)
                ft_fail("%s: tiny status %d code %u enh %u.%u.%u, full "
                        "status %d code %u enh %u.%u.%u",
                        what, t->status, t->code, t->enh[0], t->enh[1],
                        t->enh[2], f->status, f->code, f->enh[0], f->enh[1],
                        f->enh[2]);
            cmp_text(what, t->text, f->text, sizeof t->text);
        }
    }
}

static void compare_all(void)
{
    const smtpc_reply *rt = T.e->last_reply(&T.s);
    const smtpc_reply *rf = F.e->last_reply(&F.s);
    const smtpc_caps *ct = T.e->session_caps(&T.s);
    const smtpc_caps *cf = F.e->session_caps(&F.s);
    size_t lt = 0, lf = 0, st0, st1, sf0, sf1;
    const unsigned char *pt, *pf;
    unsigned char *qt, *qf;

    cmp_i("smtpc_session_state", T.e->session_state(&T.s),
          F.e->session_state(&F.s));
    cmp_i("smtpc_session_status", T.e->session_status(&T.s),
          F.e->session_status(&F.s));
    cmp_i("smtpc_session_phase", T.e->session_phase(&T.s),
          F.e->session_phase(&F.s));
    cmp_i("smtpc_mail_status", T.e->mail_status(&T.s),
          F.e->mail_status(&F.s));
    cmp_i("smtpc_mail_phase", T.e->mail_phase(&T.s), F.e->mail_phase(&F.s));
    cmp_i("smtpc_mail_accepted", (long long)T.e->mail_accepted(&T.s),
          (long long)F.e->mail_accepted(&F.s));
    cmp_i("smtpc_session_wait_phase", T.e->session_wait_phase(&T.s),
          F.e->session_wait_phase(&F.s));
    cmp_i("smtpc_session_auth_mech", T.e->session_auth_mech(&T.s),
          F.e->session_auth_mech(&F.s));
    cmp_i("smtpc_session_secure", T.e->session_secure(&T.s),
          F.e->session_secure(&F.s));
    cmp_i("last reply code", rt->code, rf->code);
    cmp_i("last reply enh[0]", rt->enh[0], rf->enh[0]);
    cmp_i("last reply enh[1]", rt->enh[1], rf->enh[1]);
    cmp_i("last reply enh[2]", rt->enh[2], rf->enh[2]);
    cmp_text("last reply text", rt->text, rf->text, sizeof rt->text);
    cmp_i("caps flags", ct->flags, cf->flags);
    cmp_i("caps auth", ct->auth, cf->auth);
    cmp_i("caps size_max", (long long)ct->size_max, (long long)cf->size_max);
    compare_rcpts();

    /* The pending bytes, per call: they have matched so far, so the
     * streams sent are equal (not only their concatenation). */
    pt = T.e->send_buf(&T.s, &lt);
    pf = F.e->send_buf(&F.s, &lf);
    if (lt != lf || (lt > 0 && memcmp(pt, pf, lt) != 0) ||
        (pt == NULL) != (pf == NULL)) {
        fprintf(stderr, "  tiny pending (%zu):\n    ", lt);
        print_escaped(pt ? pt : (const unsigned char *)"", lt);
        fprintf(stderr, "\n  full pending (%zu):\n    ", lf);
        print_escaped(pf ? pf : (const unsigned char *)"", lf);
        fputc('\n', stderr);
        ft_fail("pending send bytes (smtpc_send_buf): tiny %zu, full %zu "
                "bytes%s", lt, lf, lt == lf ? ", contents differ" : "");
    }
    T.e->send_secret_range(&T.s, &st0, &st1);
    F.e->send_secret_range(&F.s, &sf0, &sf1);
    if (st0 != st1 || sf0 != sf1) {
        /* As absolute offsets in the stream (equal so far, see above). */
        cmp_i("secret range start", (long long)(sent_total + st0),
              (long long)(sent_total + sf0));
        cmp_i("secret range end", (long long)(sent_total + st1),
              (long long)(sent_total + sf1));
    }
    qt = T.e->recv_buf(&T.s, &lt);
    qf = F.e->recv_buf(&F.s, &lf);
    cmp_i("smtpc_recv_buf room", (long long)lt, (long long)lf);
    cmp_i("smtpc_recv_buf NULL", qt == NULL, qf == NULL);
}

static unsigned state(void)
{
    return T.e->session_state(&T.s); /* equal on both: compared */
}

static int both_closed(void)
{
    return (state() & SMTPC_CLOSED) != 0;
}

/* ---- input ---- */

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static unsigned take(input *in)
{
    unsigned b;

    if (in->n == 0)
        return 0;
    b = in->p[0];
    in->p++;
    in->n--;
    return b;
}

static char *keep(size_t n)
{
    char *p;

    if (alloc_count >= ALLOCS_MAX)
        return NULL;
    p = malloc(n);
    if (p == NULL)
        abort();
    allocs[alloc_count++] = p;
    return p;
}

/* A string of exactly its length (so ASan sees any read past its NUL). */
static const char *str_copy(const char *s, size_t len)
{
    char *p = keep(len + 1);

    if (p == NULL)
        return "x";
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* A string from the input: see the header comment. */
static const char *str_input(input *in, const char *dflt)
{
    unsigned len;

    if (in->n == 0)
        return dflt;
    len = take(in);
    switch (len) {
    case 0xff:
        return NULL;
    case 0xfe: {
        size_t n = (size_t)take(in) * 32 + 1, i;
        char *p = keep(n + 1);
        if (p == NULL)
            return "x";
        for (i = 0; i < n; i++)
            p[i] = (char)('A' + i % 26);
        p[n] = '\0';
        return p;
    }
    case 0xfd:
        return "a\r\nb";
    case 0xfc:
        return "u\001v";
    default:
        if (len > in->n)
            len = (unsigned)in->n;
        {
            const char *s = str_copy((const char *)in->p, len);
            in->p += len;
            in->n -= len;
            return s;
        }
    }
}

static void config_input(input *in)
{
    static const unsigned tls[8] = {
        SMTPC_TLS_NONE,     SMTPC_TLS_IMPLICIT, SMTPC_TLS_OPPORTUNISTIC,
        SMTPC_TLS_NONE,     SMTPC_TLS_IMPLICIT, SMTPC_TLS_STARTTLS,
        4u,                 0x80000000u};
    static const unsigned auth[8] = {
        SMTPC_AUTH_NONE,  SMTPC_AUTH_AUTO,  SMTPC_AUTH_PLAIN,
        SMTPC_AUTH_LOGIN, SMTPC_AUTH_PLAIN, 0 /* raw byte */,
        SMTPC_AUTH_AUTO,  SMTPC_AUTH_LOGIN};
    unsigned h0 = take(in), h1 = take(in), h2 = take(in);

    memset(&cfg, 0, sizeof cfg);
    cfg.tls = tls[h0 & 7];
    cfg.auth = auth[(h0 >> 3) & 7];
    if (((h0 >> 3) & 7) == 5) {
        unsigned b = take(in);
        cfg.auth = b == 0xfe ? 0x100u : b;
    }
    cfg.options = (h1 & 0x3fu) ^ SMTPC_OPT_PEER_LOOPBACK;
    if (h1 & 0x40)
        cfg.options |= 0x100u | 0x80000000u;
    cfg.port = (h1 & 0x80) ? 25 : 0;
    switch (h0 >> 6) {
    case 0:
        cfg.username = "user";
        cfg.password = "secret";
        break;
    case 1:
        cfg.ehlo_name = "client.example";
        cfg.username = "user@x.test";
        cfg.password = "p\x80ss w\xc3\xb6rd";
        cfg.authzid = "admin";
        cfg.host = "mx.test";
        break;
    case 2:
        cfg.ehlo_name = str_input(in, NULL);
        cfg.username = str_input(in, "user");
        cfg.password = str_input(in, "secret");
        cfg.authzid = str_input(in, NULL);
        cfg.token = str_input(in, NULL);
        cfg.host = str_input(in, NULL);
        break;
    default:
        cfg.username = str_input(in, "user");
        cfg.password = str_input(in, "secret");
        break;
    }
    switch (h2) {
    case 0:
        buf_len = SMTPC_IO_MIN;
        break;
    case 1:
        buf_len = SMTPC_IO_MIN - 1;
        break;
    case 2:
        buf_len = 0; /* NULL buffer */
        break;
    case 3:
        buf_len = SMTPC_IO_MIN + 1;
        break;
    default:
        buf_len = SMTPC_IO_MIN + (size_t)(h2 - 4) * 16;
        break;
    }
}

/* ---- envelopes ---- */

static const char *const rcpt_names[] = {"a@x.test", "b@x.test",
                                         "c@y.test", "d@y.test"};

/* Both sides' envelope in slot k, from the same description. */
static void envelope_set(int k, int env_null, int rcpts_null,
                         const char *from, size_t count, unsigned flags,
                         uint64_t size, const char *envid,
                         const char *const *addrs, const unsigned *notify,
                         const char *const *orcpt)
{
    side *sd[2] = {&T, &F};
    int j;
    size_t i;

    (void)env_null;
    for (j = 0; j < 2; j++) {
        smtpc_envelope *e = &sd[j]->env[k];
        memset(e, 0, sizeof *e);
        memset(sd[j]->rcpts[k], 0, sizeof sd[j]->rcpts[k]);
        e->from = from;
        e->rcpts = rcpts_null ? NULL : sd[j]->rcpts[k];
        e->rcpt_count = count;
        e->flags = flags;
        e->size = size;
        e->envid = envid;
        for (i = 0; i < count && i < RCPT_MAX; i++) {
            sd[j]->rcpts[k][i].address = addrs[i];
            sd[j]->rcpts[k][i].notify = notify ? notify[i] : 0;
            sd[j]->rcpts[k][i].orcpt = orcpt ? orcpt[i] : NULL;
        }
    }
}

static const char *address_kind(unsigned kind, input *in, size_t i)
{
    switch (kind & 7) {
    case 3:
        return NULL;
    case 4:
        return "";
    case 5:
        return str_input(in, "z@x.test");
    case 6:
        return "s\xc3\xa9@x.test";
    case 7:
        return (i & 1) ? "a b@x.test" : "<x@x.test>";
    default:
        return "s@x.test";
    }
}

/* Op 5: byte a: recipients (bits 0-2: 1 1 2 3 4 5 8 0), bit 3 rcpts NULL
 * (with bit 4 also: env NULL), bits 5-7 the sender's kind (valid, NULL,
 * "", from the input, 8-bit, invalid); byte b: flags (bit 6: an unknown
 * flag bit), bit 7: byte c follows: bit 0 SIZE 1000, bit 1 SIZE 2^33,
 * bit 2 ENVID, bit 3 a NOTIFY, bit 4 an ORCPT, bits 5-7 one recipient
 * NULL, invalid, 8-bit, or from the input. */
static int envelope_input(input *in, int k)
{
    static const size_t counts[8] = {1, 1, 2, 3, 4, 5, 8, 0};
    static unsigned notify[RCPT_MAX];
    static const char *orcpt[RCPT_MAX];
    const char *addrs[RCPT_MAX];
    unsigned a = take(in), b = take(in), c = 0, flags = 0;
    size_t count = counts[a & 7], i, pick;
    const char *from = address_kind(a >> 5, in, 0);
    uint64_t size = 0;
    const char *envid = NULL;

    if (b & 0x80)
        c = take(in);
    flags = b & 0x3f;
    if (b & 0x40)
        flags |= 1u << 7;
    for (i = 0; i < RCPT_MAX; i++) {
        addrs[i] = rcpt_names[i & 3];
        notify[i] = 0;
        orcpt[i] = NULL;
    }
    pick = (size_t)(c >> 5) % (count ? count : 1);
    if (c & 1)
        size = 1000;
    if (c & 2)
        size = 1ull << 33;
    if (c & 4)
        envid = "id+1=x";
    if (c & 8)
        notify[pick] = SMTPC_NOTIFY_SUCCESS | SMTPC_NOTIFY_FAILURE;
    if (c & 16)
        orcpt[pick] = "rfc822;o@x.test";
    switch (c >> 5) {
    case 0: case 1: case 2:
        break;
    case 3:
        addrs[pick] = NULL;
        break;
    case 4:
        addrs[pick] = "bad\r\naddr";
        break;
    case 5:
        addrs[pick] = "r\xe2\x82\xac@x.test";
        break;
    default:
        addrs[pick] = str_input(in, "q@x.test");
        break;
    }
    envelope_set(k, (a & 0x18) == 0x18, (a & 8) != 0, from, count, flags,
                 size, envid, addrs, notify, orcpt);
    return (a & 0x18) == 0x18; /* env NULL */
}

/* Op 6: p bits 0-1 recipients - 1, bit 2 8BITMIME, bit 3 null sender. */
static void envelope_simple(unsigned p, int k)
{
    const char *addrs[RCPT_MAX];
    size_t i;

    for (i = 0; i < RCPT_MAX; i++)
        addrs[i] = rcpt_names[i & 3];
    envelope_set(k, 0, 0, (p & 8) ? "" : "s@x.test", 1 + (p & 3),
                 (p & 4) ? SMTPC_MAIL_8BITMIME : 0, 0, NULL, addrs, NULL,
                 NULL);
}

static void mail_begin(int k, int env_null)
{
    int rt = T.e->mail_begin(&T.s, env_null ? NULL : &T.env[k]);
    int rf = F.e->mail_begin(&F.s, env_null ? NULL : &F.env[k]);

    cmp_i("smtpc_mail_begin", rt, rf);
    if (rt == SMTPC_OK) {
        env_running = k;
        mails_begun++;
        body_rest_len = 0;
    }
    compare_all();
}

/* ---- sending and receiving ---- */

static void record_sent(const unsigned char *p, size_t n)
{
    if (n > 0 && n <= sizeof sent - sent_len) {
        memcpy(sent + sent_len, p, n);
        sent_len += n;
    }
    sent_total += n;
}

/* Acknowledges k pending bytes (all when mode is 1) on both sides; mode 2
 * acknowledges k whatever is pending (a caller's error both engines
 * clamp). */
static size_t send_k(size_t k, int mode)
{
    size_t lt = 0, lf = 0, ack;
    const unsigned char *p = T.e->send_buf(&T.s, &lt);

    F.e->send_buf(&F.s, &lf);
    cmp_i("smtpc_send_buf length", (long long)lt, (long long)lf);
    if (mode == 1 || k > lt)
        k = lt;
    ack = mode == 2 ? lt + 7 : k;
    record_sent(p, k);
    T.e->send_ack(&T.s, ack);
    F.e->send_ack(&F.s, ack);
    compare_all();
    return k;
}

static void send_all(void)
{
    int guard = 0;

    while (send_k(0, 1) > 0 && ++guard < 1000)
        ;
}

static void server_add(const void *p, size_t n)
{
    if (n > SERVER_MAX - server_len)
        n = SERVER_MAX - server_len;
    memcpy(server + server_len, p, n);
    server_len += n;
}

/* Hands the bytes not yet taken to both engines, in pieces. */
static void deliver(unsigned p)
{
    static const size_t pieces[8] = {SERVER_MAX, 1, 2, 3, 7, 16, 64, 511};
    size_t piece = pieces[(p >> 1) & 7], done = 0;
    int direct = p & 1;

    while (done < server_len && !both_closed()) {
        size_t n = server_len - done, took;
        if (n > piece)
            n = piece;
        if (direct) {
            size_t rt = 0, rf = 0;
            unsigned char *dt = T.e->recv_buf(&T.s, &rt);
            unsigned char *df = F.e->recv_buf(&F.s, &rf);
            cmp_i("smtpc_recv_buf room", (long long)rt, (long long)rf);
            cmp_i("smtpc_recv_buf NULL", dt == NULL, df == NULL);
            if (dt == NULL || rt == 0)
                break;
            if (n > rt)
                n = rt;
            memcpy(dt, server + done, n);
            memcpy(df, server + done, n);
            T.e->recv_ack(&T.s, n);
            F.e->recv_ack(&F.s, n);
            took = n;
        } else {
            took = T.e->feed(&T.s, server + done, n);
            cmp_i("smtpc_feed", (long long)took,
                  (long long)F.e->feed(&F.s, server + done, n));
        }
        compare_all();
        done += took;
        if (took == 0)
            break; /* the engine must send first */
    }
    memmove(server, server + done, server_len - done);
    server_len -= done;
}

/* ---- server replies ---- */

static const char long_text[] =
    "250 2.0.0 "
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
    "\r\n";

static const char *const canned[] = {
    "220 mx.test ESMTP ready\r\n",
    "220-mx.test hello\r\n220 2.0.0 second line\r\n",
    "250 mx.test\r\n",
    "250-mx.test\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n"
    "250-SIZE 1000\r\n250-8BITMIME\r\n250 PIPELINING\r\n",
    "250-mx.test\r\n250-AUTH=LOGIN\r\n250 ENHANCEDSTATUSCODES\r\n",
    "250-mx.test\r\n250-AUTH LOGIN\r\n250 STARTTLS\r\n",
    "250-mx.test\r\n250 AUTH PLAIN\r\n",
    "250-mx.test\r\n250-AUTH CRAM-MD5 XOAUTH2 OAUTHBEARER\r\n250-CHUNKING\r\n"
    "250-SMTPUTF8\r\n250-DSN\r\n250 BINARYMIME\r\n",
    "334 \r\n",
    "334 VXNlcm5hbWU6\r\n",
    "334 UGFzc3dvcmQ6\r\n",
    "235 2.7.0 Authentication successful\r\n",
    "535 5.7.8 Authentication credentials invalid\r\n",
    "504 5.5.4 Unrecognized authentication type\r\n",
    "250 2.1.0 Ok\r\n",
    "250 2.1.5 Ok\r\n",
    "251 2.1.5 will forward\r\n",
    "550 5.1.1 <b@x.test>: Recipient address rejected\r\n",
    "450 4.2.0 greylisted\r\n",
    "354 End data with <CR><LF>.<CR><LF>\r\n",
    "250 2.0.0 Ok: queued as ABC\r\n",
    "221 2.0.0 Bye\r\n",
    "421 4.3.0 shutting down\r\n",
    "554 5.7.1 no\r\n",
    "500 5.5.1 unrecognized\r\n",
    "502 5.5.2 not implemented\r\n",
    "220 2.0.0 Ready to start TLS\r\n",
    "250-first\r\n251 mismatch\r\n",
    "garbage\r\n",
    long_text,
    "250-mx.test\n250 AUTH LOGIN PLAIN\n",
    "552 5.3.4 message too big\r\n",
    "235 ok\r\n250 extra\r\n",
    "250 ok\r\n250 ok\r\n",
    "250 2.1.0\r\n",
    "250 9.9.9 weird class\r\n",
    "\r\n",
    "550-5.1.1 first\r\n550 5.1.1 second\r\n",
    "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n",
    "200 odd\r\n",
    "300 odd\r\n",
    "599 odd\r\n",
    "250-mx.test\r\n250-auth plain\r\n250 enhancedstatuscodes\r\n",
    "250-mx\r\n250-AUTH=PLAIN LOGIN XYZ\r\n250 AUTH LOGIN\r\n",
    "250 AUTH PLAIN\r\n",
    "250-mx\r\n250-AUTHX PLAIN\r\n250-AUTH\r\n250 AUTH  PLAIN   LOGIN \r\n",
    "250-mx\r\n250-AUTH= PLAIN\r\n250 ENHANCEDSTATUSCODES=x\r\n",
    "451 4.3.0 local error\r\n",
    "250", /* no line end: the rest comes later */
    "-x\r\n",
    " 2.0.0 done\r\n",
    "250-2.1.0 one\r\n250-2.1.0 two\r\n250 2.1.0 three\r\n",
    "354-x\r\n354 y\r\n",
    "421-4.7.0 closing\r\n421 4.7.0 now\r\n",
    "250-\xff\x01\x7f\r\n250 \x80text\r\n",
    "235\r\n",
    "334\r\n",
    "250 AUTH PLAIN\r\n\r\n",
    "\n",
    "250\n",
    "5500 not a code\r\n",
    "25x nope\r\n",
};
#define CANNED_COUNT (sizeof canned / sizeof canned[0])

static void server_canned(unsigned i)
{
    static char lines[70 * 9];

    if (i < CANNED_COUNT) {
        server_add(canned[i], strlen(canned[i]));
    } else if (i == CANNED_COUNT) {
        /* 65 lines: one more than SMTPC_REPLY_LINES_MAX */
        size_t n = 0, k;
        for (k = 0; k < 64; k++) {
            memcpy(lines + n, "250-CAP\r\n", 9);
            n += 9;
        }
        memcpy(lines + n, "250 END\r\n", 9);
        server_add(lines, n + 9);
    } else if (i == CANNED_COUNT + 1) {
        /* 64 lines exactly */
        size_t n = 0, k;
        for (k = 0; k < 63; k++) {
            memcpy(lines + n, "250-CAP\r\n", 9);
            n += 9;
        }
        memcpy(lines + n, "250 END\r\n", 9);
        server_add(lines, n + 9);
    } else if (i == CANNED_COUNT + 2) {
        /* an over-long line (no LF within SMTPC_LINE_MAX) */
        static char big[600];
        memset(big, 'x', sizeof big);
        memcpy(big, "250 ", 4);
        server_add(big, sizeof big);
    } else {
        /* a line of exactly SMTPC_LINE_MAX bytes, CRLF included, or one
         * more */
        static char edge[SMTPC_LINE_MAX + 1];
        size_t n = SMTPC_LINE_MAX + (i & 1);
        memset(edge, 'y', n);
        memcpy(edge, "250 ", 4);
        edge[n - 2] = '\r';
        edge[n - 1] = '\n';
        server_add(edge, n);
    }
}

/* What a server says to what the engine awaits; v picks among answers
 * (0: the usual good one). */
static void server_auto(unsigned v)
{
    static const char *const greeting[] = {
        "220 mx.test ESMTP\r\n", "554 5.3.2 go away\r\n",
        "220-mx.test\r\n220 ok\r\n", "421 4.3.2 busy\r\n"};
    static const char *const ehlo[] = {
        "250-mx.test\r\n250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES\r\n",
        "250-mx.test\r\n250 AUTH=LOGIN\r\n",
        "250-mx.test\r\n250 AUTH LOGIN\r\n",
        "250 mx.test\r\n",
        "502 5.5.2 no EHLO\r\n",
        "250-mx.test\r\n250 AUTH PLAIN\r\n",
        "550 no\r\n",
        "250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"};
    static const char *const auth[] = {
        "235 2.7.0 ok\r\n", "334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n",
        "535 5.7.8 bad\r\n", "504 5.5.4 unknown\r\n", "454 4.7.0 later\r\n",
        "334 \r\n", "250 ok\r\n"};
    static const char *const mail[] = {"250 2.1.0 ok\r\n", "550 5.7.1 no\r\n",
                                       "451 4.3.0 later\r\n",
                                       "552 5.3.4 too big\r\n"};
    static const char *const rcpt[] = {
        "250 2.1.5 ok\r\n", "550 5.1.1 unknown user\r\n",
        "251 2.1.5 forwarded\r\n", "450 4.2.0 greylisted\r\n"};
    static const char *const data[] = {"354 go ahead\r\n", "554 5.5.1 no\r\n",
                                       "250 odd\r\n", "451 later\r\n"};
    static const char *const message[] = {
        "250 2.0.0 queued\r\n", "552 5.3.4 too big\r\n",
        "451 4.3.0 later\r\n", "354 odd\r\n"};
    static const char *const rset[] = {"250 2.0.0 ok\r\n", "500 what\r\n"};
    static const char *const quit[] = {"221 2.0.0 bye\r\n", "500 what\r\n"};
    static const char *const none[] = {"", "552 5.3.4 too big\r\n",
                                       "421 4.3.0 closing\r\n",
                                       "250 unasked\r\n"};
    const char *r;

#define PICK(a) (a)[v % (sizeof(a) / sizeof((a)[0]))]
    switch (T.e->session_wait_phase(&T.s)) {
    case SMTPC_PHASE_GREETING:
        r = PICK(greeting);
        break;
    case SMTPC_PHASE_EHLO:
        r = PICK(ehlo);
        break;
    case SMTPC_PHASE_AUTH:
        r = PICK(auth);
        break;
    case SMTPC_PHASE_MAIL:
        r = PICK(mail);
        break;
    case SMTPC_PHASE_RCPT:
        r = PICK(rcpt);
        break;
    case SMTPC_PHASE_DATA:
        r = PICK(data);
        break;
    case SMTPC_PHASE_MESSAGE:
        r = PICK(message);
        break;
    case SMTPC_PHASE_RSET:
        r = PICK(rset);
        break;
    case SMTPC_PHASE_QUIT:
        r = PICK(quit);
        break;
    default:
        r = PICK(none);
        break;
    }
#undef PICK
    server_add(r, strlen(r));
}

/* ---- the body ---- */

static const unsigned char *body_pattern(unsigned p, size_t *len)
{
    static unsigned char big[3000];
    static const char *const small[] = {
        "Subject: t\r\n\r\nhello\r\n",
        ".\r\n",
        "..",
        "\r",
        "\n",
        "\r\n",
        ".",
        "line\r\n.dot\r\n..two\r\n",
        NULL, NULL, /* 8, 9 */
        "a\rb\nc\r\n",
        "\r\n.\r\n",
        NULL, NULL, NULL, /* 12, 13, 14 */
        NULL};
    size_t i;

    switch (p) {
    case 8: /* fills the send area without a line end */
        memset(big, 'x', sizeof big);
        *len = sizeof big;
        return big;
    case 9: /* dot-stuffing at every line: doubled bytes at the edge */
        for (i = 0; i < sizeof big; i++)
            big[i] = (i & 1) ? '.' : '\n';
        *len = sizeof big;
        return big;
    case 12:
        for (i = 0; i < 256; i++)
            big[i] = (unsigned char)i;
        *len = 256;
        return big;
    case 13:
        memset(big, '.', 2000);
        *len = 2000;
        return big;
    case 14:
        for (i = 0; i < sizeof big; i++)
            big[i] = (i & 1) ? '\n' : '\r';
        *len = sizeof big;
        return big;
    case 15:
        *len = 5;
        return NULL; /* a NULL pointer: taken as nothing */
    default:
        *len = strlen(small[p]);
        return (const unsigned char *)small[p];
    }
}

static size_t body_write(const unsigned char *p, size_t len)
{
    size_t t = T.e->body_write(&T.s, p, len);
    size_t f = F.e->body_write(&F.s, p, len);

    cmp_i("smtpc_body_write", (long long)t, (long long)f);
    compare_all();
    if (p != NULL && t < len) {
        body_rest = p + t;
        body_rest_len = len - t;
    } else {
        body_rest_len = 0;
    }
    return t;
}

static int body_end(void)
{
    int t = T.e->body_end(&T.s), f = F.e->body_end(&F.s);

    cmp_i("smtpc_body_end", t, f);
    compare_all();
    return t;
}

/* ---- the operations ---- */

static void op_natural(unsigned p)
{
    unsigned st = state();

    if (st & SMTPC_WANT_SEND) {
        send_all();
    } else if (st & SMTPC_WANT_TLS) {
        int t = T.e->tls_done(&T.s), f = F.e->tls_done(&F.s);
        cmp_i("smtpc_tls_done", t, f);
        compare_all();
    } else if (st & SMTPC_WANT_BODY) {
        size_t len;
        const unsigned char *b = body_pattern(0, &len);
        if (!(p & 1))
            body_write(b, len);
        body_end();
    } else if (st & SMTPC_READY) {
        if (mails_begun < 3 && !(p & 8)) {
            int k = env_running ^ 1;
            envelope_simple(p, k);
            mail_begin(k, 0);
        } else {
            int t = T.e->quit(&T.s), f = F.e->quit(&F.s);
            cmp_i("smtpc_quit", t, f);
            compare_all();
        }
    } else if (st & SMTPC_WANT_RECV) {
        server_auto(0);
        deliver(0);
    }
}

static void run_op(unsigned op, unsigned p, input *in)
{
    op_rec *r = op_count < OPS_MAX ? &ops[op_count] : NULL;
    unsigned arg = 0;
    size_t len = 0;
    int t, f;

    if (r != NULL) {
        r->op = (uint8_t)op;
        r->p = (uint8_t)p;
        r->arg = 0;
        r->len = 0;
    }
    op_count++;
    failing_what = op_names[op];
    switch (op) {
    case 0:
        arg = take(in) % (unsigned)(CANNED_COUNT + 4);
        server_canned(arg);
        deliver(p);
        break;
    case 1:
        len = take(in);
        if (len == 0xff)
            len = in->n < 4096 ? in->n : 4096;
        if (len > in->n)
            len = in->n;
        server_add(in->p, len);
        in->p += len;
        in->n -= len;
        deliver(p);
        break;
    case 2:
        deliver(p);
        break;
    case 3:
        if (p == 0) {
            len = send_k(0, 1);
        } else if (p == 15) {
            len = send_k((size_t)-1, 2); /* more than pending: clamped */
        } else if (p == 1) {
            arg = take(in);
            len = send_k(arg, 0);
        } else {
            len = send_k(p - 1, 0);
        }
        break;
    case 4:
        send_all();
        break;
    case 5: {
        int k = env_running ^ 1;
        int env_null = envelope_input(in, k);
        mail_begin(k, env_null);
        break;
    }
    case 6: {
        int k = env_running ^ 1;
        envelope_simple(p, k);
        mail_begin(k, 0);
        break;
    }
    case 7: {
        const unsigned char *b;
        len = take(in);
        if (len > in->n)
            len = in->n;
        b = in->p;
        in->p += len;
        in->n -= len;
        if ((p & 1) && body_rest_len > 0) {
            b = body_rest; /* the rest of the last write comes first */
            len = body_rest_len;
        }
        len = body_write(b, len);
        break;
    }
    case 8: {
        const unsigned char *b = body_pattern(p, &len);
        len = body_write(b, len);
        break;
    }
    case 9:
        arg = (unsigned)body_end();
        break;
    case 10:
        t = T.e->quit(&T.s);
        f = F.e->quit(&F.s);
        cmp_i("smtpc_quit", t, f);
        compare_all();
        break;
    case 11:
        t = T.e->tls_done(&T.s);
        f = F.e->tls_done(&F.s);
        cmp_i("smtpc_tls_done", t, f);
        compare_all();
        break;
    case 12:
        T.e->recv_eof(&T.s);
        F.e->recv_eof(&F.s);
        compare_all();
        break;
    case 13: {
        static const int statuses[16] = {
            SMTPC_OK,          SMTPC_ERR_TIMEOUT,     SMTPC_ERR_IO,
            SMTPC_ERR_TLS,     SMTPC_ERR_TLS_CERT,    SMTPC_ERR_BODY_SOURCE,
            SMTPC_ERR_CLOSED,  SMTPC_ERR_PROTOCOL,    SMTPC_ERR_ARG,
            SMTPC_ERR_UNSUPPORTED, SMTPC_ERR_TEMPFAIL, SMTPC_ERR_STATE,
            1,                 -100,                  SMTPC_ERR_IO,
            SMTPC_ERR_TIMEOUT};
        T.e->session_abort(&T.s, statuses[p]);
        F.e->session_abort(&F.s, statuses[p]);
        compare_all();
        break;
    }
    case 14:
        op_natural(p);
        break;
    default:
        server_auto(p);
        deliver(0);
        break;
    }
    if (r != NULL) {
        r->arg = (uint16_t)arg;
        r->len = (uint32_t)len;
    }
    if (trace)
        fprintf(stderr, "fuzz_tiny: #%zu %s p=%u arg=%u len=%zu -> state "
                "0x%x status %d\n", op_count - 1, op_names[op], p, arg, len,
                state(), T.e->session_status(&T.s));
}

static void side_init(side *sd, const ft_api *e)
{
    memset(sd, 0, sizeof *sd);
    sd->e = e;
    /* Exactly buf_len bytes, so ASan sees a read or write past them. */
    sd->buf = buf_len ? malloc(buf_len) : NULL;
    if (buf_len && sd->buf == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *t = getenv("FT_TRACE");

    (void)argc;
    (void)argv;
    trace = t != NULL && *t != '\0' && *t != '0';
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in;
    int t, f;
    size_t i;

    if (size < 3 || size > 65536)
        return 0;
    in.p = data;
    in.n = size;
    alloc_count = 0;
    op_count = 0;
    server_len = 0;
    sent_len = sent_total = 0;
    body_rest_len = 0;
    env_running = 0;
    mails_begun = 0;
    failing_what = "session_init";
    config_input(&in);
    side_init(&T, &api_tiny);
    side_init(&F, &api_full);
    t = T.e->session_init(&T.s, &cfg, T.buf, buf_len);
    f = F.e->session_init(&F.s, &cfg, F.buf, buf_len);
    cmp_i("smtpc_session_init", t, f);
    compare_all();
    if (trace)
        fprintf(stderr, "fuzz_tiny: init tls %u auth 0x%x options 0x%x "
                "buffer %zu -> %d\n", cfg.tls, cfg.auth, cfg.options,
                buf_len, t);

    while (in.n > 0 && !both_closed()) {
        unsigned b = take(&in);
        run_op(b & 15, b >> 4, &in);
    }
    /* The connection ends. */
    failing_what = "the end of the input (recv_eof)";
    if (!both_closed()) {
        T.e->recv_eof(&T.s);
        F.e->recv_eof(&F.s);
        compare_all();
    }
    if (trace) {
        fprintf(stderr, "fuzz_tiny: end: status %d phase %d, sent %zu "
                "bytes:\n    ", T.e->session_status(&T.s),
                T.e->session_phase(&T.s), sent_total);
        print_escaped(sent, sent_len);
        fputc('\n', stderr);
    }
    free(T.buf);
    free(F.buf);
    for (i = 0; i < alloc_count; i++)
        free(allocs[i]);
    return 0;
}
