/* OpenSSL (TLS, certificates, hashes, random tokens), loaded with dlopen on first use so that
 * commands which never need it (the OCI runtime, its shim, `minik version`) do not pay for loading
 * and relocating it and its dependency chain (see docs/runtime.md, "Start-up and footprint").
 *
 * Include this header instead of the library's own headers: it includes those first, then
 * redirects each function minik uses to a pointer resolved from libssl.so.3 by
 * minik_openssl_api(), so call sites stay ordinary library calls. A function missing
 * from MINIK_OPENSSL_SYMBOLS fails to link, because the binary does not link the library. */
#ifndef MINIK_LAZY_OPENSSL_H
#define MINIK_LAZY_OPENSSL_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* cppcheck (make lint, -D__CPPCHECK__) checks the call sites as the plain library calls
 * they stand for; it cannot follow the typeof-built table. */
#ifndef __CPPCHECK__
#define MINIK_OPENSSL_SONAME "libssl.so.3"

#define MINIK_OPENSSL_SYMBOLS(X)                                                                   \
    X(BIO_ctrl)                                                                                    \
    X(BIO_free)                                                                                    \
    X(BIO_new)                                                                                     \
    X(BIO_read)                                                                                    \
    X(BIO_s_mem)                                                                                   \
    X(BIO_write)                                                                                   \
    X(BN_bin2bn)                                                                                   \
    X(BN_free)                                                                                     \
    X(BN_to_ASN1_INTEGER)                                                                          \
    X(CRYPTO_free)                                                                                 \
    X(CRYPTO_memcmp)                                                                               \
    X(ERR_clear_error)                                                                             \
    X(ERR_error_string_n)                                                                          \
    X(ERR_get_error)                                                                               \
    X(EVP_DecodeBlock)                                                                             \
    X(EVP_Digest)                                                                                  \
    X(EVP_DigestFinal_ex)                                                                          \
    X(EVP_DigestInit_ex)                                                                           \
    X(EVP_DigestUpdate)                                                                            \
    X(EVP_EncodeBlock)                                                                             \
    X(EVP_MD_CTX_free)                                                                             \
    X(EVP_MD_CTX_new)                                                                              \
    X(EVP_PKEY_Q_keygen)                                                                           \
    X(EVP_PKEY_free)                                                                               \
    X(EVP_sha256)                                                                                  \
    X(OPENSSL_cleanse)                                                                             \
    X(PEM_read_PrivateKey)                                                                         \
    X(PEM_read_X509)                                                                               \
    X(PEM_write_bio_PrivateKey)                                                                    \
    X(PEM_write_bio_X509)                                                                          \
    X(RAND_bytes)                                                                                  \
    X(SSL_CTX_check_private_key)                                                                   \
    X(SSL_CTX_ctrl)                                                                                \
    X(SSL_CTX_free)                                                                                \
    X(SSL_CTX_new)                                                                                 \
    X(SSL_CTX_use_PrivateKey)                                                                      \
    X(SSL_CTX_use_PrivateKey_file)                                                                 \
    X(SSL_CTX_use_certificate)                                                                     \
    X(SSL_CTX_use_certificate_chain_file)                                                          \
    X(SSL_free)                                                                                    \
    X(SSL_get_error)                                                                               \
    X(SSL_is_init_finished)                                                                        \
    X(SSL_new)                                                                                     \
    X(SSL_read)                                                                                    \
    X(SSL_set_accept_state)                                                                        \
    X(SSL_set_bio)                                                                                 \
    X(SSL_shutdown)                                                                                \
    X(SSL_write)                                                                                   \
    X(TLS_server_method)                                                                           \
    X(X509V3_EXT_conf_nid)                                                                         \
    X(X509V3_set_ctx)                                                                              \
    X(X509_EXTENSION_free)                                                                         \
    X(X509_NAME_add_entry_by_txt)                                                                  \
    X(X509_add_ext)                                                                                \
    X(X509_check_host)                                                                             \
    X(X509_check_ip_asc)                                                                           \
    X(X509_free)                                                                                   \
    X(X509_get_serialNumber)                                                                       \
    X(X509_get_subject_name)                                                                       \
    X(X509_getm_notAfter)                                                                          \
    X(X509_getm_notBefore)                                                                         \
    X(X509_gmtime_adj)                                                                             \
    X(X509_new)                                                                                    \
    X(X509_set_issuer_name)                                                                        \
    X(X509_set_pubkey)                                                                             \
    X(X509_set_version)                                                                            \
    X(X509_sign)                                                                                   \
    X(i2d_PUBKEY)
