// libxml2's tree API for reading Moodle XML. Debian builds libxml2 with ICU, whose headers libxml/encoding.h would
// include and which clash with the ICU copy Foundation carries; Atrium touches no encoding handler (the only structure
// they change), so the ICU part is left out here.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
