/*
 * tool.h: the subcommands of the `tsfile` command-line tool.
 * Each returns the process exit status (0 success, 1 failure, 2 usage).
 */
#ifndef TSFILE_TOOL_H
#define TSFILE_TOOL_H

#include <stdio.h>

#include "tsf_error.h"
#include "types.h"

int cmd_dump(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_sketch(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* Prints "tsfile: FILE: message (at offset N)" on stderr; returns 1. */
int tool_fail(const char *file, const TsfErr *err, int rc);

/* The type `tsfile import` gives a column from its first value (IoTDB
 * import-csv's inference; a quoted cell is TEXT).  export quotes text that
 * would be read back as another type. */
TsfType tool_infer_type(const char *v, size_t n, bool quoted);

/* Output of canonical dump values (shared by dump and tests of write). */
void tool_put_escaped(FILE *out, const unsigned char *s, size_t n);

#endif
