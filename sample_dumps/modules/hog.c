/*
 * Memory hog for OOM scenarios: fault in anonymous memory until killed.
 * One byte per page is written: the pages are really allocated, but stay
 * nearly empty so that unfiltered (QEMU) dumps of the guest compress well.
 */
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	size_t chunk = 1 << 20;
	unsigned long mib = 0;

	(void)argc; (void)argv;
	for (;;) {
		char *p = malloc(chunk);
		if (!p) {
			usleep(1000);
			continue;
		}
		for (size_t i = 0; i < chunk; i += 4096)
			p[i] = 0x5a;
		if (++mib % 16 == 0) {
			printf("hog: %lu MiB\n", mib);
			fflush(stdout);
		}
	}
}
