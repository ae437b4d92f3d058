/*
 * statedir: creating state dirs and the files in them for cohortctl's
 * master init and enlist: folders with mode 0700, text files written
 * through a temporary file renamed into place, and the undo of a half-made
 * state dir when a later step fails.
 */
#ifndef COHORT_STATEDIR_H
#define COHORT_STATEDIR_H

#include <stddef.h>

#include "common/cerr.h"

/* Makes dir (and missing parents) with mode 0700; an existing dir is
 * fine. */
int statedir_mkdir(const char *dir, struct cerr *err);

/* dir/rel into out (size out_size). */
int statedir_path(const char *dir, const char *rel, char *out, size_t out_size,
    struct cerr *err);

/* Writes text to dir/rel with mode, atomically. */
int statedir_write(const char *dir, const char *rel, const char *text, int mode,
    struct cerr *err);

/* Makes dir absolute (realpath of the parent + name) into out. */
int statedir_absolute(
    const char *dir, char *out, size_t out_size, struct cerr *err);

/* Removes the files named in rels (NULL-ended) from dir, ignoring absent
 * ones: the undo of a failed init or enlist. */
void statedir_remove(const char *dir, const char *const *rels);
/* The same, then the directories of those files and dir itself when
 * they are left empty and dir_existed is 0: a failed init or enlist
 * leaves the state directory as it found it. */
void statedir_undo(const char *dir, const char *const *rels, int dir_existed);

#endif
