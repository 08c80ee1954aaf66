/* Memory hog for OOM scenarios: touch anonymous memory until killed. */
#include <stdlib.h>
#include <string.h>
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
		memset(p, 0x5a, chunk);
		if (++mib % 16 == 0) {
			printf("hog: %lu MiB\n", mib);
			fflush(stdout);
		}
	}
}
