/*
 * smtpc/mime.h - the MIME writer: a message described in caller-owned
 * structs, its bytes produced on demand, in constant memory.
 *
 * Sans-I/O like the engine: it never allocates, never prints, never reads
 * a clock or a file.  Content is pulled from the caller (a buffer, or a
 * callback that hands out chunks of any size) and encoded on the fly, so
 * a 1 GB attachment costs the same memory as a 1 KB one.
 *
 *   smtpc_mime_part text = {0}, pdf = {0};
 *   smtpc_mime_message m = {0};
 *   smtpc_mime_writer w;
 *   text.data = "Hello.\n"; text.len = 7;
 *   pdf.content_type = "application/pdf"; pdf.filename = "report.pdf";
 *   pdf.read = my_file_read; pdf.ctx = &file; pdf.size = file_size;
 *   m.from = &me; m.to = &you; m.to_count = 1; m.subject = "Report";
 *   m.text = &text; m.attachments = &pdf; m.attachment_count = 1;
 *   m.entropy = random_bytes; m.entropy_len = 16;
 *   if (smtpc_mime_init(&w, &m) != SMTPC_OK) ...   (nothing produced yet)
 *   env.size = smtpc_mime_size(&w) == SMTPC_MIME_SIZE_UNKNOWN ? 0 : ...;
 *   while ((n = smtpc_mime_read(&w, buf, sizeof buf)) > 0) write n bytes;
 *   smtpc_mime_done(&w) ? finished : smtpc_mime_status(&w);
 * or, with the blocking client, smtpc_mime_body_source() (below).
 *
 * Built with SMTPC_WITH_MIME (smtpc_config.h; on in the full profile, off
 * in the minimal one, where none of these functions exists).
 *
 * Rules for every function here:
 *   - The message, its parts, addresses, headers and strings, and every
 *     buffer given as content, are the caller's.  They MUST stay valid and
 *     unchanged from smtpc_mime_init until the last smtpc_mime_read (the
 *     writer keeps pointers, never copies).  Strings are NUL-terminated
 *     UTF-8.
 *   - NULL (or a count of 0) means "none" for every optional field.
 *   - smtpc_mime_init checks everything it can before a byte is produced:
 *     a CR or LF in any header text, a display name, a file name or an
 *     address (nothing the caller gives can start a header line of its
 *     own), invalid UTF-8, an address that needs SMTPUTF8 without it, an
 *     8bit part without 8BITMIME, a buffer that its encoding cannot carry.
 *     Any of these returns SMTPC_ERR_ARG and the writer produces nothing.
 *   - A message that needs what the build folded out returns
 *     SMTPC_ERR_UNSUPPORTED the same way: html or inline parts, display
 *     names, RFC 2231 file names, 7bit or 8bit parts (SMTPC_MIME_WITH_*,
 *     all off with SMTPC_MIME_LEAN), an 8bit part where the engine
 *     cannot send BODY=8BITMIME (SMTPC_WITH_SMTPUTF8 off, as in the
 *     minimal profile).  There the flags SMTPC_MIME_8BITMIME and
 *     SMTPC_MIME_SMTPUTF8 are ignored: what they allow could not be
 *     sent, and the message is written as for a server without them.
 *   - Output: the whole message (header fields, body, MIME structure) with
 *     CRLF line ends and a final CRLF, ready for smtpc_body_write (the
 *     engine dot-stuffs it like any body).  Every header line is folded to
 *     at most 78 characters when it has a place to fold (an address longer
 *     than a line cannot be folded; no line ever passes 998).  The bytes
 *     do not depend on how they are read: 1 byte at a time or all at once.
 *
 * The shape of the message follows what mail clients produce:
 *
 *   multipart/mixed                         (when there are attachments)
 *     multipart/related                     (when html has inline parts)
 *       multipart/alternative               (when both text and html)
 *         text/plain
 *         text/html
 *       inline parts (images referenced by cid: from the HTML)
 *     attachments
 *
 * and any level that would hold one part only is left out.  A message
 * with no text, html or attachment is headers and an empty text/plain body.
 *
 * Encoding of a part (SMTPC_MIME_ENC_AUTO), decided in smtpc_mime_init:
 *   - content in a buffer is looked at: 7bit when it is ASCII text with
 *     lines of at most 998 bytes (bare LF line ends become CRLF; for types
 *     other than text/... only when its line ends are CRLF already); 8bit
 *     when it has 8-bit bytes but otherwise qualifies and the message has
 *     SMTPC_MIME_8BITMIME; otherwise for text/... quoted-printable or base64
 *     whichever is shorter, for every other type base64;
 *   - content from a callback cannot be looked at in advance: text/... is
 *     quoted-printable, every other type base64.
 * A build without SMTPC_MIME_WITH_RAW (SMTPC_MIME_LEAN) has no 7bit or
 * 8bit: AUTO is then quoted-printable for text/... and base64 for the
 * rest, whatever holds the content, and an explicit 7BIT or 8BIT is
 * refused.
 * Quoted-printable (RFC 2045 6.7): lines of at most 76 characters with
 * soft breaks, trailing space and tab encoded, "=" encoded, and a "." or
 * "F" (for "From ") at the start of a line encoded.  For text/... a line
 * end in the content (CRLF, or a bare LF) is a line end of the output;
 * for other types every CR and LF is encoded, so bytes come back exact.
 * Base64: 76-character lines (57 bytes each).
 *
 * Boundaries are "=_" followed by characters drawn from the caller's
 * entropy: quoted-printable output never contains "=_" (a "=" is always
 * followed by a hex digit or a line end) and base64 output never does
 * (padding is followed by "=" or a line end), so an encoded part can
 * never contain a boundary, whatever the entropy.  A 7bit or 8bit part
 * whose buffer holds "--=_" at the start of a line is sent as
 * quoted-printable instead (AUTO) or refused (an explicit 7BIT or 8BIT);
 * a callback part sent raw that produces such a line fails the read
 * (SMTPC_ERR_BODY_SOURCE).
 *
 * Header values (Subject, custom fields, display names) that are not
 * plain ASCII, or hold a word too long for a line, or look like an
 * encoded-word already ("=?"), become RFC 2047 encoded-words in UTF-8,
 * B or Q whichever is shorter, each at most 75 characters, never cutting
 * a UTF-8 sequence.  With SMTPC_MIME_SMTPUTF8 (set it only when the server
 * offered SMTPUTF8 and the mail is sent with it) UTF-8 goes into header
 * values as it is (RFC 6532), and encoded-words are used only for words
 * too long for a line.  File names that are not short plain ASCII use
 * RFC 2231 (filename*=utf-8''..., split in numbered sections).
 */