typedef struct minik_openssl_api {
#define MINIK_LAZY_MEMBER(name) __typeof__(name) *name;
    MINIK_OPENSSL_SYMBOLS(MINIK_LAZY_MEMBER)
#undef MINIK_LAZY_MEMBER
} minik_openssl_api_t;

/* The resolved functions; loads libssl.so.3 on the first call (thread-safe). A library
 * that cannot be loaded is an installation error: the process reports which library and
 * why on stderr and aborts, like an allocation failure. */
const minik_openssl_api_t *minik_openssl_api(void);

#undef BIO_ctrl
#define BIO_ctrl(...) (minik_openssl_api()->BIO_ctrl(__VA_ARGS__))
#undef BIO_free
#define BIO_free(...) (minik_openssl_api()->BIO_free(__VA_ARGS__))
#undef BIO_new
#define BIO_new(...) (minik_openssl_api()->BIO_new(__VA_ARGS__))
#undef BIO_read
#define BIO_read(...) (minik_openssl_api()->BIO_read(__VA_ARGS__))
#undef BIO_s_mem
#define BIO_s_mem(...) (minik_openssl_api()->BIO_s_mem(__VA_ARGS__))
#undef BIO_write
#define BIO_write(...) (minik_openssl_api()->BIO_write(__VA_ARGS__))
#undef BN_bin2bn
#define BN_bin2bn(...) (minik_openssl_api()->BN_bin2bn(__VA_ARGS__))
#undef BN_free
#define BN_free(...) (minik_openssl_api()->BN_free(__VA_ARGS__))
#undef BN_to_ASN1_INTEGER
#define BN_to_ASN1_INTEGER(...) (minik_openssl_api()->BN_to_ASN1_INTEGER(__VA_ARGS__))
#undef CRYPTO_memcmp
#define CRYPTO_memcmp(...) (minik_openssl_api()->CRYPTO_memcmp(__VA_ARGS__))
#undef ERR_clear_error
#define ERR_clear_error(...) (minik_openssl_api()->ERR_clear_error(__VA_ARGS__))
#undef ERR_error_string_n
#define ERR_error_string_n(...) (minik_openssl_api()->ERR_error_string_n(__VA_ARGS__))
#undef ERR_get_error
#define ERR_get_error(...) (minik_openssl_api()->ERR_get_error(__VA_ARGS__))
#undef EVP_DecodeBlock
#define EVP_DecodeBlock(...) (minik_openssl_api()->EVP_DecodeBlock(__VA_ARGS__))
#undef EVP_Digest
#define EVP_Digest(...) (minik_openssl_api()->EVP_Digest(__VA_ARGS__))
#undef EVP_DigestFinal_ex
#define EVP_DigestFinal_ex(...) (minik_openssl_api()->EVP_DigestFinal_ex(__VA_ARGS__))
#undef EVP_DigestInit_ex
#define EVP_DigestInit_ex(...) (minik_openssl_api()->EVP_DigestInit_ex(__VA_ARGS__))
#undef EVP_DigestUpdate
#define EVP_DigestUpdate(...) (minik_openssl_api()->EVP_DigestUpdate(__VA_ARGS__))
#undef EVP_EncodeBlock
#define EVP_EncodeBlock(...) (minik_openssl_api()->EVP_EncodeBlock(__VA_ARGS__))
#undef EVP_MD_CTX_free
#define EVP_MD_CTX_free(...) (minik_openssl_api()->EVP_MD_CTX_free(__VA_ARGS__))
#undef EVP_MD_CTX_new
#define EVP_MD_CTX_new(...) (minik_openssl_api()->EVP_MD_CTX_new(__VA_ARGS__))
#undef EVP_PKEY_Q_keygen
#define EVP_PKEY_Q_keygen(...) (minik_openssl_api()->EVP_PKEY_Q_keygen(__VA_ARGS__))
#undef EVP_PKEY_free
#define EVP_PKEY_free(...) (minik_openssl_api()->EVP_PKEY_free(__VA_ARGS__))
#undef EVP_sha256
#define EVP_sha256(...) (minik_openssl_api()->EVP_sha256(__VA_ARGS__))
#undef PEM_read_PrivateKey
#define PEM_read_PrivateKey(...) (minik_openssl_api()->PEM_read_PrivateKey(__VA_ARGS__))
#undef PEM_read_X509
#define PEM_read_X509(...) (minik_openssl_api()->PEM_read_X509(__VA_ARGS__))
#undef PEM_write_bio_PrivateKey
#define PEM_write_bio_PrivateKey(...) (minik_openssl_api()->PEM_write_bio_PrivateKey(__VA_ARGS__))
#undef PEM_write_bio_X509
#define PEM_write_bio_X509(...) (minik_openssl_api()->PEM_write_bio_X509(__VA_ARGS__))
#undef RAND_bytes
#define RAND_bytes(...) (minik_openssl_api()->RAND_bytes(__VA_ARGS__))
#undef SSL_CTX_check_private_key
#define SSL_CTX_check_private_key(...) (minik_openssl_api()->SSL_CTX_check_private_key(__VA_ARGS__))
#undef SSL_CTX_ctrl
#define SSL_CTX_ctrl(...) (minik_openssl_api()->SSL_CTX_ctrl(__VA_ARGS__))
#undef SSL_CTX_free
#define SSL_CTX_free(...) (minik_openssl_api()->SSL_CTX_free(__VA_ARGS__))
#undef SSL_CTX_new
#define SSL_CTX_new(...) (minik_openssl_api()->SSL_CTX_new(__VA_ARGS__))
#undef SSL_CTX_use_PrivateKey_file
#define SSL_CTX_use_PrivateKey_file(...)                                                           \
    (minik_openssl_api()->SSL_CTX_use_PrivateKey_file(__VA_ARGS__))
