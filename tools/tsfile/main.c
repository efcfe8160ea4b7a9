/*
 * main.c: `tsfile`, a command-line tool for TsFiles at rest.
 *
 *   tsfile dump FILE        every point, canonical form (one line each)
 *   tsfile write OUT ...    lines on stdin become a TsFile
 *   tsfile sketch FILE      the file's structure, for humans
 *   tsfile recover FILE     repair a file that was never closed
 *   tsfile check PATH...    verify files (or a whole DATA_DIR) and companions
 *   tsfile import IN.csv    IoTDB CSV (export-csv format) to a TsFile
 *   tsfile export IN.tsfile a TsFile as IoTDB CSV
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

static void usage(FILE *f)
{
    fputs("usage: tsfile dump FILE\n"
          "       tsfile write OUT.tsfile [--aligned] [--page-points N] [--version 3|4]\n"
          "                  [--page-bytes N] [--float-precision N] < lines\n"
          "         (lines: device,measurement,type,encoding,compression,time,value)\n"
          "       tsfile sketch FILE\n"
          "       tsfile recover FILE   (truncate an unclosed file to its last complete\n"
          "                              chunk group and close it)\n"
          "       tsfile check [-v] PATH...\n"
          "         (PATH: a TsFile or a directory, e.g. a tsfs DATA_DIR; one line per fault,\n"
          "          exit 0 clean, 1 faults, 2 usage)\n"
          "       tsfile import [-o OUT.tsfile] [--device DEV] [--types S=TYPE,...] IN.csv\n"
          "         (IoTDB CSV: Time,root.sg.d1.s1,... or Time,Device,s1,...; a column may say\n"
          "          its type, root.sg.d1.s1(INT64); other types are inferred as IoTDB's\n"
          "          import-csv does: true/false BOOLEAN, integers up to 2^24 and decimals\n"
          "          FLOAT, larger integers and NaN DOUBLE, anything else TEXT)\n"
          "       tsfile export [-o OUT.csv] [--time-format ms|iso] [--with-types] IN.tsfile\n",
          f);
}

int tool_fail(const char *file, const TsfErr *err, int rc)
{
    if (err && err->code) {
        if (err->offset >= 0)
            fprintf(stderr, "tsfile: %s: %s (at offset %lld)\n", file, err->msg, (long long)err->offset);
        else
            fprintf(stderr, "tsfile: %s: %s\n", file, err->msg);
    } else {
        fprintf(stderr, "tsfile: %s: %s\n", file, tsf_strerror(rc));
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    /* `tsfile CMD --help`: the usage, for every command */
    if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "dump") == 0) return cmd_dump(argc - 1, argv + 1);
    if (strcmp(cmd, "write") == 0) return cmd_write(argc - 1, argv + 1);
    if (strcmp(cmd, "sketch") == 0) return cmd_sketch(argc - 1, argv + 1);
    if (strcmp(cmd, "recover") == 0) return cmd_recover(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0) return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "import") == 0) return cmd_import(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0) return cmd_export(argc - 1, argv + 1);
    fprintf(stderr, "tsfile: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