#ifndef SMTPC_MIME_H
#define SMTPC_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "smtpc_config.h"
#include "engine.h"
#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* smtpc_mime_size's answer when some part's encoded size is not known. */
#define SMTPC_MIME_SIZE_UNKNOWN UINT64_MAX

/* smtpc_mime_part.encoding. */
enum smtpc_mime_encoding {
    SMTPC_MIME_ENC_AUTO = 0,   /* decided from the content (see above) */
    SMTPC_MIME_ENC_7BIT,       /* content sent as it is: ASCII lines */
    SMTPC_MIME_ENC_8BIT,       /* the same with 8-bit bytes: 8BITMIME only */
    SMTPC_MIME_ENC_QP,         /* quoted-printable */
    SMTPC_MIME_ENC_BASE64
};

/* smtpc_mime_part.disposition. */
enum smtpc_mime_disposition {
    SMTPC_MIME_DISP_DEFAULT = 0, /* text and html: none; inline parts:
                                    inline; attachments: attachment */
    SMTPC_MIME_DISP_INLINE,
    SMTPC_MIME_DISP_ATTACHMENT
};

/* smtpc_mime_message.flags: what the server offered and the mail uses. */
enum {
    SMTPC_MIME_8BITMIME = 1u << 0, /* 8bit parts allowed (send the mail
                                      with SMTPC_MAIL_8BITMIME) */
    SMTPC_MIME_SMTPUTF8 = 1u << 1  /* UTF-8 header values and addresses
                                      (send with SMTPC_MAIL_SMTPUTF8) */
};

/* Hands out the next piece of a part's content: sets *data and *len and
 * returns SMTPC_OK; *len == 0 means the content is complete.  *data MUST
 * stay valid until the next call (or the end of the read that asked for
 * it).  A negative return is an error: the writer stops with it.  Returns
 * SMTPC_MIME_LATER when nothing is available yet (a superloop's sensor
 * log): smtpc_mime_read then returns what it has and asks again on the
 * next call. */
typedef int (*smtpc_mime_read_fn)(void *ctx, const void **data, size_t *len);
#define SMTPC_MIME_LATER 1

