/*
 * evbase: an event loop with libevent flags that change how it works but
 * not what it does, so a loop without them is an acceptable fallback.
 */
#ifndef COHORT_EVBASE_H
#define COHORT_EVBASE_H

#include <event2/event.h>

/* A loop with flags (EVENT_BASE_FLAG_*); where libevent or the backend
 * refuses them, a plain loop. NULL only when no loop can be made. */
struct event_base *evbase_new(int flags);

#endif
