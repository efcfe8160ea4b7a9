/*
 * recover.c: `tsfile recover FILE`: repairs a TsFile that was never closed.
 * Keeps every complete chunk group, truncates the torn rest, and writes a
 * fresh index so the file is complete again.  Says what it kept.
 */
#include <inttypes.h>
#include <stdio.h>

#include "tool.h"
#include "writer.h"

int cmd_recover(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: tsfile recover FILE\n", stderr);
        return 2;
    }
    TsfWriter *w;
    TsfRecoverInfo info;
    TsfErr err = {0};
    int rc = tsf_writer_recover(argv[1], NULL, &w, &info, &err);
    if (rc) return tool_fail(argv[1], &err, rc);
    rc = tsf_writer_close(w);
    if (rc) return tool_fail(argv[1], NULL, rc);
    printf("%s: kept the first %" PRIu64 " bytes of data and wrote a new index\n", argv[1], info.kept_bytes);
    return 0;
}