#undef SSL_CTX_use_certificate_chain_file
#define SSL_CTX_use_certificate_chain_file(...)                                                    \
    (minik_openssl_api()->SSL_CTX_use_certificate_chain_file(__VA_ARGS__))
#undef SSL_free
#define SSL_free(...) (minik_openssl_api()->SSL_free(__VA_ARGS__))
#undef SSL_get_error
#define SSL_get_error(...) (minik_openssl_api()->SSL_get_error(__VA_ARGS__))
#undef SSL_is_init_finished
#define SSL_is_init_finished(...) (minik_openssl_api()->SSL_is_init_finished(__VA_ARGS__))
#undef SSL_new
#define SSL_new(...) (minik_openssl_api()->SSL_new(__VA_ARGS__))
#undef SSL_read
#define SSL_read(...) (minik_openssl_api()->SSL_read(__VA_ARGS__))
#undef SSL_set_accept_state
#define SSL_set_accept_state(...) (minik_openssl_api()->SSL_set_accept_state(__VA_ARGS__))
#undef SSL_set_bio
#define SSL_set_bio(...) (minik_openssl_api()->SSL_set_bio(__VA_ARGS__))
#undef SSL_shutdown
#define SSL_shutdown(...) (minik_openssl_api()->SSL_shutdown(__VA_ARGS__))
#undef SSL_write
#define SSL_write(...) (minik_openssl_api()->SSL_write(__VA_ARGS__))
#undef TLS_server_method
#define TLS_server_method(...) (minik_openssl_api()->TLS_server_method(__VA_ARGS__))
#undef X509V3_EXT_conf_nid
#define X509V3_EXT_conf_nid(...) (minik_openssl_api()->X509V3_EXT_conf_nid(__VA_ARGS__))
#undef X509V3_set_ctx
#define X509V3_set_ctx(...) (minik_openssl_api()->X509V3_set_ctx(__VA_ARGS__))
#undef X509_EXTENSION_free
#define X509_EXTENSION_free(...) (minik_openssl_api()->X509_EXTENSION_free(__VA_ARGS__))
#undef X509_NAME_add_entry_by_txt
#define X509_NAME_add_entry_by_txt(...)                                                            \
    (minik_openssl_api()->X509_NAME_add_entry_by_txt(__VA_ARGS__))
