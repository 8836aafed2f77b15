/* pcm-segv: writes through a bad pointer; the kernel delivers SIGSEGV and the shell reports it. */
#include <stdint.h>
#include <stdio.h>

/* volatile: the compiler cannot see that the address is bad, so the store really happens */
static volatile uintptr_t bad_address = 16; /* the first page is never mapped */

int main(void)
{
    volatile int *bad = (volatile int *)bad_address;
    printf("pcm-segv: writing to address %p\n", (void *)bad);
    fflush(stdout);
    *bad = 42;
    printf("pcm-segv: still alive, which is wrong\n");
    return 1;
}
