// glibc's malloc tuning (malloc_trim, mallopt): <malloc.h> is not in Swift's Glibc module.
#include <malloc.h>
