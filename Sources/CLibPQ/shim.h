#ifndef WELFARE_POSTS_CLIBPQ_SHIM_H
#define WELFARE_POSTS_CLIBPQ_SHIM_H
#include <libpq-fe.h>

/* Swift does not import libpq's single-character field-code macros; re-export them. */
static const int WP_DIAG_SQLSTATE = PG_DIAG_SQLSTATE;
static const int WP_DIAG_MESSAGE_PRIMARY = PG_DIAG_MESSAGE_PRIMARY;
static const int WP_DIAG_MESSAGE_DETAIL = PG_DIAG_MESSAGE_DETAIL;
static const int WP_DIAG_MESSAGE_HINT = PG_DIAG_MESSAGE_HINT;
static const int WP_DIAG_CONSTRAINT_NAME = PG_DIAG_CONSTRAINT_NAME;
static const int WP_DIAG_TABLE_NAME = PG_DIAG_TABLE_NAME;
static const int WP_DIAG_COLUMN_NAME = PG_DIAG_COLUMN_NAME;
#endif
