#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stackjwt.h"

int main(void) {
    const char *secret = getenv("STREAM_API_SECRET");
    if (secret == NULL) secret = "";
    stackjwt_key key;  /* STACKJWT_KEY_SIZE bytes; wiped by stackjwt_key_clear */
    int r = stackjwt_key_init(&key, STACKJWT_HS256, (const uint8_t *)secret, strlen(secret));
    if (r != STACKJWT_OK) return fprintf(stderr, "key: %s\n", stackjwt_error_message(r)), 2;
    char token[256];
    size_t len;
    const uint64_t now = 1700000000, exp = now + 3600;
    r = stackjwt_user_token(&key, "john", 4, &exp, &now, token, sizeof token, &len);
    if (r != STACKJWT_OK) return fprintf(stderr, "mint: %s\n", stackjwt_error_message(r)), 1;
    uint8_t scratch[STACKJWT_VERIFY_SCRATCH_LEN];  /* always enough */
    stackjwt_verify_options opts = {.now = now, .leeway = 30, .require_exp = true};
    stackjwt_claims claims;
    r = stackjwt_verify(&key, token, len, &opts, scratch, sizeof scratch, &claims);
    if (r == STACKJWT_OK) printf("%s\nuser %s, expires %llu\n", token, claims.user_id, (unsigned long long)claims.exp);
    else printf("refused: %s (stream code %d)\n", stackjwt_error_message(r), stackjwt_stream_code(r));
    stackjwt_key_clear(&key);
    return r == STACKJWT_OK ? 0 : 1;
}
