/*
 * smtpc/smtpc.h - everything of the smtpc library.
 *
 *   smtpc/engine.h     the sans-I/O protocol engine
 *   smtpc/transport.h  the transport table, POSIX TCP, TLS options
 *   smtpc/client.h     the blocking client
 *   smtpc/mime.h       the MIME writer (messages with parts, in constant memory)
 *   nxd_smtp_client.h  the NetX Duo compatible API (separate header)
 */
#ifndef SMTPC_H
#define SMTPC_H

#include "smtpc_config.h"
#include "engine.h"
#include "transport.h"
#include "client.h"
#include "mime.h"

#define SMTPC_VERSION "0.1.0"

#endif /* SMTPC_H */
