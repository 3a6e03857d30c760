#include "apiserver/pki.h"
#include "apiserver/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define VALID_SECONDS (10L * 365 * 24 * 3600)

static void pkey_freep(EVP_PKEY **k)
{
    EVP_PKEY_free(*k);
}
static void x509_freep(X509 **x)
{
    X509_free(*x);
}
#define cleanup_pkey __attribute__((cleanup(pkey_freep)))
#define cleanup_x509 __attribute__((cleanup(x509_freep)))

static int write_pem(const char *path, EVP_PKEY *key, X509 *cert, minik_error_t **err)
{
    BIO *b = BIO_new(BIO_s_mem());
    int ok = key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_bio_X509(b, cert);
    if (!ok) {
        BIO_free(b);
        return minik_tls_error(err, "encode PEM");
    }
    char *data = NULL;
    long len = BIO_get_mem_data(b, &data);
    int r = minik_file_write_atomic(path, data, (size_t)len, key ? 0600 : 0644, err);
    BIO_free(b);
    return r;
}

/* The one PEM object at `path`: a certificate into *cert when cert is set, else a private key
 * into *key (write_pem's mirror). */
static int read_pem(const char *path, X509 **cert, EVP_PKEY **key, minik_error_t **err)
{
    cleanup_fclose FILE *f = fopen(path, "r");
    if (!f)
        return minik_error_set(err, errno, "open \"%s\"", path);
    bool ok = cert ? (*cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL
                   : (*key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) != NULL;
    if (!ok)
        return minik_tls_error(err, path);
    return 0;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value, minik_error_t **err)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex)
        return minik_tls_error(err, value);
    X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return 0;
}

/* A new certificate for `key`, signed by issuer_key (self-signed when issuer is NULL). */
static int make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                     const char *san, X509 **out, minik_error_t **err)
{
    cleanup_x509 X509 *x = X509_new();
    X509_set_version(x, 2);
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        return minik_tls_error(err, "RAND_bytes");
    serial[0] &= 0x7f; /* serials are positive */
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600); /* tolerate small clock skew */
    X509_gmtime_adj(X509_getm_notAfter(x), VALID_SECONDS);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : x;
    int r;
    if (!issuer) {
        if ((r = add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE", err)) < 0 ||
            (r = add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature",
                         err)) < 0 ||
            (r = add_ext(x, iss, NID_subject_key_identifier, "hash", err)) < 0)
            return r;
    } else {
        if ((r = add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE", err)) < 0 ||
            (r = add_ext(x, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment", err)) <
                0 ||
            (r = add_ext(x, iss, NID_ext_key_usage, "serverAuth", err)) < 0 ||
            (r = add_ext(x, iss, NID_authority_key_identifier, "keyid", err)) < 0 ||
            (r = add_ext(x, iss, NID_subject_alt_name, san, err)) < 0)
            return r;
    }
    if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
        return minik_tls_error(err, "sign certificate");
    *out = steal_pointer(&x);
    return 0;
}

static bool is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool cert_covers(X509 *cert, char *const *names)
{
    for (size_t i = 0; names[i]; i++) {
        int ok = is_ip(names[i]) ? X509_check_ip_asc(cert, names[i], 0)
                                 : X509_check_host(cert, names[i], 0, 0, NULL);
        if (ok != 1)
            return false;
    }
    return true;
}

void minik_pki_paths_free(minik_pki_paths_t *p)
{
    free(p->ca_cert);
    free(p->ca_key);
    free(p->server_cert);
    free(p->server_key);
    memset(p, 0, sizeof(*p));
}

int minik_pki_ensure(const char *data_dir, char *const *sans, minik_pki_paths_t *paths,
                     minik_error_t **err)
{
    cleanup_free char *dir = xasprintf("%s/tls", data_dir);
    int r = minik_mkdir_p(dir, 0700, err);
    if (r < 0)
        return r;
    paths->ca_cert = xasprintf("%s/ca.crt", dir);
    paths->ca_key = xasprintf("%s/ca.key", dir);
    paths->server_cert = xasprintf("%s/server.crt", dir);
    paths->server_key = xasprintf("%s/server.key", dir);

    cleanup_pkey EVP_PKEY *ca_key = NULL;
    cleanup_x509 X509 *ca = NULL;
    if (access(paths->ca_cert, F_OK) == 0) {
        if ((r = read_pem(paths->ca_cert, &ca, NULL, err)) < 0 ||
            (r = read_pem(paths->ca_key, NULL, &ca_key, err)) < 0)
            return minik_error_wrap(err, "load cluster CA");
    } else {
        ca_key = EVP_EC_gen("P-256");
        if (!ca_key)
            return minik_tls_error(err, "generate CA key");
        if ((r = make_cert(ca_key, "minik-ca", NULL, NULL, NULL, &ca, err)) < 0 ||
            (r = write_pem(paths->ca_key, ca_key, NULL, err)) < 0 ||
            (r = write_pem(paths->ca_cert, NULL, ca, err)) < 0)
            return r;
    }

    /* The names the server certificate must carry. */
    char host[256] = "localhost";
    if (gethostname(host, sizeof(host) - 1) != 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = '\0';
    size_t n_extra = sans ? minik_strv_len(sans) : 0;
    cleanup_strv char **names = xcalloc(n_extra + 5, sizeof(char *));
    size_t n = 0;
    names[n++] = xstrdup(host);
    names[n++] = xstrdup("localhost");
    names[n++] = xstrdup("127.0.0.1");
    names[n++] = xstrdup("::1");
    for (size_t i = 0; i < n_extra; i++) {
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp(names[k], sans[i]) == 0;
        if (!dup)
            names[n++] = xstrdup(sans[i]);
    }

    if (access(paths->server_cert, F_OK) == 0 && access(paths->server_key, F_OK) == 0) {
        cleanup_x509 X509 *cur = NULL;
        if ((r = read_pem(paths->server_cert, &cur, NULL, err)) < 0)
            return minik_error_wrap(err, "load server certificate");
        if (cert_covers(cur, names))
            return 0;
    }
    cleanup_buf minik_buf_t san = MINIK_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        minik_buf_appendf(&san, "%s%s:%s", i ? "," : "", is_ip(names[i]) ? "IP" : "DNS", names[i]);
    cleanup_pkey EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key)
        return minik_tls_error(err, "generate server key");
    cleanup_x509 X509 *cert = NULL;
    if ((r = make_cert(key, "minik-apiserver", ca, ca_key, san.data, &cert, err)) < 0 ||
        (r = write_pem(paths->server_key, key, NULL, err)) < 0 ||
        (r = write_pem(paths->server_cert, NULL, cert, err)) < 0)
        return r;
    return 0;
}

int minik_pki_self_signed_ctx(const char *cn, SSL_CTX **ctx_out, char **pin, minik_error_t **err)
{
    cleanup_pkey EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key)
        return minik_tls_error(err, "generate a key");
    cleanup_x509 X509 *cert = NULL;
    int r = make_cert(key, cn, NULL, NULL, NULL, &cert, err);
    if (r < 0)
        return r;
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(key, &der);
    if (len <= 0)
        return minik_tls_error(err, "encode the public key");
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    char b64[64];
    EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return minik_tls_error(err, "SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        return minik_tls_error(err, "load the endpoint's key");
    }
    *ctx_out = ctx;
    *pin = xstrdup(b64);
    return 0;
}
