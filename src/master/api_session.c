/*
 * api_session: who the caller is, and the CA certificate for enlisting
 * targets (public: they check it against the fingerprint in their token).
 */
#include "master/api.h"
#include "master/master.h"

void
api_whoami(struct http_req *r)
{
	http_reply_json(r, 200,
	    json_pack("{s:s,s:s,s:s}", "name", r->caller.id.name, "role",
		r->caller.id.role, "serial", r->caller.id.serial_hex));
}

void
api_ca(struct http_req *r)
{
	http_reply_json(r, 200,
	    json_pack("{s:s,s:s}", "ca", r->m->ca_pem, "fingerprint",
		r->m->ca_fingerprint));
}
