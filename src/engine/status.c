/*
 * Names of statuses, phases and mechanisms, for messages and logs.
 */
#include "internal.h"

const char *smtpc_status_str(int status)
{
    if (!SMTPC_WITH_STATUS_TEXT)
        return status == SMTPC_OK ? "success" : "error";
    switch (status) {
    case SMTPC_OK: return "success";
    case SMTPC_ERR_ARG: return "invalid argument";
    case SMTPC_ERR_STATE: return "call not valid in this state";
    case SMTPC_ERR_BUFFER: return "I/O buffer too small";
    case SMTPC_ERR_PROTOCOL: return "server protocol error";
    case SMTPC_ERR_REPLY_TOO_LONG: return "server reply too long";
    case SMTPC_ERR_REJECTED: return "refused by the server";
    case SMTPC_ERR_TEMPFAIL: return "temporary failure at the server";
    case SMTPC_ERR_NO_RECIPIENTS: return "every recipient was refused";
    case SMTPC_ERR_SIZE: return "message larger than the server accepts";
    case SMTPC_ERR_AUTH: return "authentication failed";
    case SMTPC_ERR_AUTH_UNAVAILABLE: return "no usable authentication mechanism";
    case SMTPC_ERR_AUTH_INSECURE: return "credentials refused on a connection without TLS";
    case SMTPC_ERR_TLS_UNAVAILABLE: return "TLS required but not available from the server";
    case SMTPC_ERR_TLS_INJECTION: return "server sent data before TLS started";
    case SMTPC_ERR_EXTENSION: return "server lacks an extension the mail needs";
    case SMTPC_ERR_CLOSED: return "connection closed by the server";
    case SMTPC_ERR_PENDING: return "no answer yet";
    case SMTPC_ERR_TIMEOUT: return "timed out";
    case SMTPC_ERR_RESOLVE: return "host name not found";
    case SMTPC_ERR_CONNECT: return "cannot connect";
    case SMTPC_ERR_IO: return "network I/O error";
    case SMTPC_ERR_TLS: return "TLS error";
    case SMTPC_ERR_TLS_CERT: return "server certificate not trusted";
    case SMTPC_ERR_BODY_SOURCE: return "message source failed";
    case SMTPC_ERR_UNSUPPORTED: return "feature not compiled in";
    case SMTPC_ERR_RESOLVE_AGAIN: return "temporary failure in name resolution";
    default: return "unknown status";
    }
}

const char *smtpc_phase_str(int phase)
{
    static const char *const names[] = {
        "none", "connect", "greeting", "ehlo", "starttls", "tls", "auth",
        "mail", "rcpt", "data", "message", "rset", "quit"};
    if (!SMTPC_WITH_STATUS_TEXT || phase < 0 ||
        (size_t)phase >= sizeof names / sizeof names[0])
        return "unknown";
    return names[phase];
}

const char *smtpc_auth_mech_str(int mech)
{
    switch (mech) {
    case SMTPC_AUTH_NONE: return "none";
    case SMTPC_AUTH_PLAIN: return "PLAIN";
    case SMTPC_AUTH_LOGIN: return "LOGIN";
    case SMTPC_AUTH_CRAM_MD5: return "CRAM-MD5";
    case SMTPC_AUTH_XOAUTH2: return "XOAUTH2";
    case SMTPC_AUTH_OAUTHBEARER: return "OAUTHBEARER";
    case SMTPC_AUTH_AUTO: return "auto";
    default: return "unknown";
    }
}
