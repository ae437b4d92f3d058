/*
 * paths: the layout of a state dir, shared by cohortctl (which creates it)
 * and cohortd (which uses it). Every path is relative to state_dir.
 */
#ifndef COHORT_PATHS_H
#define COHORT_PATHS_H

#define PATH_CONF "cohortd.conf"
#define PATH_TLS_DIR "tls"
#define PATH_TLS_CERT "tls/cert.pem" /* the daemon's own certificate */
#define PATH_TLS_KEY "tls/key.pem" /* its key, mode 0600 */
#define PATH_TLS_CA "tls/ca.crt" /* the CA it trusts */
#define PATH_CA_KEY "tls/ca.key" /* master only: the CA key, 0600 */
#define PATH_PORT "port" /* master: the bound port */
#define PATH_ADMIN_DIR "admin" /* master: the admin client files */
#define PATH_ADMIN_PROFILE "admin.conf"
#define PATH_TARGET_STORE "target.db" /* target: the local store */

#endif
