// libpng 1.6 (Debian's libpng-dev): its simplified reading API decodes PNG photos for the teaching library.
#include <png.h>
