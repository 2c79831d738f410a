/*
 * Test helper for auth/kerberos_mit_test.go: a GSS-API acceptor built on
 * MIT Kerberos, to check this package's Kerberos tokens against an
 * independent implementation. It reads commands from stdin, one per line,
 * with binary data in hex, and answers one line each:
 *
 *   A <token> <channel-binding application data or ->
 *       gss_accept_sec_context; answers "OK <output token or -> <ret flags>"
 *   U <token>   gss_unwrap;          answers "OK <plaintext or -> <conf_state>";
 *               a duplicate or out-of-sequence token is an error
 *   W <data>    gss_wrap with conf;  answers "OK <token>"
 *
 * Errors are answered as "ERR <text>". Keytab and configuration come from
 * KRB5_KTNAME and KRB5_CONFIG.
 */
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *unhex(const char *s, size_t *n) {
    if (strcmp(s, "-") == 0) { *n = 0; return calloc(1, 1); }
    size_t l = strlen(s) / 2;
    unsigned char *b = malloc(l + 1);
    for (size_t i = 0; i < l; i++) { unsigned int v; sscanf(s + 2 * i, "%2x", &v); b[i] = (unsigned char)v; }
    *n = l;
    return b;
}

static void puthex(const void *p, size_t n) {
    const unsigned char *b = p;
    if (n == 0) { fputs("-", stdout); return; }
    for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
}

static void err(const char *what, OM_uint32 maj, OM_uint32 min) {
    OM_uint32 m, ctx = 0;
    gss_buffer_desc s;
    printf("ERR %s major=%u minor=%u", what, maj, min);
    gss_display_status(&m, maj, GSS_C_GSS_CODE, GSS_C_NO_OID, &ctx, &s);
    printf(" %.*s", (int)s.length, (char *)s.value);
    gss_release_buffer(&m, &s);
    ctx = 0;
    gss_display_status(&m, min, GSS_C_MECH_CODE, GSS_C_NO_OID, &ctx, &s);
    printf(" / %.*s\n", (int)s.length, (char *)s.value);
    gss_release_buffer(&m, &s);
    fflush(stdout);
}

int main(void) {
    static char line[1 << 22];
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        char *cmd = strtok(line, " ");
        char *a1 = strtok(NULL, " ");
        char *a2 = strtok(NULL, " ");
        if (!cmd || !a1) { printf("ERR bad command\n"); fflush(stdout); continue; }
        OM_uint32 maj, min, flags = 0;
        size_t n;
        unsigned char *data = unhex(a1, &n);
        gss_buffer_desc in = {n, data}, out = {0, NULL};
        if (strcmp(cmd, "A") == 0) {
            struct gss_channel_bindings_struct cb;
            gss_channel_bindings_t cbp = GSS_C_NO_CHANNEL_BINDINGS;
            unsigned char *app = NULL;
            if (a2 && strcmp(a2, "-") != 0) {
                size_t an;
                app = unhex(a2, &an);
                memset(&cb, 0, sizeof cb);
                cb.application_data.length = an;
                cb.application_data.value = app;
                cbp = &cb;
            }
            maj = gss_accept_sec_context(&min, &ctx, GSS_C_NO_CREDENTIAL, &in, cbp, NULL, NULL, &out, &flags, NULL, NULL);
            free(app);
            if (GSS_ERROR(maj)) { err("accept", maj, min); }
            else { printf("OK "); puthex(out.value, out.length); printf(" %u\n", flags); fflush(stdout); }
        } else if (strcmp(cmd, "U") == 0) {
            int conf = 0;
            maj = gss_unwrap(&min, ctx, &in, &out, &conf, NULL);
            /* Supplementary bits (duplicate, old, gap tokens) count as
             * failures here. */
            if (maj != GSS_S_COMPLETE) err("unwrap", maj, min);
            else { printf("OK "); puthex(out.value, out.length); printf(" %d\n", conf); fflush(stdout); }
        } else if (strcmp(cmd, "W") == 0) {
            int conf = 0;
            maj = gss_wrap(&min, ctx, 1, GSS_C_QOP_DEFAULT, &in, &conf, &out);
            if (GSS_ERROR(maj)) err("wrap", maj, min);
            else { printf("OK "); puthex(out.value, out.length); printf("\n"); fflush(stdout); }
        } else {
            printf("ERR unknown command\n"); fflush(stdout);
        }
        if (out.value) gss_release_buffer(&min, &out);
        free(data);
    }
    return 0;
}