typedef struct smtpc_mime_part {
    /* "type/subtype", ASCII; NULL: text/plain for text, text/html for
     * html, application/octet-stream for the others.  No parameters: the
     * writer adds charset=utf-8 to text/... and name= itself. */
    const char *content_type;
    int encoding;              /* smtpc_mime_encoding */
    int disposition;           /* smtpc_mime_disposition */
    const char *filename;      /* UTF-8, no path; NULL: none */
    const char *content_id;    /* "id@domain" without <>; NULL: none */
    /* Content, from a buffer (read == NULL): len bytes at data. */
    const void *data;
    size_t len;
    /* Or from a callback (read != NULL), called with ctx. */
    smtpc_mime_read_fn read;
    void *ctx;
    /* With a callback: the content's exact length when known, else 0.
     * Makes the message size known for base64 parts; a callback that
     * then hands out a different number of bytes fails the read. */
    uint64_t size;
} smtpc_mime_part;

/* A mailbox: "name <address>", or the address alone when name is NULL or
 * "".  address is an addr-spec without <> (checked like an envelope
 * address); name is UTF-8, quoted or encoded as needed. */
typedef struct smtpc_mime_addr {
    const char *name;
    const char *address;
} smtpc_mime_addr;

/* A header field of the caller's: name is printable ASCII without ":"
 * (at most 76 bytes; not Content-* or MIME-Version, which the writer
 * owns); value is unstructured UTF-8 text, folded and encoded like
 * Subject. */
typedef struct smtpc_mime_header {
    const char *name;
    const char *value;
} smtpc_mime_header;

typedef struct smtpc_mime_message {
    const smtpc_mime_addr *from;  /* one mailbox; NULL: no From field */
    const smtpc_mime_addr *to;
    size_t to_count;
    const smtpc_mime_addr *cc;
    size_t cc_count;
    const smtpc_mime_addr *reply_to;
    size_t reply_to_count;
    const char *subject;
    /* An RFC 5322 date (smtpc_mime_date writes one); NULL: no Date field
     * (the library has no clock; a submission server usually adds one). */
    const char *date;
    const char *message_id;       /* "id@domain" without <>; NULL: none */
    const smtpc_mime_header *headers; /* after the fields above, in order */
    size_t header_count;
    const smtpc_mime_part *text;  /* the text/plain body; NULL: none */
    const smtpc_mime_part *html;  /* the text/html body; NULL: none */
    const smtpc_mime_part *inlines;   /* referenced from html; needs html */
    size_t inline_count;
    const smtpc_mime_part *attachments;
    size_t attachment_count;
    /* Random bytes for the boundaries (any length; 16 is plenty).  NULL:
     * fixed boundaries, still safe against encoded content (see above). */
    const void *entropy;
    size_t entropy_len;
    unsigned flags;               /* SMTPC_MIME_8BITMIME, SMTPC_MIME_SMTPUTF8 */
} smtpc_mime_message;

/* Most parts (text, html, inlines, attachments) in one message. */
#ifndef SMTPC_MIME_PARTS_MAX
#define SMTPC_MIME_PARTS_MAX 1000
#endif

/* Quoted-printable encoder state (private). */
typedef struct smtpc_mime_qp {
    uint8_t col;  /* output column */
    uint8_t held; /* a space or tab held back, or 0 */
    uint8_t cr;   /* text: a CR waiting to see whether LF follows */
} smtpc_mime_qp;

/* The writer.  Its fields are private: use the functions.  It can live
 * anywhere (static, stack) and be copied before the first read; it holds
 * pointers into the message, none into itself.  About 250 bytes. */
typedef struct smtpc_mime_writer {
    const smtpc_mime_message *msg;
    int status;                /* SMTPC_OK or the first error, sticky */
    unsigned mail_flags;       /* SMTPC_MAIL_* the message needs */
    uint8_t state;             /* segment, content or done */
    uint8_t prepared;          /* the current part's encoding is known */
    uint8_t penc;              /* the current part's encoding */
    uint8_t ptext;             /* the current part is text/... */
    uint8_t src_end;           /* the current part's content is complete */
    uint8_t flushed;           /* ... and its encoder has finished */
    uint8_t stall;             /* no progress possible in this read */
    uint8_t carry_len;         /* base64: bytes waiting for a full line */
    uint8_t pend_off, pend_len; /* bytes not yet handed out */
    uint8_t pend_seg;          /* ... and they are a segment's, not content */
    uint8_t first_line;        /* base64: no line written yet */
    uint8_t last;              /* last content byte handed out */
    uint8_t raw_cr;            /* raw: the last byte was a CR */
    uint8_t raw_match;         /* raw: bytes of "--=_" at line start */
    uint16_t raw_line;         /* raw: length of the current line */
    smtpc_mime_qp qp;
    uint32_t leaves, leaf;     /* parts in output order; the current one */
    size_t seg_off;            /* bytes of the current segment handed out */
    size_t seg_upos;           /* where the segment's seg_unit starts */
    uint32_t seg_unit;         /* the unit of it the next read starts at */
    uint64_t size;             /* whole message, or SMTPC_MIME_SIZE_UNKNOWN */
    uint64_t fed;              /* content bytes of the part taken so far */
    const unsigned char *in;   /* content not yet encoded */
    size_t in_len;
    unsigned char carry[57];   /* base64: a line's worth of input */
    char pend[96];             /* encoded bytes for a small read */
    char bid[20];              /* boundary characters from the entropy */
} smtpc_mime_writer;

