/*
 * test_client_minimal.c - test_client.c's scripted sessions on the client
 * and engine built with -DSMTPC_PROFILE_MINIMAL=1 (the features folded
 * out), compiled into this test.  The cases that need a feature the
 * minimal profile leaves out (PIPELINING, CHUNKING, STARTTLS, the trace)
 * are skipped; test_client.c's main says which.
 */
#define SMTPC_PROFILE_MINIMAL 1

#include "engine/auth.c"
#include "engine/base64.c"
#include "engine/body.c"
#include "engine/caps.c"
#include "engine/check.c"
#include "engine/command.c"
#include "engine/common.c"
#include "engine/mail.c"
#include "engine/md5.c"
#include "engine/reply.c"
#include "engine/session.c"
#include "engine/status.c"
#include "client/body.c"
#include "client/client.c"
#include "client/common.c"
#include "client/loop.c"
#include "client/timeouts.c"
#include "client/trace.c"

#include "test_client.c"
