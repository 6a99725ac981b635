/*
 * version.c - the linked library's version and the error table.
 */
#include "../neardup.h"

ND_API unsigned nd_version_number(void) { return ND_VERSION_NUMBER; }

ND_API const char *nd_version_string(void) { return ND_VERSION_STRING; }

ND_API const char *nd_strerror(int code)
{
    switch (code) {
    case ND_OK: return "no error";
    case ND_ERR_NOMEM: return "out of memory";
    case ND_ERR_PARAM: return "invalid parameter";
    case ND_ERR_IO: return "input/output error";
    case ND_ERR_DATA: return "malformed input record";
    case ND_ERR_UTF8: return "invalid UTF-8";
    case ND_ERR_BINARY: return "binary file skipped";
    case ND_ERR_STATE: return "call does not fit the handle's state";
    case ND_ERR_FORMAT: return "not a neardup index, or a newer format";
    case ND_ERR_MISMATCH: return "index made with other parameters";
    case ND_ERR_CORRUPT: return "index file truncated or damaged";
    case ND_ERR_NOTFOUND: return "not found";
    case ND_ERR_EXISTS: return "id already indexed";
    default: return "unknown error";
    }
}
