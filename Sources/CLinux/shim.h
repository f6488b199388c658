// C library declarations that Swift's Glibc module does not export: extended attributes (the provenance each blob
// file carries) and mallopt (how the server keeps freed memory for reuse).
#include <sys/xattr.h>
#include <malloc.h>
