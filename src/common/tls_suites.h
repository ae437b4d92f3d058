/*
 * tls_suites: the cipher suites a master accepts, shared by the master's
 * server context and the clients that talk only to a master (targets,
 * the fleet simulator).
 *
 * TLS 1.2: ECDHE with AES-GCM or ChaCha20 only. TLS 1.3: ChaCha20-Poly1305
 * first, because its cipher state is the smaller: a master keeps two (one
 * each way) for every held long-poll, about 400 bytes less per idle target
 * than AES-256-GCM's (docs/architecture.md, "Memory per idle target"). The
 * AES suites stay for peers that lack ChaCha20 (a FIPS provider).
 */
#ifndef COHORT_TLS_SUITES_H
#define COHORT_TLS_SUITES_H

#define TLS_SUITES_TLS12                                                       \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"         \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"           \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"

#define TLS_SUITES_TLS13                                                       \
	"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:"                 \
	"TLS_AES_128_GCM_SHA256"

#endif
