/*
 * cli/smtpc/exitcode.c - the one table from outcomes to sysexits.h exit codes.
 *
 * Scripts written for sendmail and msmtp test these codes: 75 means "try
 * again later" (a queue keeps the message), anything else from 64 up means
 * "this will not work as it is".  docs/smtpc.1 (EXIT STATUS) documents
 * this table; change both together.
 */
#include <sysexits.h>

#include "cli.h"

static const struct {
    int status;
    int exit_code;
} status_exit[] = {
    {SMTPC_OK, EX_OK},
    {SMTPC_ERR_ARG, EX_USAGE},              /* a value the library refused */
    {SMTPC_ERR_STATE, EX_SOFTWARE},         /* a bug in smtpc */
    {SMTPC_ERR_BUFFER, EX_SOFTWARE},
    {SMTPC_ERR_PROTOCOL, EX_PROTOCOL},
    {SMTPC_ERR_REPLY_TOO_LONG, EX_PROTOCOL},
    {SMTPC_ERR_REJECTED, EX_UNAVAILABLE},   /* 5xx */
    {SMTPC_ERR_TEMPFAIL, EX_TEMPFAIL},      /* 4xx */
    {SMTPC_ERR_NO_RECIPIENTS, EX_UNAVAILABLE}, /* see cli_exit_code */
    {SMTPC_ERR_SIZE, EX_UNAVAILABLE},
    {SMTPC_ERR_AUTH, EX_NOPERM},
    {SMTPC_ERR_AUTH_UNAVAILABLE, EX_CONFIG},
    {SMTPC_ERR_AUTH_INSECURE, EX_CONFIG},
    {SMTPC_ERR_TLS_UNAVAILABLE, EX_UNAVAILABLE},
    {SMTPC_ERR_TLS_INJECTION, EX_PROTOCOL},
    {SMTPC_ERR_EXTENSION, EX_UNAVAILABLE},  /* e.g. SMTPUTF8 not offered */
    {SMTPC_ERR_CLOSED, EX_TEMPFAIL},        /* connection lost */
    {SMTPC_ERR_TIMEOUT, EX_TEMPFAIL},
    {SMTPC_ERR_RESOLVE, EX_NOHOST},
    {SMTPC_ERR_RESOLVE_AGAIN, EX_TEMPFAIL}, /* the name service is away */
    {SMTPC_ERR_CONNECT, EX_TEMPFAIL},       /* refused or unreachable */
    {SMTPC_ERR_IO, EX_TEMPFAIL},
    {SMTPC_ERR_TLS, EX_UNAVAILABLE},        /* handshake failed: not transient */
    {SMTPC_ERR_TLS_CERT, EX_UNAVAILABLE},
    {SMTPC_ERR_BODY_SOURCE, EX_DATAERR},    /* see cli_exit_code */
    {SMTPC_ERR_UNSUPPORTED, EX_CONFIG},     /* feature not compiled in */
};

static const struct {
    int exit_code;
    const char *word;
} exit_words[] = {
    {EX_OK, "ok"},
    {EX_USAGE, "usage"},
    {EX_DATAERR, "data-error"},
    {EX_NOINPUT, "no-input"},     /* --batch: a file or DIR cannot be read */
    {EX_NOHOST, "unknown-host"},
    {EX_UNAVAILABLE, "rejected"},
    {EX_SOFTWARE, "internal-error"},
    {EX_OSERR, "system-error"},
    {EX_IOERR, "input-error"},
    {EX_TEMPFAIL, "temporary-failure"},
    {EX_PROTOCOL, "protocol-error"},
    {EX_NOPERM, "auth-failed"},
    {EX_CONFIG, "config-error"},
};

int cli_exit_code(int status, const smtpc_envelope *env, const cli_body *body)
{
    /* Every recipient refused: permanent only if every refusal was. */
    if (status == SMTPC_ERR_NO_RECIPIENTS && env) {
        for (size_t i = 0; i < env->rcpt_count; i++) {
            if (env->rcpts[i].code < 500)
                return EX_TEMPFAIL;
        }
        return EX_UNAVAILABLE;
    }
    /* The message could not be read: a NUL byte is bad data, a failed
     * read an input error. */
    if (status == SMTPC_ERR_BODY_SOURCE && body && !body->nul_seen)
        return EX_IOERR;
    for (size_t i = 0; i < sizeof status_exit / sizeof status_exit[0]; i++) {
        if (status_exit[i].status == status)
            return status_exit[i].exit_code;
    }
    return EX_SOFTWARE;
}

const char *cli_exit_word(int exit_code)
{
    for (size_t i = 0; i < sizeof exit_words / sizeof exit_words[0]; i++) {
        if (exit_words[i].exit_code == exit_code)
            return exit_words[i].word;
    }
    return "error";
}