/* Checks the message and prepares w to produce it.  Returns SMTPC_OK, or
 * SMTPC_ERR_ARG or SMTPC_ERR_UNSUPPORTED (see the rules above) with w in
 * a failed state. */
SMTPC_API int smtpc_mime_init(smtpc_mime_writer *w, const smtpc_mime_message *m);

/* The exact number of bytes the message will have, or
 * SMTPC_MIME_SIZE_UNKNOWN when a part's encoded size depends on content
 * not seen yet (a callback part without size, or one sent as
 * quoted-printable or raw).  For smtpc_envelope.size (SIZE=) and BDAT,
 * so a build with neither (SMTPC_MIME_WITH_SIZE off: the minimal
 * profile) always answers SMTPC_MIME_SIZE_UNKNOWN. */
SMTPC_API uint64_t smtpc_mime_size(const smtpc_mime_writer *w);

/* Writes up to cap bytes of the message into buf and returns how many.
 * Less than cap means: the message is complete (smtpc_mime_done), or it
 * failed (smtpc_mime_status < 0), or a callback answered
 * SMTPC_MIME_LATER (call again later).  Reads of any size give the same
 * bytes.  Header fields are regenerated for each read that stops inside
 * them (reads under 96 bytes are staged in the writer), so a buffer of a
 * few hundred bytes or more keeps that work linear. */
SMTPC_API size_t smtpc_mime_read(smtpc_mime_writer *w, void *buf, size_t cap);

/* Nonzero once every byte of the message has been handed out. */
SMTPC_API int smtpc_mime_done(const smtpc_mime_writer *w);

/* SMTPC_OK, or the first error: SMTPC_ERR_ARG or SMTPC_ERR_UNSUPPORTED
 * from init, a callback's own negative status, or SMTPC_ERR_BODY_SOURCE
 * when a callback broke a rule (more or fewer bytes than its size, 8-bit
 * or a boundary line in a raw part). */
SMTPC_API int smtpc_mime_status(const smtpc_mime_writer *w);

/* The SMTPC_MAIL_* flags the mail needs for this message
 * (SMTPC_MAIL_8BITMIME when a part is sent 8bit, SMTPC_MAIL_SMTPUTF8 when
 * header values or addresses carry UTF-8): OR them into
 * smtpc_envelope.flags. */
SMTPC_API unsigned smtpc_mime_mail_flags(const smtpc_mime_writer *w);

/* The writer as a body source for the blocking client: each call reads
 * up to cap bytes into buf (caller-owned, any size; a few KiB keeps the
 * calls few).  A callback's SMTPC_MIME_LATER is asked again at once (the
 * blocking client has nothing else to do).  A writer that fails makes
 * the source fail with SMTPC_ERR_BODY_SOURCE (smtpc_mime_status says
 * why); the mail is then not completed.  src, w and buf MUST outlive the
 * send. */
typedef struct smtpc_mime_source {
    smtpc_mime_writer *w;
    unsigned char *buf;
    size_t cap;
} smtpc_mime_source;
SMTPC_API smtpc_body_source smtpc_mime_body_source(smtpc_mime_source *src,
                                                   smtpc_mime_writer *w,
                                                   void *buf, size_t cap);

/* Writes an RFC 5322 date for t seconds since 1970-01-01 UTC shown at a
 * UTC offset of utc_offset_min minutes ("Wed, 02 Dec 2026 19:50:42 +0000")
 * into out, NUL-terminated.  out MUST have SMTPC_MIME_DATE_LEN bytes.
 * Returns the length, or 0 when the date or offset is out of range. */
#define SMTPC_MIME_DATE_LEN 32
SMTPC_API size_t smtpc_mime_date(char *out, int64_t t, int utc_offset_min);

#ifdef __cplusplus
}
#endif

#endif /* SMTPC_MIME_H */
