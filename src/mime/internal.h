/*
 * src/mime/internal.h - what the MIME writer's files share.
 *
 * Header text is produced by straight-line code writing into a
 * mime_out: a window [skip, skip + cap) of the bytes a segment (the
 * header fields, boundaries and part headers between two contents) would
 * have.  A read that stops in the middle of a segment runs the same code
 * again with a larger skip; nothing about the segment is kept between
 * reads but its offset, so any read size gives the same bytes.
 *
 * To keep small reads cheap, a segment is a sequence of units (a header
 * field, a boundary line), each starting on a fresh line and depending on
 * nothing before it but its position.  A read notes the last unit that
 * starts at or before the end of its window (mark_*), where the next read
 * of the same segment begins, and that read starts generating there
 * (from_*); once the window is full, the units after it are not generated
 * (full).
 */
#ifndef SMTPC_MIME_INTERNAL_H
#define SMTPC_MIME_INTERNAL_H

#include "smtpc/mime.h"

#if SMTPC_WITH_MIME

#include <string.h>

#define MIME_LINE 78   /* header lines folded at this width (RFC 5322 2.1.1) */
#define MIME_EW_MAX 75 /* longest encoded-word (RFC 2047 2) */
#define MIME_EW_LINE 76 /* longest line holding one (RFC 2047 2) */
#define MIME_QP_MAX 75 /* QP characters before a soft break's "=" (76 with it) */
#define MIME_B64_IN 57 /* bytes per base64 line: 76 characters */
#define MIME_RAW_LINE_MAX 998 /* RFC 5322 2.1.1, CRLF excluded */

/* A flag of the message's (SMTPC_MIME_*) in effect.  Each allows what
 * only a mail sent with BODY=8BITMIME or SMTPUTF8 may carry, which only
 * SMTPC_WITH_SMTPUTF8 can send: without it both are ignored (the message
 * is written as for a server that offers neither) and every test of one
 * folds to 0. */
#define MIME_FLAG(flags, f) (SMTPC_WITH_SMTPUTF8 && ((flags) & (f)))

typedef struct mime_out {
    char *buf;          /* receives bytes [skip, skip + cap) */
    size_t cap;
    size_t skip;
    size_t pos;         /* bytes produced so far */
    size_t col;         /* column on the current line */
    size_t name_col;    /* column just after "Name:" */
    unsigned flags;     /* the message's SMTPC_MIME_* */
    int err;            /* SMTPC_ERR_ARG once the input was refused */
    int over;           /* a line went past MIME_LINE */
    int utf8;           /* raw UTF-8 went into a header */
    int ew_line;        /* the current line holds an encoded-word */
    int full;           /* a byte past the window was produced (cap > 0) */
    uint32_t unit;      /* units started so far */
    uint32_t from_unit; /* units before this one are skipped ... */
    size_t from_pos;    /* ... and it starts at this position */
    uint32_t mark_unit; /* the last unit starting at or before skip + cap */
    size_t mark_pos;
} mime_out;

/* At the start of a unit: nonzero when the unit is not to be generated
 * (it ends before the window, or the window is full). */
int smtpc_mo_unit(mime_out *o);

void smtpc_mo_put(mime_out *o, const char *s, size_t n);
void smtpc_mo_str(mime_out *o, const char *s);
void smtpc_mo_crlf(mime_out *o);

/* Header fields, each ending with CRLF. */
void smtpc_mh_unstructured(mime_out *o, const char *name, const char *value);
void smtpc_mh_addrs(mime_out *o, const char *name, const smtpc_mime_addr *a,
                    size_t n);
void smtpc_mh_msgid(mime_out *o, const char *name, const char *id);
/* "Name: value" started: a first token with no parameters yet. */
void smtpc_mh_begin(mime_out *o, const char *name, const char *value);
/* "; attr=value" (quoted, or RFC 2231 sections). */
void smtpc_mh_param(mime_out *o, const char *attr, const char *value);
/* Nonzero when c (not NUL) is one of set's characters: strchr's job for
 * the writer, without linking strchr (about 200 bytes on a Cortex-M4,
 * which the minimal engine does not need). */
int smtpc_mime_in_set(const char *set, unsigned char c);
/* SMTPC_OK when s is valid UTF-8 without control bytes but tab. */
int smtpc_mh_check_text(const char *s);

/* Encoders (encode.c).  Each writes whole units: *used input bytes gave
 * the returned output bytes, and it stops when less than the unit's
 * worst case room is left. */
#define MIME_QP_UNIT 20 /* most output one input byte can cause */
extern const char smtpc_mime_hex[]; /* "0123456789ABCDEF": QP, Q, %XX */
size_t smtpc_qp_encode(smtpc_mime_qp *st, int text, const unsigned char *in,
                       size_t n, char *out, size_t room, size_t *used);
size_t smtpc_qp_finish(smtpc_mime_qp *st, char *out); /* <= MIME_QP_UNIT */
/* Encoded size and last output byte ('\n' when nothing) of n bytes. */
uint64_t smtpc_qp_size(int text, const unsigned char *in, size_t n,
                       unsigned char *last);
uint64_t smtpc_b64_size(uint64_t n);

#endif /* SMTPC_WITH_MIME */
#endif /* SMTPC_MIME_INTERNAL_H */
