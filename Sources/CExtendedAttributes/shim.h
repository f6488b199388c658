// Extended attributes (fsetxattr, getxattr) from the C library, which Swift's Glibc module does not export.
#include <sys/xattr.h>