#undef X509_add_ext
#define X509_add_ext(...) (minik_openssl_api()->X509_add_ext(__VA_ARGS__))
#undef X509_check_host
#define X509_check_host(...) (minik_openssl_api()->X509_check_host(__VA_ARGS__))
#undef X509_check_ip_asc
#define X509_check_ip_asc(...) (minik_openssl_api()->X509_check_ip_asc(__VA_ARGS__))
#undef X509_free
#define X509_free(...) (minik_openssl_api()->X509_free(__VA_ARGS__))
#undef X509_get_serialNumber
#define X509_get_serialNumber(...) (minik_openssl_api()->X509_get_serialNumber(__VA_ARGS__))
#undef X509_get_subject_name
#define X509_get_subject_name(...) (minik_openssl_api()->X509_get_subject_name(__VA_ARGS__))
#undef X509_getm_notAfter
#define X509_getm_notAfter(...) (minik_openssl_api()->X509_getm_notAfter(__VA_ARGS__))
#undef X509_getm_notBefore
#define X509_getm_notBefore(...) (minik_openssl_api()->X509_getm_notBefore(__VA_ARGS__))
#undef X509_gmtime_adj
#define X509_gmtime_adj(...) (minik_openssl_api()->X509_gmtime_adj(__VA_ARGS__))
#undef X509_new
#define X509_new(...) (minik_openssl_api()->X509_new(__VA_ARGS__))
#undef X509_set_issuer_name
#define X509_set_issuer_name(...) (minik_openssl_api()->X509_set_issuer_name(__VA_ARGS__))
#undef X509_set_pubkey
#define X509_set_pubkey(...) (minik_openssl_api()->X509_set_pubkey(__VA_ARGS__))
#undef X509_set_version
#define X509_set_version(...) (minik_openssl_api()->X509_set_version(__VA_ARGS__))
#undef X509_sign
#define X509_sign(...) (minik_openssl_api()->X509_sign(__VA_ARGS__))
#undef i2d_PUBKEY
#define i2d_PUBKEY(...) (minik_openssl_api()->i2d_PUBKEY(__VA_ARGS__))
#undef CRYPTO_free
#define CRYPTO_free(...) (minik_openssl_api()->CRYPTO_free(__VA_ARGS__))
#undef SSL_CTX_use_certificate
#define SSL_CTX_use_certificate(...) (minik_openssl_api()->SSL_CTX_use_certificate(__VA_ARGS__))
#undef SSL_CTX_use_PrivateKey
#define SSL_CTX_use_PrivateKey(...) (minik_openssl_api()->SSL_CTX_use_PrivateKey(__VA_ARGS__))
#undef OPENSSL_cleanse
#define OPENSSL_cleanse(...) (minik_openssl_api()->OPENSSL_cleanse(__VA_ARGS__))
#endif

#endif
