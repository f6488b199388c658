// xxHash (Debian's libxxhash-dev): the checksum each blob's provenance carries.
#include <xxhash.h>
