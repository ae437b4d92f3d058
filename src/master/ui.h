/*
 * ui: the web dashboard's files (ui/ in the source tree), compiled into
 * the master by cmake/embed_ui.cmake and served under /ui/ (api_ui.c).
 */
#ifndef COHORT_UI_H
#define COHORT_UI_H

#include <stddef.h>

struct ui_asset {
	const char *name; /* "app.js": a file name, no folders */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

/* Every file, ended by a NULL name (generated: ui_assets.c). */
extern const struct ui_asset ui_assets[];

/* The file called name, or NULL. */
const struct ui_asset *ui_asset_find(const char *name);

#endif
