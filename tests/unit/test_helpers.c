/*
 * The helpers every layer shares (engine.h): base64, the wipe and the
 * secret check.
 */
#include <stdlib.h>
#include <string.h>

#include "smtpc/engine.h"
#include "unit.h"

static void test_base64_vectors(void)
{
    /* RFC 4648 section 10. */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob",
                                        "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char out[16];
    unsigned char back[16];
    size_t i, n;
    int ok;

    unit_case = "base64 vectors";
    for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        n = smtpc_base64_encode(out, plain[i], strlen(plain[i]));
        CHECK_EQ_INT(n, strlen(coded[i]));
        CHECK_EQ_INT(n, SMTPC_BASE64_LEN(strlen(plain[i])));
        CHECK(memcmp(out, coded[i], n) == 0);
        n = smtpc_base64_decode(back, sizeof back, coded[i],
                                strlen(coded[i]), &ok);
        CHECK(ok);
        CHECK_EQ_INT(n, strlen(plain[i]));
        CHECK(memcmp(back, plain[i], n) == 0);
    }
}

static void test_base64_round_trip(void)
{
    unsigned char in[300], back[300];
    char coded[SMTPC_BASE64_LEN(300)];
    size_t len, i, n;
    int ok, bad = 0;

    unit_case = "base64 round trip";
    srand(7);
    for (len = 0; len <= sizeof in; len++) {
        for (i = 0; i < len; i++)
            in[i] = (unsigned char)rand();
        n = smtpc_base64_encode(coded, in, len);
        for (i = 0; i < n; i++)
            bad |= !(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
                            "uvwxyz0123456789+/=", coded[i]) && coded[i]);
        n = smtpc_base64_decode(back, sizeof back, coded, n, &ok);
        bad |= !ok || n != len || memcmp(back, in, len) != 0;
    }
    CHECK(!bad);
}

static void test_base64_decode_errors(void)
{
    char buf[16];
    unsigned char out[4];
    int ok;

    unit_case = "base64 decode errors";
    smtpc_base64_decode(out, sizeof out, "Zm9v!", 5, &ok);
    CHECK(!ok); /* outside the alphabet */
    smtpc_base64_decode(out, sizeof out, "Zg=a", 4, &ok);
    CHECK(!ok); /* data after padding */
    smtpc_base64_decode(out, sizeof out, "Zg===", 5, &ok);
    CHECK(!ok); /* three pads */
    smtpc_base64_decode(out, sizeof out, "Zm9vYmFy", 8, &ok);
    CHECK(!ok); /* 6 bytes into 4 */
    /* In place: the output never overtakes the input. */
    memcpy(buf, "Zm9vYmFy", 8);
    CHECK_EQ_INT(smtpc_base64_decode(buf, 8, buf, 8, &ok), 6);
    CHECK(ok && memcmp(buf, "foobar", 6) == 0);
}

static void test_wipe(void)
{
    unsigned char b[64];
    size_t i;
    int left = 0;

    unit_case = "wipe";
    memset(b, 0xA5, sizeof b);
    smtpc_wipe(b + 1, sizeof b - 2);
    for (i = 1; i < sizeof b - 1; i++)
        left |= b[i];
    CHECK(left == 0);
    CHECK(b[0] == 0xA5 && b[sizeof b - 1] == 0xA5);
    smtpc_wipe(NULL, 0);
}

static void test_check_secret(void)
{
    static char big[SMTPC_SECRET_MAX + 1];

    unit_case = "check_secret";
    CHECK_EQ_INT(smtpc_check_secret("hunter2", 7, 0), SMTPC_SECRET_OK);
    CHECK_EQ_INT(smtpc_check_secret("", 0, 0), SMTPC_SECRET_EMPTY);
    CHECK_EQ_INT(smtpc_check_secret("a\0b", 3, 0), SMTPC_SECRET_NUL);
    CHECK_EQ_INT(smtpc_check_secret("a\r\nb", 4, 0), SMTPC_SECRET_LINE_BREAK);
    CHECK_EQ_INT(smtpc_check_secret("a\nb", 3, 1), SMTPC_SECRET_LINE_BREAK);
    CHECK_EQ_INT(smtpc_check_secret("a\001b", 3, 0), SMTPC_SECRET_OK);
    CHECK_EQ_INT(smtpc_check_secret("a\001b", 3, 1), SMTPC_SECRET_CTRL_A);
    memset(big, 'x', sizeof big);
    CHECK_EQ_INT(smtpc_check_secret(big, SMTPC_SECRET_MAX, 0), SMTPC_SECRET_OK);
    CHECK_EQ_INT(smtpc_check_secret(big, sizeof big, 0), SMTPC_SECRET_TOO_LONG);
}

int main(void)
{
    test_base64_vectors();
    test_base64_round_trip();
    test_base64_decode_errors();
    test_wipe();
    test_check_secret();
    return unit_done();
}
