/* The floor for reading secret files: what any entrypoint must do to read N files and
 * start a program, with nothing else (no parsing, no checks, no environment): for each
 * name in NAMES (one a line), open DIR/name, fstat it, read it, close it; then execv
 * the command. bench/run.sh times it beside sesame, so the table shows how much of
 * sesame's time is the kernel's (a system call is not free in a virtual machine).
 *
 *   floor NAMES DIR COMMAND [ARG]...
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: floor NAMES DIR COMMAND [ARG]...\n");
        return 64;
    }
    FILE *names = fopen(argv[1], "r");
    if (!names) {
        perror(argv[1]);
        return 66;
    }
    char name[4096], path[8192], buf[4096];
    while (fgets(name, sizeof name, names)) {
        name[strcspn(name, "\n")] = 0;
        snprintf(path, sizeof path, "%s/%s", argv[2], name);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || read(fd, buf, sizeof buf) < 0) {
            perror(path);
            return 78;
        }
        close(fd);
    }
    fclose(names);
    execv(argv[3], argv + 3);
    perror(argv[3]);
    return 127;
}
