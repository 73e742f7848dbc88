/*
 * test_profile_minimal_full.c - the transcripts of test_profile_minimal.c
 * on the full engine built with the minimal profile's features
 * (SMTPC_TINY=0), so that both engines are held to the same bytes.
 */
#define SMTPC_TINY 0
#include "test_profile_minimal.c"
