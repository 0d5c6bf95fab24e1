/* Placeholder entry point while the core is being written; replaced by the real main. */
#include <stdio.h>

int main(void)
{
    puts("snapgate " SNAPGATE_VERSION);
    return 0;
}
