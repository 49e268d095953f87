/* Smoke test: static glibc start-up, malloc, string functions, printf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    char *p = malloc(64);
    strcpy(p, "pagehop");
    printf("hello from %s: argc=%d len=%zu arg0=%s\n", p, argc, strlen(p), argv[0]);
    free(p);
    return 7;
}
