/*
 * test_client_tiny.c - test_client.c's scripted sessions on the tiny
 * client and engine (SMTPC_PROFILE_MINIMAL, src/client/tiny.c and
 * src/engine/tiny.c), compiled into this test.  The cases that need a
 * feature the minimal profile leaves out (PIPELINING, CHUNKING, STARTTLS,
 * the trace) are skipped; test_client.c's main says which.
 */
#define SMTPC_PROFILE_MINIMAL 1

#include "engine/tiny.c"
#include "engine/common.c"
#include "engine/reply.c"
#include "engine/check.c"
#include "engine/base64.c"
#include "engine/status.c"
#include "client/tiny.c"
#include "client/common.c"
#include "client/timeouts.c"
#include "client/body.c"

#include "test_client.c"
